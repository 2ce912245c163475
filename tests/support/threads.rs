//! Plain threads as the "somewhere else" of a test: triggering from another thread, sleeping
//! without any executor's timer, running a `'static` future on its own `block_on`, and joining
//! with a hang guard.

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use cancel_token::CancelToken;
use futures::channel::oneshot;

use super::executors::HANG_GUARD;

/// Triggers `token` from a new thread; join the handle to know it happened.
pub fn trigger_from_thread(token: &CancelToken) -> JoinHandle<()> {
    let token = token.clone();
    thread::spawn(move || token.trigger())
}

/// Joins `handle`, failing instead of hanging if the thread has not finished within
/// [`HANG_GUARD`]. Re-raises the thread's panic, so assertions made there fail the test.
pub fn join_guarded<T: Send + 'static>(handle: JoinHandle<T>) -> T {
    let (tx, rx) = mpsc::channel();
    // The joiner thread moves the result back; if the guarded thread hangs, so does the joiner,
    // and we give up on it (the process exit ends both).
    thread::spawn(move || {
        let _ = tx.send(handle.join());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hang guard: the thread did not finish within {HANG_GUARD:?}"),
    }
}

/// A sleep that needs no executor timer: a thread completes a oneshot after `duration`. Dropping
/// the future wakes the thread at once (its channel disconnects), so a dropped sleep leaves no
/// thread waiting out the full duration.
pub fn thread_sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let (cancel_tx, cancel_rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = cancel_rx.recv_timeout(duration) {
            let _ = done_tx.send(());
        }
    });
    async move {
        let _cancel = cancel_tx;
        // Err only if the thread ended without sending, which needs `_cancel` dropped first.
        let _ = done_rx.await;
    }
}

/// Runs `future` on a new plain thread under `futures::executor::block_on`; the returned future
/// gives its output. The bounds are the point: only a `'static + Send` future can go there.
pub fn spawn_on_thread<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    thread::spawn(move || {
        let _ = tx.send(futures::executor::block_on(future));
    });
    async move { rx.await.expect("the spawned future panicked") }
}
