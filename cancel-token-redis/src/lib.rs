#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod backoff;
mod builder;
mod commands;
mod error;
mod forward;
mod link;
mod reason;
mod remote;
mod watched;
mod watcher;

pub use builder::Builder;
pub use error::Error;
pub use forward::Forwarding;
pub use reason::RemoteReason;
pub use remote::RemoteTokens;
