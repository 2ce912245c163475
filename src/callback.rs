//! Callbacks that run when a token triggers: [`CancelToken::on_trigger`].
//!
//! # Invariants
//!
//! * A pending callback sits in its token's node, keyed by a per-token sequence number, so a
//!   trigger takes them out in registration order (graph I2: a triggered node keeps none).
//! * `Callback::f` is locked for as long as the callback runs. A guard that must not return while
//!   the callback runs elsewhere takes that lock to wait for it; the one exception is a guard
//!   dropped by the callback itself, detected through `running_on`, which would otherwise wait for
//!   itself forever.
//! * Lock order: the node lock is never held while `f` or `running_on` is locked (graph I5: no
//!   user code runs under a node lock). `running_on` is only ever locked alone or inside `f`.
//! * A panic in a callback is caught where it runs: it poisons nothing and the remaining callbacks
//!   still run (the panic hook has already reported it).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, TryLockError};

use crate::CancelToken;
use crate::graph::Inner;
use crate::sync::{Mutex, ThreadId, current_thread, lock};

type Func = Box<dyn FnOnce() + Send>;

pub(crate) struct Callback {
    f: Mutex<Option<Func>>,
    running_on: Mutex<Option<ThreadId>>,
}

impl Callback {
    pub(crate) fn new(f: impl FnOnce() + Send + 'static) -> Arc<Callback> {
        Arc::new(Callback {
            f: Mutex::new(Some(Box::new(f))),
            running_on: Mutex::new(None),
        })
    }

    /// Runs the callback unless it already ran or was disarmed.
    pub(crate) fn run(&self) {
        let mut f = lock(&self.f);
        if let Some(func) = f.take() {
            *lock(&self.running_on) = Some(current_thread().id());
            // The panic hook has reported it; the token and the other callbacks carry on.
            let _ = catch_unwind(AssertUnwindSafe(func));
            *lock(&self.running_on) = None;
        }
    }

    /// When this returns, the callback will never run, and is not running on another thread.
    fn disarm(&self) {
        let mut f = match self.f.try_lock() {
            Ok(f) => f,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if *lock(&self.running_on) == Some(current_thread().id()) {
                    return; // dropped from inside the callback itself
                }
                lock(&self.f) // waits until the run on the other thread is over
            }
        };
        let never_ran = f.take();
        drop(f);
        drop(never_ran); // its captures' destructors are user code: not under our lock
    }
}

/// Unregisters its callback when dropped: returned by [`CancelToken::on_trigger`].
///
/// Dropping it guarantees that, once `drop` returns, the callback will not run, and is not running
/// on another thread (it waits for a run in progress to end). Dropping it from inside the callback
/// itself does not wait. [`detach`](Self::detach) keeps the callback registered instead.
#[must_use = "dropping the guard unregisters the callback at once; use `detach` to keep it"]
pub struct CallbackGuard {
    token: CancelToken,
    registration: Option<(u64, Arc<Callback>)>,
}

impl CallbackGuard {
    pub(crate) fn new(token: CancelToken, registration: Option<(u64, Arc<Callback>)>) -> Self {
        CallbackGuard {
            token,
            registration,
        }
    }

    /// Keeps the callback registered for as long as the token lives, without a guard.
    pub fn detach(mut self) {
        self.registration = None;
    }
}

impl Drop for CallbackGuard {
    fn drop(&mut self) {
        if let Some((id, callback)) = self.registration.take() {
            drop(Inner::remove_callback(&self.token.inner, id));
            callback.disarm();
        }
    }
}

impl std::fmt::Debug for CallbackGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackGuard")
            .field("token", &self.token)
            .field("armed", &self.registration.is_some())
            .finish()
    }
}
