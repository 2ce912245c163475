//! Deadlines side by side: a `with_timeout` token (an entry in the process timer) against
//! `tokio::time::timeout` (an entry in the runtime's timer wheel), and the whole timed wait,
//! `cancellable_wait_timeout` against `tokio::time::timeout(d, token.cancelled())`.
//!
//! tokio registers a timer entry only when the `Timeout` is first polled, so each tokio case is
//! measured both ways: `setup` (create + drop: no timer touched) and `armed` (create + one poll +
//! drop: registered and removed, like ours). Ratios: `python3 benches/ratios.py`.
//!
//! How cost grows with work: `timeout_create_drop/ours_1m_pending` makes and drops a deadline
//! token while 1,000,000 others are pending, and `ours_owned_name` one whose parent's name was
//! made at run time. `timeout_two_threads` times two threads making and dropping timeouts at once
//! (ours: `with_timeout` tokens; tokio: armed `timeout`s on a 2-worker runtime, one task per
//! worker), per pair of operations, and `timed_waits_two_threads` two threads making, polling and
//! dropping timed waits on one shared token at once, the same way. `timed_wait_ready` is a timed
//! wait whose work is ready at its first poll, against tokio's timeout around tokio-util's
//! `run_until_cancelled`. `accuracy` is printed, not timed by criterion: how late 10,000
//! deadlines 10 to 60 ms out (further, if making them took longer) fire (p50, p99, max), seen by a
//! thread waiting on each.
//!
//! Under `cargo bench`, the rows are also measured as alternating rounds of ours and tokio's
//! (`support::paired`), printed before criterion's figures: medians and the median of the
//! per-round ratios, steadier than criterion's ratio on a machine whose speed drifts. The floors
//! are measured against tokio in the same way.
//!
//! Run: `cargo bench --bench deadline`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use cancel_token::CancelToken;
use criterion::{Criterion, criterion_group, criterion_main};
use tokio_util::sync::CancellationToken;

mod support;
use support::bare::BareToken;

const FAR: Duration = Duration::from_secs(3600);

/// Polls `future` once, with a waker that does nothing, and drops it: it must stay pending.
fn poll_once<F: Future>(future: F) {
    assert!(
        !polled_ready(future),
        "the benchmarked future must stay pending"
    );
}

/// Polls `future` once, as `poll_once` does: it must be ready at once.
fn ready_once<F: Future>(future: F) {
    assert!(
        polled_ready(future),
        "the benchmarked future must be ready at once"
    );
}

fn polled_ready<F: Future>(future: F) -> bool {
    pin!(future)
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready()
}

/// One `with_timeout` token made and dropped.
fn ours_timeout(root: &CancelToken) {
    drop(black_box(root.with_timeout(FAR)));
}

/// One `tokio::time::timeout` made, polled once (which registers it in the timer) and dropped.
fn tokio_armed_timeout() {
    poll_once(tokio::time::timeout(FAR, std::future::pending::<()>()));
}

/// The least a deadline token that is its own heap allocation costs, whatever its timer: the
/// token's 64-byte allocation and free, one clock read, and four round trips of an uncontended std
/// `Mutex` (register with the parent and deregister; insert into a timer and remove). Ours adds the
/// token's node (a second allocation) and the wheel's own work to this.
fn floor_alloc_clock_4locks(parent: &Mutex<usize>, timer: &Mutex<usize>) {
    let token = black_box(Box::new([0_u8; 64]));
    let deadline = black_box(Instant::now()) + FAR;
    *black_box(parent).lock().unwrap() += 1;
    black_box(deadline);
    *black_box(timer).lock().unwrap() += 1;
    *black_box(timer).lock().unwrap() -= 1;
    *black_box(parent).lock().unwrap() -= 1;
    drop(token);
}

