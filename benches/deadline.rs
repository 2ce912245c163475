//! Deadlines side by side: a `with_timeout` token (an entry in the process timer) against
//! `tokio::time::timeout` (an entry in the runtime's timer wheel), and the whole timed wait,
//! `cancellable_wait_timeout` against `tokio::time::timeout(d, token.cancelled())`.
//!
//! tokio registers a timer entry only when the `Timeout` is first polled, so each tokio case is
//! measured both ways: `setup` (create + drop: no timer touched) and `armed` (create + one poll +
//! drop: registered and removed, like ours). Ratios: `python3 benches/ratios.py`.
//!
//! How cost grows with work: `timeout_create_drop/ours_1m_pending` makes and drops a deadline
//! token while 1,000,000 others are pending. `timeout_two_threads` times two threads making and
//! dropping timeouts at once (ours: `with_timeout` tokens; tokio: armed `timeout`s on a 2-worker
//! runtime, one task per worker), per pair of operations. `accuracy` is printed, not timed by
//! criterion: how late 10,000 deadlines 1 to 50 ms out fire (p50, p99, max), seen by a thread
//! waiting on each.
//!
//! Run: `cargo bench --bench deadline`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use cancel_token::CancelToken;
use criterion::{Criterion, criterion_group, criterion_main};
use tokio_util::sync::CancellationToken;

mod support;

const FAR: Duration = Duration::from_secs(3600);

fn poll_once<F: Future>(future: F) {
    let mut future = pin!(future);
    let pending = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending();
    assert!(pending, "the benchmarked future must stay pending");
}

fn timeout_token(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let root = CancelToken::new("root");
    // Start the process timer outside the measurement.
    drop(root.with_timeout(FAR));

    let mut group = c.benchmark_group("timeout_create_drop");
    group.bench_function("ours", |b| {
        b.iter(|| drop(black_box(root.with_timeout(FAR))))
    });
    group.bench_function("tokio_setup", |b| {
        b.iter(|| {
            drop(black_box(tokio::time::timeout(
                FAR,
                std::future::pending::<()>(),
            )))
        })
    });
    group.bench_function("tokio_armed", |b| {
        b.iter(|| poll_once(tokio::time::timeout(FAR, std::future::pending::<()>())))
    });
    // The least a deadline token that is its own heap allocation costs, whatever its timer: the
    // token's 64-byte allocation and free, one clock read, and four round trips of an uncontended
    // std `Mutex` (register with the parent and deregister; insert into a timer and remove). Ours
    // adds the token's node (a second allocation) and the wheel's own work to this.
    let parent = std::sync::Mutex::new(0_usize);
    let timer = std::sync::Mutex::new(0_u64);
    group.bench_function("floor_alloc_clock_4locks", |b| {
        b.iter(|| {
            let token = black_box(Box::new([0_u8; 64]));
            let deadline = black_box(std::time::Instant::now()) + FAR;
            *black_box(&parent).lock().unwrap() += 1;
            black_box(deadline);
            *black_box(&timer).lock().unwrap() += 1;
            *black_box(&timer).lock().unwrap() -= 1;
            *black_box(&parent).lock().unwrap() -= 1;
            drop(token);
        })
    });
    group.finish();

    let ours = CancelToken::new("ours");
    let theirs = CancellationToken::new();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once as a smoke
    // test, which the paired rounds are not.
    if std::env::args().any(|arg| arg == "--bench") {
        timed_wait_paired(&ours, &theirs);
    }
    let mut group = c.benchmark_group("timed_wait_poll_drop");
    group.bench_function("ours", |b| {
        b.iter(|| poll_once(ours.cancellable_wait_timeout(std::future::pending::<()>(), FAR)))
    });
    group.bench_function("tokio_armed", |b| {
        b.iter(|| poll_once(tokio::time::timeout(FAR, theirs.cancelled())))
    });
    group.finish();
}

