//! One asyncio wait registered in a core token: a [`WaitOwned`] polled once with a waker that
//! completes an asyncio future on the future's own event loop.
//!
//! The coroutine (`_aio.wait`) creates the future, registers a [`Waiter`] and awaits the future;
//! whatever happens next (the token triggers, the coroutine is cancelled or closed, or the
//! `Waiter` is garbage collected), `Waiter.close()` or the `Waiter`'s drop takes the waker out of
//! the core token, so nothing stays registered.
//!
//! Invariant (P2): the waker never completes a future that is already done (a cancelled one
//! included), and completes it only on the thread running its loop: directly when the trigger runs
//! on that loop's thread inside that loop, through `loop.call_soon_threadsafe` otherwise.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use cancel_token::{CancelToken, WaitOwned};
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A registration of one asyncio future in a core token. `close()` (or dropping it) unregisters.
#[pyclass(name = "_Waiter", module = "cancel_token._native")]
pub(crate) struct Waiter {
    wait: Option<Pin<Box<WaitOwned>>>,
}

#[pymethods]
impl Waiter {
    /// Takes the waker out of the token. Idempotent.
    fn close(&mut self) {
        self.wait = None;
    }
}

impl Waiter {
    /// Registers `future` (of `event_loop`) to be completed when `token` triggers; `None` if it
    /// already has (then nothing is registered and the future is left alone).
    pub(crate) fn register(
        token: &CancelToken,
        event_loop: Py<PyAny>,
        future: Py<PyAny>,
    ) -> Option<Waiter> {
        let mut wait = Box::pin(token.clone().wait_owned());
        let waker = Waker::from(Arc::new(LoopWaker { event_loop, future }));
        match wait.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(()) => None,
            Poll::Pending => Some(Waiter { wait: Some(wait) }),
        }
    }
}

/// Completes `future` on `event_loop` (P2).
struct LoopWaker {
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

impl Wake for LoopWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // No lock of the core is held here (P1). An interpreter that is shutting down has no loop
        // left to wake.
        Python::try_attach(|py| {
            if let Err(error) = self.resolve(py) {
                error.write_unraisable(py, Some(self.future.bind(py)));
            }
        });
    }
}

impl LoopWaker {
    fn resolve(&self, py: Python<'_>) -> PyResult<()> {
        let event_loop = self.event_loop.bind(py);
        let future = self.future.bind(py);
        let running = RUNNING_LOOP
            .import(py, "asyncio", "_get_running_loop")?
            .call0()?;
        if running.is(event_loop) {
            // On the loop's own thread, inside it: `set_result` only schedules the future's
            // callbacks, so it is safe here, and saves a round through the loop.
            if !future.call_method0(intern!(py, "done"))?.is_truthy()? {
                future.call_method1(intern!(py, "set_result"), (py.None(),))?;
            }
            return Ok(());
        }
        let resolve = RESOLVE.import(py, "cancel_token._aio", "_resolve")?;
        match event_loop.call_method1(intern!(py, "call_soon_threadsafe"), (resolve, future)) {
            // A closed loop runs nothing any more: nobody is left to wake.
            Err(error) if error.is_instance_of::<PyRuntimeError>(py) => Ok(()),
            other => other.map(drop),
        }
    }
}