/// A lower floor, for another design: a token whose deadline enters a timer only once something
/// observes it (as tokio arms a `Sleep` on its first poll), made and dropped unobserved, still
/// allocates, reads the clock (its deadline counts from its creation) and registers with its
/// parent and deregisters.
fn floor_alloc_clock_2locks(parent: &Mutex<usize>) {
    let token = black_box(Box::new([0_u8; 64]));
    let deadline = black_box(Instant::now()) + FAR;
    *black_box(parent).lock().unwrap() += 1;
    black_box(deadline);
    *black_box(parent).lock().unwrap() -= 1;
    drop(token);
}

/// The least such a lazily armed token costs in safe Rust with std's `Arc`: a bare child
/// (`support::bare`) and the clock read its deadline counts from.
fn floor_bare_arc_clock(parent: &Arc<BareToken>) {
    let token = BareToken::child(parent);
    black_box((&token, black_box(Instant::now()) + FAR));
}

/// The clock read alone, which every deadline counted from now pays, tokio's too.
fn floor_clock() {
    black_box(black_box(Instant::now()) + FAR);
}

/// The least a timed wait of our kind costs, a task woken by its token or by a timer entry: one
/// clock read, and two round trips of an uncontended std `Mutex` for each registration (the
/// token's waiter, the timer's entry), made and removed.
fn floor_clock_4locks(token: &Mutex<usize>, timer: &Mutex<usize>) {
    let deadline = black_box(Instant::now()) + FAR;
    *black_box(token).lock().unwrap() += 1;
    black_box(deadline);
    *black_box(timer).lock().unwrap() += 1;
    *black_box(timer).lock().unwrap() -= 1;
    *black_box(token).lock().unwrap() -= 1;
}

fn ours_timed_wait(token: &CancelToken) {
    poll_once(token.cancellable_wait_timeout(std::future::pending::<()>(), FAR));
}

fn tokio_timed_wait(token: &CancellationToken) {
    poll_once(tokio::time::timeout(FAR, token.cancelled()));
}

/// A timed wait whose work is ready at its first poll (data already there), made, polled once
/// and dropped.
fn ours_timed_ready(token: &CancelToken) {
    ready_once(token.cancellable_wait_timeout(std::future::ready(1), FAR));
}

/// The same with tokio's timeout around tokio-util's race of the work against the token.
fn tokio_timed_ready(token: &CancellationToken) {
    ready_once(tokio::time::timeout(
        FAR,
        token.run_until_cancelled(std::future::ready(1)),
    ));
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
    let (parent, timer) = (Mutex::new(0), Mutex::new(0));
    let bare = BareToken::root();
    let ours = CancelToken::new("ours");
    let theirs = CancellationToken::new();
    if support::benchmarking() {
        single_thread_paired(&root, (&parent, &timer, &bare), &ours, &theirs);
    }

    let mut group = c.benchmark_group("timeout_create_drop");
    group.bench_function("ours", |b| b.iter(|| ours_timeout(&root)));
    // A parent named at run time, as a request or a job often is: its deadline child shares the
    // name (one count update) instead of copying it.
    let named = CancelToken::new(format!("request {}", 12_345));
    group.bench_function("ours_owned_name", |b| b.iter(|| ours_timeout(&named)));
    group.bench_function("tokio_setup", |b| {
        b.iter(|| {
            drop(black_box(tokio::time::timeout(
                FAR,
                std::future::pending::<()>(),
            )))
        })
    });
    group.bench_function("tokio_armed", |b| b.iter(tokio_armed_timeout));
    group.bench_function("floor_alloc_clock_4locks", |b| {
        b.iter(|| floor_alloc_clock_4locks(&parent, &timer))
    });
    group.bench_function("floor_alloc_clock_2locks", |b| {
        b.iter(|| floor_alloc_clock_2locks(&parent))
    });
    group.bench_function("floor_bare_arc_clock", |b| {
        b.iter(|| floor_bare_arc_clock(&bare))
    });
    group.bench_function("floor_clock", |b| b.iter(floor_clock));
    group.finish();

    let mut group = c.benchmark_group("timed_wait_poll_drop");
    group.bench_function("ours", |b| b.iter(|| ours_timed_wait(&ours)));
    group.bench_function("tokio_armed", |b| b.iter(|| tokio_timed_wait(&theirs)));
    group.bench_function("floor_clock_4locks", |b| {
        b.iter(|| floor_clock_4locks(&parent, &timer))
    });
    group.finish();

    let mut group = c.benchmark_group("timed_wait_ready");
    group.bench_function("ours", |b| b.iter(|| ours_timed_ready(&ours)));
    group.bench_function("tokio", |b| b.iter(|| tokio_timed_ready(&theirs)));
    group.finish();
}

