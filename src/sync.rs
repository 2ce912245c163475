//! The synchronisation primitives the crate is built on, swapped for loom's under `cfg(loom)` so
//! the model checker sees every lock, atomic and park the crate performs.
//!
//! `Arc`/`Weak` stay std's even under loom: loom has no `Weak`, and the reference counts are not
//! what the models check (the node locks and state word are). Loom therefore does not explore
//! the orders of a drop and a trigger's `Weak::upgrade` by themselves, only through the node locks
//! around them; tests/loom.rs counts both outcomes so that a model that stops covering one fails.
//!
//! Under loom, every object built from these types belongs to one model execution. Two places
//! keep such objects in process-wide statics and must not be reached from a model:
//! `CancelToken::never()` (a `OnceLock`: the next execution that touches it panics with "failed to
//! get object for ref") and the process timer of `timer.rs` (a static, a condition variable and a real
//! thread that triggers tokens: use a `ManualClock` in models instead, whose shards are loom's).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicU32;
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::{Thread, ThreadId, current as current_thread, park};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicU32;
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, ThreadId, current as current_thread, park};

/// Locks `mutex`, ignoring poison.
///
/// The crate never runs user code while holding one of its locks (callbacks, wakers' `wake` and
/// drops all run after unlocking), so a poisoned lock can only come from a panic inside the
/// crate's own short critical sections, which leave the data consistent. Ignoring poison keeps
/// one panicking thread from disabling cancellation for every other thread.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Locks `mutex` like [`lock`], and says whether another thread held it at that moment: the
/// contention that makes `graph` move a parent's children into lanes (`lanes`).
pub(crate) fn lock_noting_contention<T>(mutex: &Mutex<T>) -> (MutexGuard<'_, T>, bool) {
    match mutex.try_lock() {
        Ok(guard) => (guard, false),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => (poisoned.into_inner(), false),
        Err(std::sync::TryLockError::WouldBlock) => (lock(mutex), true),
    }
}
