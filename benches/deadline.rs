//! Deadlines side by side: a `with_timeout` token (an entry in the process timer) against
//! `tokio::time::timeout` (an entry in the runtime's timer wheel), and the whole timed wait,
//! `cancellable_wait_timeout` against `tokio::time::timeout(d, token.cancelled())`.
//!
//! tokio registers a timer entry only when the `Timeout` is first polled, so each tokio case is
//! measured both ways: `setup` (create + drop: no timer touched) and `armed` (create + one poll +
//! drop: registered and removed, like ours). Ratios: `python3 benches/ratios.py`.
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
    group.finish();

    let ours = CancelToken::new("ours");
    let theirs = CancellationToken::new();
    let mut group = c.benchmark_group("timed_wait_poll_drop");
    group.bench_function("ours", |b| {
        b.iter(|| poll_once(ours.cancellable_wait_timeout(std::future::pending::<()>(), FAR)))
    });
    group.bench_function("tokio_armed", |b| {
        b.iter(|| poll_once(tokio::time::timeout(FAR, theirs.cancelled())))
    });
    group.finish();
}

criterion_group!(benches, timeout_token);
criterion_main!(benches);
