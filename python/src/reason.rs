//! A Python object as the core's [`Reason`]: what `trigger(reason)` stores and `.reason` gives back.

use std::fmt;

use cancel_token::Reason;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// The object given to `trigger(reason)`, carried through the core as a [`Reason::Custom`].
pub(crate) struct PyReason(pub(crate) Py<PyAny>);

impl fmt::Debug for PyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `str(reason)`, or `<reason>` when the interpreter is gone or `str` raises.
impl fmt::Display for PyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = Python::try_attach(|py| self.0.bind(py).str().map(|s| s.to_string()).ok());
        f.write_str(text.flatten().as_deref().unwrap_or("<reason>"))
    }
}

impl std::error::Error for PyReason {}

/// The Python value of a core reason: the object given to `trigger(reason)` itself; for the
/// core's built-in reasons, their text (`"triggered"`, `"deadline exceeded"`).
pub(crate) fn to_python(py: Python<'_>, reason: &Reason) -> Py<PyAny> {
    if let Reason::Custom(error) = reason
        && let Some(PyReason(object)) = error.downcast_ref::<PyReason>()
    {
        return object.clone_ref(py);
    }
    PyString::new(py, &reason.to_string()).into_any().unbind()
}