/// `timed_wait_poll_drop` again, as alternating rounds of ours and tokio's (`support::paired`,
/// each round 200,000 iterations), printed as the median of the per-round ratios. Called with
/// `timeout_token`'s runtime entered, which tokio's timeout needs.
fn timed_wait_paired(ours: &CancelToken, theirs: &CancellationToken) {
    const ROUNDS: usize = 20;
    const ITERATIONS: u32 = 200_000;
    let per_iteration = |once: &dyn Fn()| {
        let start = std::time::Instant::now();
        for _ in 0..ITERATIONS {
            once();
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(ITERATIONS)
    };
    support::paired(
        ROUNDS,
        || {
            per_iteration(&|| {
                poll_once(ours.cancellable_wait_timeout(std::future::pending::<()>(), FAR))
            })
        },
        || per_iteration(&|| poll_once(tokio::time::timeout(FAR, theirs.cancelled()))),
    )
    .print("timed_wait_poll_drop", ROUNDS, "ns");
}

fn timeout_with_many_pending(c: &mut Criterion) {
    let root = CancelToken::new("root");
    let pending: Vec<_> = (0..1_000_000).map(|_| root.with_timeout(FAR)).collect();
    let mut group = c.benchmark_group("timeout_create_drop");
    group.bench_function("ours_1m_pending", |b| {
        b.iter(|| drop(black_box(root.with_timeout(FAR))))
    });
    group.finish();
    drop(pending);
}

fn two_threads_tokio(runtime: &tokio::runtime::Runtime, per_thread: u64) -> std::time::Duration {
    runtime.block_on(async {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let start = std::time::Instant::now();
                    for _ in 0..per_thread {
                        poll_once(tokio::time::timeout(FAR, std::future::pending::<()>()));
                    }
                    start.elapsed()
                })
            })
            .collect();
        let mut longest = std::time::Duration::ZERO;
        for task in tasks {
            longest = longest.max(task.await.unwrap());
        }
        longest
    })
}

fn timeout_two_threads(c: &mut Criterion) {
    let root = CancelToken::new("root");
    drop(root.with_timeout(FAR));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("timeout_two_threads");
    // Two threads making and dropping timeout tokens, per pair (see `support::Pair::run`).
    let pair = support::Pair::new();
    let ours: support::Job = std::sync::Arc::new(move |n| {
        for _ in 0..n {
            drop(black_box(root.with_timeout(FAR)));
        }
    });
    group.bench_function("ours", |b| b.iter_custom(|n| pair.run(n, &ours)));
    group.bench_function("tokio_armed", |b| {
        b.iter_custom(|n| two_threads_tokio(&runtime, n))
    });
    group.finish();
}

fn accuracy(_: &mut Criterion) {
    let root = CancelToken::new("root");
    let start = std::time::Instant::now();
    let tokens: Vec<_> = (0..10_000u64)
        .map(|i| {
            let deadline = start + std::time::Duration::from_micros(1_000 + (i * 4_900) % 49_000);
            (root.with_deadline(deadline), deadline)
        })
        .collect();
    let mut late: Vec<std::time::Duration> = Vec::with_capacity(tokens.len());
    let mut by_deadline: Vec<_> = tokens.iter().collect();
    by_deadline.sort_by_key(|(_, deadline)| *deadline);
    for (token, deadline) in by_deadline {
        token.wait_blocking();
        late.push(std::time::Instant::now().saturating_duration_since(*deadline)); // an upper bound: seen by one waiter in turn
    }
    late.sort_unstable();
    let at = |q: f64| late[((late.len() - 1) as f64 * q) as usize];
    println!(
        "accuracy: 10000 deadlines 1-50 ms out fired late by p50 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        late[late.len() - 1]
    );
}

criterion_group!(
    benches,
    timeout_token,
    timeout_with_many_pending,
    timeout_two_threads,
    accuracy
);
criterion_main!(benches);
