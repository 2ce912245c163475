#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod callback;
mod cancellable;
mod clock;
mod error;
mod future_ext;
mod graph;
mod guard;
#[cfg(feature = "tokio-util")]
mod interop;
mod lanes;
mod name;
mod reason;
mod runner;
mod shards;
mod shutdown;
#[cfg(all(unix, feature = "signal"))]
mod signal;
mod stream;
mod sync;
mod timer;
mod token;
mod wait;
mod waiters;
mod weak;
mod wheel;

pub use callback::CallbackGuard;
pub use cancellable::{
    CancellableWait, CancellableWaitOwned, CancellableWaitTimeout, CancellableWaitTimeoutOwned,
    FirstOf,
};
pub use clock::ManualClock;
pub use error::{Error, OperationCancelled, WaitError};
pub use future_ext::FutureCancelExt;
pub use guard::{DropGuard, DropGuardRef};
pub use reason::{DeadlineExceeded, Reason, Signalled};
pub use shutdown::{Drain, DrainReport, Tracked};
#[cfg(all(unix, feature = "signal"))]
pub use signal::{SignalHandle, trigger_on_signals};
pub use stream::{CancellableStream, StreamCancelExt};
pub use token::CancelToken;
pub use wait::{Wait, WaitOwned};
pub use weak::WeakCancelToken;

/// Internals for this crate's own tests and loom models: not part of the API, and may change.
#[doc(hidden)]
pub mod __private {
    use crate::CancelToken;

    /// Makes `token`'s later children and new waiters go through per-thread lanes, as contention
    /// would.
    pub fn shard_children(token: &CancelToken) {
        token.inner.shard();
    }

    /// Whether `token`'s children and new waiters go through lanes.
    pub fn is_sharded(token: &CancelToken) -> bool {
        token.inner.is_sharded()
    }

    /// How many per-thread lanes of `token` exist.
    pub fn lanes_of(token: &CancelToken) -> usize {
        crate::lanes::lanes_of(&token.inner)
    }

    /// How many entries the process timer holds: deadlines of tokens and timed waits.
    pub fn process_timer_entries() -> usize {
        crate::timer::Timer::process().pending()
    }

    /// A timed wait's timer entry (what `cancellable_wait_timeout` keeps), on a `ManualClock`.
    pub struct WakeEntry(Option<crate::timer::TimerEntry>);

    impl std::fmt::Debug for WakeEntry {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("WakeEntry")
        }
    }

    /// Makes an entry in `clock`'s timer that wakes `waker` once `timeout` has passed on it.
    pub fn wake_entry(
        clock: &crate::ManualClock,
        timeout: std::time::Duration,
        waker: &std::task::Waker,
    ) -> WakeEntry {
        WakeEntry(clock.wake_after(timeout, waker))
    }

    impl WakeEntry {
        /// Whether the entry is still pending; if so it wakes `waker` from now on.
        pub fn refresh(&self, waker: &std::task::Waker) -> bool {
            self.0.as_ref().is_some_and(|entry| entry.refresh(waker))
        }

        /// Takes the entry out (a no-op once it fired).
        pub fn cancel(mut self) {
            self.0
                .take()
                .into_iter()
                .for_each(crate::timer::TimerEntry::cancel);
        }
    }

    /// One sweep of the lanes' tables, as the sweeper thread does every `SWEEP`.
    pub fn sweep_lanes() {
        crate::lanes::sweep();
    }
}
