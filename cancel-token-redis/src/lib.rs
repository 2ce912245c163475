#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod builder;
mod error;
mod reason;
mod remote;
mod watcher;

pub use builder::Builder;
pub use error::Error;
pub use reason::RemoteReason;
pub use remote::RemoteTokens;