/// The single-thread deadline rows again, and their floors, as alternating rounds beside tokio's
/// (`support::paired_ns`), printed as medians and the median of the per-round ratios. Called with
/// `timeout_token`'s runtime entered, which tokio's timeout needs.
fn single_thread_paired(
    root: &CancelToken,
    (parent, timer, bare): (&Mutex<usize>, &Mutex<usize>, &Arc<BareToken>),
    ours: &CancelToken,
    theirs: &CancellationToken,
) {
    let timeout = "timeout_create_drop (vs tokio_armed)";
    let armed = tokio_armed_timeout;
    support::paired_ns(|| ours_timeout(root), armed).print(timeout, "ns");
    support::paired_ns(|| floor_alloc_clock_4locks(parent, timer), armed).print_as(
        timeout,
        "floor_alloc_clock_4locks",
        "ns",
    );
    support::paired_ns(|| floor_alloc_clock_2locks(parent), armed).print_as(
        timeout,
        "floor_alloc_clock_2locks",
        "ns",
    );
    support::paired_ns(|| floor_bare_arc_clock(bare), armed).print_as(
        timeout,
        "floor_bare_arc_clock",
        "ns",
    );
    support::paired_ns(floor_clock, armed).print_as(timeout, "floor_clock", "ns");
    let timed = || tokio_timed_wait(theirs);
    support::paired_ns(|| ours_timed_wait(ours), timed).print("timed_wait_poll_drop", "ns");
    support::paired_ns(|| floor_clock_4locks(parent, timer), timed).print_as(
        "timed_wait_poll_drop",
        "floor_clock_4locks",
        "ns",
    );
    support::paired_ns(|| ours_timed_ready(ours), || tokio_timed_ready(theirs))
        .print("timed_wait_ready", "ns");
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

/// A runtime with two workers, for tokio's side of the two-thread rows.
fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

/// Two tasks on `runtime`'s two workers each doing `operation` `per_task` times, started together;
/// the slower one's time (as `support::Pair::run` for plain threads).
fn two_tasks(
    runtime: &tokio::runtime::Runtime,
    per_task: u64,
    operation: impl Fn() + Clone + Send + 'static,
) -> Duration {
    runtime.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (barrier, operation) = (barrier.clone(), operation.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let start = Instant::now();
                    for _ in 0..per_task {
                        operation();
                    }
                    start.elapsed()
                })
            })
            .collect();
        let mut longest = Duration::ZERO;
        for task in tasks {
            longest = longest.max(task.await.unwrap());
        }
        longest
    })
}

/// A two-thread group (`name`): `ours` on both threads of a `support::Pair`, and
/// `tokio_operation` in two tasks of a 2-worker runtime, per pair of operations; before them,
/// when benchmarking, the same as alternating rounds of `support::ROUND_ITERATIONS` pairs each,
/// and our gain of two threads over one.
fn two_thread_rows(
    c: &mut Criterion,
    name: &str,
    ours: &support::Job,
    tokio_operation: impl Fn() + Clone + Send + 'static,
) {
    let pair = support::Pair::new();
    let runtime = two_workers();
    if support::benchmarking() {
        let pairs = support::ROUND_ITERATIONS;
        let per_pair = |took: Duration| took.as_secs_f64() * 1e9 / f64::from(pairs);
        support::paired(
            support::TWO_THREAD_ROUNDS,
            || per_pair(pair.run(pairs.into(), ours)),
            || per_pair(two_tasks(&runtime, pairs.into(), tokio_operation.clone())),
        )
        .print(&format!("{name} (vs tokio_armed), per pair"), "ns");
        support::paired_gain(&pair, ours).print_gain(&format!("{name} ours"));
    }
    let mut group = c.benchmark_group(name);
    group.bench_function("ours", |b| b.iter_custom(|n| pair.run(n, ours)));
    group.bench_function("tokio_armed", |b| {
        b.iter_custom(|n| two_tasks(&runtime, n, tokio_operation.clone()))
    });
    group.finish();
}

