//! `cancel_token.CancelToken`: a handle on a core token, with the seed's API and the core's.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use cancel_token::{CancelToken, OperationCancelled};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::reason::{self, PyReason};
use crate::waiter::Waiter;

static OPERATION_CANCELLED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static EVENT_LOOP_MISMATCH: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static WAIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static CANCELLABLE_WAIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MONOTONIC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// How long a blocking wait sleeps with the GIL released before it looks for a signal
/// (KeyboardInterrupt) again.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// A named signal that an operation should stop. All its state is the core token's; `loop` is
/// kept only to answer `.loop` and to refuse chaining tokens of two different loops, as the seed
/// did: waits work on whatever loop awaits them.
#[pyclass(name = "CancelToken", module = "cancel_token", frozen, weakref)]
pub(crate) struct Token {
    core: CancelToken,
    event_loop: Option<Py<PyAny>>,
}

impl Token {
    fn derived(&self, core: CancelToken, py: Python<'_>) -> Token {
        Token {
            core,
            event_loop: self.event_loop.as_ref().map(|l| l.clone_ref(py)),
        }
    }
}

#[pymethods]
impl Token {
    #[new]
    #[pyo3(signature = (name, r#loop = None))]
    fn new(name: String, r#loop: Option<Py<PyAny>>) -> Self {
        Token {
            core: CancelToken::new(name),
            event_loop: r#loop,
        }
    }

    #[getter]
    fn name(&self) -> &str {
        self.core.name()
    }

    /// The loop given at creation (`None` when none was).
    #[getter]
    fn r#loop(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.event_loop.as_ref().map(|l| l.clone_ref(py))
    }

    /// One atomic load, whatever the depth of the chain.
    #[getter]
    fn triggered(&self) -> bool {
        self.core.triggered()
    }

    /// The token whose trigger caused this one's: `self` itself when triggered directly.
    #[getter]
    fn triggered_token(slf: &Bound<'_, Self>) -> Option<Py<PyAny>> {
        let this = slf.get();
        let cause = this.core.triggered_token()?;
        if cause == this.core {
            return Some(slf.clone().into_any().unbind());
        }
        let py = slf.py();
        let token = Token {
            core: cause,
            event_loop: None,
        };
        Py::new(py, token).ok().map(Py::into_any)
    }

    /// The reason given to `trigger(reason)`, `"triggered"` without one, `"deadline exceeded"`
    /// for a `with_timeout` deadline; `None` while live.
    #[getter]
    fn reason(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.core.reason().map(|r| reason::to_python(py, &r))
    }

    /// The earliest deadline in force on this token, on the `time.monotonic()` clock.
    #[getter]
    fn deadline(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        let Some(deadline) = self.core.deadline() else {
            return Ok(None);
        };
        let now = Instant::now();
        let monotonic: f64 = MONOTONIC
            .import(py, "time", "monotonic")?
            .call0()?
            .extract()?;
        Ok(Some(match deadline.checked_duration_since(now) {
            Some(ahead) => monotonic + ahead.as_secs_f64(),
            None => monotonic - now.duration_since(deadline).as_secs_f64(),
        }))
    }

    #[pyo3(signature = (reason = None))]
    fn trigger(&self, reason: Option<Py<PyAny>>) {
        // The GIL stays held: the wakers of waiters on this thread's loop complete their futures
        // directly, and those on other threads' loops take it anyway (P1).
        match reason {
            None => self.core.trigger(),
            Some(reason) => self.core.trigger_with(PyReason(reason)),
        }
    }

    fn raise_if_triggered(&self, py: Python<'_>) -> PyResult<()> {
        match self.core.check() {
            Ok(()) => Ok(()),
            Err(cancelled) => Err(operation_cancelled(py, &cancelled)),
        }
    }

    fn chain(&self, py: Python<'_>, other: &Bound<'_, Token>) -> PyResult<Token> {
        let other = other.get();
        same_loop(py, [self, other])?;
        Ok(self.derived(self.core.chain(&other.core), py))
    }

    fn child(&self, py: Python<'_>, name: String) -> Token {
        self.derived(self.core.child(name), py)
    }

    #[staticmethod]
    fn any(py: Python<'_>, name: String, tokens: &Bound<'_, PyAny>) -> PyResult<Token> {
        let tokens = tokens
            .try_iter()?
            .map(|item| item?.cast_into::<Token>().map_err(PyErr::from))
            .collect::<PyResult<Vec<_>>>()?;
        let handles: Vec<&Token> = tokens.iter().map(Bound::get).collect();
        same_loop(py, handles.iter().copied())?;
        let core = CancelToken::any(name, handles.iter().map(|t| &t.core));
        Ok(Token {
            core,
            event_loop: handles
                .first()
                .and_then(|t| t.event_loop.as_ref().map(|l| l.clone_ref(py))),
        })
    }

    fn with_timeout(&self, py: Python<'_>, seconds: f64) -> PyResult<Token> {
        Ok(self.derived(self.core.with_timeout(duration(seconds)?), py))
    }

    #[pyo3(signature = (timeout = None))]
    fn wait_blocking(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let deadline = match timeout {
            None => None,
            Some(seconds) => Instant::now().checked_add(duration(seconds)?),
        };
        loop {
            let slice = match deadline {
                Some(deadline) => deadline
                    .saturating_duration_since(Instant::now())
                    .min(SIGNAL_CHECK),
                None => SIGNAL_CHECK,
            };
            if py.detach(|| self.core.wait_blocking_timeout(slice)) {
                return Ok(true);
            }
            py.check_signals()?;
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Ok(false);
            }
        }
    }

    /// A coroutine (`cancel_token._aio.wait`).
    fn wait(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let wait = WAIT.import(slf.py(), "cancel_token._aio", "wait")?;
        Ok(wait.call1((slf,))?.unbind())
    }

    /// A coroutine (`cancel_token._aio.cancellable_wait`).
    #[pyo3(signature = (*awaitables, timeout = None))]
    fn cancellable_wait(
        slf: &Bound<'_, Self>,
        awaitables: &Bound<'_, PyTuple>,
        timeout: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let wait = CANCELLABLE_WAIT.import(slf.py(), "cancel_token._aio", "cancellable_wait")?;
        Ok(wait.call1((slf, awaitables, timeout))?.unbind())
    }

    /// Registers `future` of `loop` to be completed when this token triggers (`_aio` only).
    fn _waiter(&self, r#loop: Py<PyAny>, future: Py<PyAny>) -> Option<Waiter> {
        Waiter::register(&self.core, r#loop, future)
    }

    fn __eq__(&self, other: &Bound<'_, Token>) -> bool {
        self.core == other.get().core
    }

    fn __ne__(&self, other: &Bound<'_, Token>) -> bool {
        self.core != other.get().core
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.core.hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.core)
    }

    fn __str__(&self) -> &str {
        self.core.name()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(event_loop) = &self.event_loop {
            visit.call(event_loop)?;
        }
        Ok(())
    }
}

