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
mod name;
mod reason;
mod runner;
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
pub use cancellable::{CancellableWait, CancellableWaitOwned, CancellableWaitTimeout, FirstOf};
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
