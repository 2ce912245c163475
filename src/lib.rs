#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod cancellable;
mod error;
mod graph;
mod name;
mod sync;
mod timer;
mod token;
mod wait;

pub use cancellable::{CancellableWait, CancellableWaitTimeout, FirstOf};
pub use error::{OperationCancelled, WaitError};
pub use token::CancelToken;
pub use wait::{Wait, WaitOwned};
