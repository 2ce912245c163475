//! `cancel_token._native`: the Python package's token, on the cancel-token core.
//!
//! The Python classes keep no state of their own: a `CancelToken` is a handle on a core
//! [`cancel_token::CancelToken`], so `triggered` is the core's one atomic load at any depth, and a
//! trigger from any thread reaches every waiter of every event loop through the core's wakers. The
//! asyncio coroutines (`wait`, `cancellable_wait`) are written in Python
//! (`python/cancel_token/_aio.py`); each wait registers one [`waiter::Waiter`] in the core token.
//!
//! Invariant (P1): no code of this crate waits for the GIL while it holds anything of the core's;
//! the core wakes its wakers with no lock held (I5 in the core's `graph`), so a waker may take the
//! GIL, and a thread that holds the GIL may call into the core.

mod reason;
mod token;
mod waiter;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<token::Token>()?;
    m.add_class::<waiter::Waiter>()?;
    Ok(())
}