/// Two threads making and dropping timeouts at once, per pair: ours `with_timeout` tokens of one
/// root, tokio's armed `timeout`s.
fn timeout_two_threads(c: &mut Criterion) {
    let root = CancelToken::new("root");
    drop(root.with_timeout(FAR));
    let ours: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            drop(black_box(root.with_timeout(FAR)));
        }
    });
    two_thread_rows(c, "timeout_two_threads", &ours, tokio_armed_timeout);
    if support::benchmarking() {
        // A root named at run time: its deadline children share a counted name (lanes L1).
        let named = CancelToken::new(format!("server {}", 8080));
        let ours_named: support::Job = Arc::new(move |n| {
            for _ in 0..n {
                drop(black_box(named.with_timeout(FAR)));
            }
        });
        support::paired_gain(&support::Pair::new(), &ours_named)
            .print_gain("timeout_two_threads ours_owned_name");
    }
}

/// Two threads each making, polling once and dropping a timed wait on one shared token at once
/// (every request awaiting its work under the shutdown token, with a timeout), per pair.
fn timed_waits_two_threads(c: &mut Criterion) {
    let ours = CancelToken::new("shutdown");
    let theirs = CancellationToken::new();
    let ours_loop: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            ours_timed_wait(&ours);
        }
    });
    two_thread_rows(c, "timed_waits_two_threads", &ours_loop, move || {
        tokio_timed_wait(&theirs)
    });
}

fn accuracy(_: &mut Criterion) {
    const DEADLINES: u64 = 10_000;
    let root = CancelToken::new("root");
    // 10,000 distinct deadlines spread over `first` to `first` + 50 ms (4,999 and 50,000 are
    // coprime), all later than making the tokens takes: a deadline that passed while the tokens
    // were still being made would be seen late by the waiter below, however early the timer fired
    // it. When making them took longer than `first` (a stall of this VM), the tokens are dropped
    // and made again with `first` doubled.
    let mut first = Duration::from_millis(10);
    let (tokens, made) = loop {
        let start = Instant::now();
        let tokens: Vec<_> = (0..DEADLINES)
            .map(|i| {
                let deadline = start + first + Duration::from_micros((i * 4_999) % 50_000);
                (root.with_deadline(deadline), deadline)
            })
            .collect();
        let made = start.elapsed();
        if made < first {
            break (tokens, made);
        }
        first *= 2;
    };
    let mut late: Vec<Duration> = Vec::with_capacity(tokens.len());
    let mut by_deadline: Vec<_> = tokens.iter().collect();
    by_deadline.sort_by_key(|(_, deadline)| *deadline);
    for (token, deadline) in by_deadline {
        token.wait_blocking();
        late.push(Instant::now().saturating_duration_since(*deadline)); // an upper bound: seen by one waiter in turn
    }
    late.sort_unstable();
    let at = |q: f64| late[((late.len() - 1) as f64 * q) as usize];
    println!(
        "accuracy: {DEADLINES} deadlines {first:?} to {:?} out (made in {made:?}) fired late by p50 {:?}, p99 {:?}, max {:?}",
        first + Duration::from_millis(50),
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
    timed_waits_two_threads,
    accuracy
);
criterion_main!(benches);