/// The seed's rule: tokens can be joined only if they were given the same loop (no loop is a
/// value too).
fn same_loop<'a>(py: Python<'_>, tokens: impl IntoIterator<Item = &'a Token>) -> PyResult<()> {
    let mut tokens = tokens.into_iter();
    let Some(first) = tokens.next() else {
        return Ok(());
    };
    let key = |t: &Token| t.event_loop.as_ref().map(|l| l.as_ptr());
    if tokens.all(|t| key(t) == key(first)) {
        return Ok(());
    }
    let mismatch =
        EVENT_LOOP_MISMATCH.import(py, "cancel_token.exceptions", "EventLoopMismatch")?;
    Err(PyErr::from_type(
        mismatch.clone(),
        "Chained CancelToken objects must be given the same event loop",
    ))
}

fn operation_cancelled(py: Python<'_>, cancelled: &OperationCancelled) -> PyErr {
    match OPERATION_CANCELLED.import(py, "cancel_token.exceptions", "OperationCancelled") {
        Ok(class) => PyErr::from_type(class.clone(), cancelled.to_string()),
        Err(error) => error,
    }
}

/// Seconds as a `Duration`: negative or NaN is a `ValueError`; too large to represent is no
/// deadline at all (the core's rule for a timeout past the end of time).
fn duration(seconds: f64) -> PyResult<Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err(PyValueError::new_err(format!(
            "a timeout must be a number of seconds >= 0, not {seconds}"
        )));
    }
    Ok(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}
