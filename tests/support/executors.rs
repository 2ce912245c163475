//! Running a scenario on tokio current-thread, tokio multi-thread and `futures::executor`, with
//! a hang guard that does not depend on any executor's timer (nor on the crate's own).

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::task::Poll;
use std::time::Duration;

use futures::future::{Either, select};

/// How long a scenario may run before it is declared hung. Generous: it only turns a hang into
/// a failure, it says nothing about speed.
pub const HANG_GUARD: Duration = Duration::from_secs(10);

/// Fails (panics) if `scenario` does not finish within [`HANG_GUARD`].
///
/// The guard is a plain thread that completes a oneshot when the time is up, so it wakes the
/// task under any executor. The thread waits on a channel whose sender this future holds, so it
/// ends as soon as the scenario does instead of lingering for the whole guard period.
pub async fn guarded<F: Future>(scenario: F) -> F::Output {
    let (alarm_tx, alarm_rx) = futures::channel::oneshot::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        // Disconnected means the scenario finished (its future dropped `done_tx`).
        if let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(HANG_GUARD) {
            let _ = alarm_tx.send(());
        }
    });
    let _done = done_tx;
    // The alarm is polled first: when it has gone off, the scenario must not get one more poll,
    // which could let a lost wake-up pass as a success once the alarm's own wake-up polls it.
    match select(alarm_rx, pin!(scenario)).await {
        Either::Left(_) => panic!("hang guard: the scenario did not finish within {HANG_GUARD:?}"),
        Either::Right((output, _)) => output,
    }
}

/// On a tokio current-thread runtime, on the test's own thread.
pub fn tokio_current_thread<F: Future>(scenario: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current-thread runtime")
        .block_on(guarded(scenario))
}

/// On a tokio multi-thread runtime, spawned onto a worker (not run on the test's thread by
/// `block_on`), so the scenario really runs where tokio's work-stealing scheduler puts it.
pub fn tokio_multi_thread<F>(scenario: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio multi-thread runtime");
    let task = runtime.spawn(guarded(scenario));
    match runtime.block_on(task) {
        Ok(output) => output,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Under `futures::executor::block_on`: no tokio runtime, no tokio timer, nothing in context.
pub fn futures_block_on<F: Future>(scenario: F) -> F::Output {
    futures::executor::block_on(guarded(scenario))
}

/// Generates, for each named `async fn` scenario of the current module, a module of the same
/// name holding three tests: `tokio_current_thread`, `tokio_multi_thread` and `futures_block_on`.
/// Each scenario is written once; this is the only place that knows the list of executors.
macro_rules! on_every_executor {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn tokio_current_thread() {
                $crate::support::executors::tokio_current_thread(super::$scenario())
            }

            #[test]
            fn tokio_multi_thread() {
                $crate::support::executors::tokio_multi_thread(super::$scenario())
            }

            #[test]
            fn futures_block_on() {
                $crate::support::executors::futures_block_on(super::$scenario())
            }
        }
    )*};
}
pub(crate) use on_every_executor;

/// Polls `future` exactly once with the current task's waker: `Some(output)` if it was ready.
/// For "this is still pending" assertions that must not wait.
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    match futures::poll!(future) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Returns `Pending` once (waking itself first), then `Ready`: lets other futures of the same
/// task, or other tasks, run, on any executor.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
