//! The same small service twice: once on tokio-util's `CancellationToken`, once on this crate's
//! `CancelToken` and `Drain`, as docs/migrating-from-tokio-util.md maps them. Each starts three
//! workers under a child token, stops them from a shutdown token, and waits for them.
//!
//! `cargo run --example tokio_util_side_by_side`

use std::time::Duration;

use cancel_token::{CancelToken, Drain, FutureCancelExt};
use tokio_util::future::FutureExt as _;
use tokio_util::sync::CancellationToken;

/// One unit of work that never finishes by itself.
async fn work() {
    std::future::pending::<()>().await
}

async fn with_tokio_util() -> usize {
    let shutdown = CancellationToken::new();
    let workers = shutdown.child_token();
    let mut handles = Vec::new();
    for _ in 0..3 {
        let token = workers.clone();
        handles.push(tokio::spawn(async move {
            // `None` when cancelled.
            work().with_cancellation_token(&token).await.is_none()
        }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    shutdown.cancel();
    let mut stopped = 0;
    for handle in handles {
        stopped += usize::from(handle.await.expect("a worker"));
    }
    stopped
}

async fn with_cancel_token() -> usize {
    let shutdown = CancelToken::new("shutdown");
    let drain = Drain::new(shutdown.child("workers"));
    let mut handles = Vec::new();
    for i in 0..3 {
        let token = drain.token().clone();
        let tracked = drain
            .track(format!("worker-{i}"), async move {
                // `Err(OperationCancelled)` when cancelled, naming the token that was triggered.
                work().with_cancel_token(&token).await.is_err()
            })
            .expect("the drain is open");
        handles.push(tokio::spawn(tracked));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    shutdown.trigger();
    drain.close();
    drain.wait().await; // tokio-util's `tracker.wait()`
    let mut stopped = 0;
    for handle in handles {
        let cancelled = handle.await.expect("a worker").expect("not aborted");
        stopped += usize::from(cancelled);
    }
    stopped
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let theirs = with_tokio_util().await;
    let ours = with_cancel_token().await;
    println!("tokio-util: {theirs} workers stopped; cancel-token: {ours} workers stopped");
    assert_eq!((theirs, ours), (3, 3));
}
