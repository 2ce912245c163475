//! Why a token was triggered.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why a token was triggered: given by [`CancelToken::trigger_with`](crate::CancelToken::trigger_with),
/// read back from the token ([`CancelToken::reason`](crate::CancelToken::reason)) and from
/// [`OperationCancelled::reason`](crate::OperationCancelled::reason).
///
/// The first reason wins, and every token the trigger reaches inherits it (Go's `context.Cause`).
/// Built-in reasons are variants to match on; anything else is an error value of your own:
///
/// ```
/// use cancel_token::{CancelToken, Reason};
///
/// #[derive(Debug)]
/// struct ClientGone;
/// impl std::fmt::Display for ClientGone {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("the client hung up")
///     }
/// }
/// impl std::error::Error for ClientGone {}
///
/// let request = CancelToken::new("request");
/// let query = request.child("query");
/// request.trigger_with(ClientGone);
/// match query.reason() {
///     Some(Reason::Custom(error)) => assert!(error.is::<ClientGone>()),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Reason {
    /// [`CancelToken::trigger`](crate::CancelToken::trigger), with no reason given.
    Triggered,
    /// A deadline passed ([`CancelToken::with_timeout`](crate::CancelToken::with_timeout) and friends).
    DeadlineExceeded,
    /// A signal arrived, by number (2 is SIGINT, 15 is SIGTERM).
    Signal(i32),
    /// A reason of the caller's own.
    Custom(Arc<dyn Error + Send + Sync>),
}

impl Reason {
    /// Whether this is [`Reason::DeadlineExceeded`]: a timeout rather than a cancellation.
    pub fn is_deadline(&self) -> bool {
        matches!(self, Reason::DeadlineExceeded)
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for Reason {
    fn from(error: E) -> Self {
        Reason::Custom(Arc::new(error))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Triggered => f.write_str("triggered"),
            Reason::DeadlineExceeded => f.write_str("deadline exceeded"),
            Reason::Signal(signal) => write!(f, "signal {signal}"),
            Reason::Custom(error) => error.fmt(f),
        }
    }
}
