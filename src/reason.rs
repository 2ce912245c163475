//! Why a token was triggered, and the built-in reasons as error values of their own
//! ([`DeadlineExceeded`], [`Signalled`]): what [`OperationCancelled`](crate::OperationCancelled)'s
//! `source()` gives, so error reporters show the cause.

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

/// A deadline passed: the [`source`](Error::source) of an
/// [`OperationCancelled`](crate::OperationCancelled) whose reason is
/// [`Reason::DeadlineExceeded`]. `Display`: `deadline exceeded`.
///
/// ```
/// use std::error::Error;
/// use cancel_token::{CancelToken, DeadlineExceeded, Reason};
///
/// let request = CancelToken::new("request");
/// request.trigger_with(Reason::DeadlineExceeded);
/// let cancelled = request.check().unwrap_err();
/// let source = cancelled.source().expect("a deadline has a source");
/// assert!(source.is::<DeadlineExceeded>());
/// assert_eq!(source.to_string(), "deadline exceeded");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeadlineExceeded;

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl Error for DeadlineExceeded {}

/// A signal arrived: the [`source`](Error::source) of an
/// [`OperationCancelled`](crate::OperationCancelled) whose reason is [`Reason::Signal`].
/// `Display`: `received signal 15` (the number, as in the reason).
///
/// ```
/// use std::error::Error;
/// use cancel_token::{CancelToken, Reason, Signalled};
///
/// let service = CancelToken::new("service");
/// service.trigger_with(Reason::Signal(15));
/// let cancelled = service.check().unwrap_err();
/// let source = cancelled.source().and_then(|s| s.downcast_ref::<Signalled>());
/// assert_eq!(source, Some(&Signalled { signal: 15 }));
/// assert_eq!(source.unwrap().to_string(), "received signal 15");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signalled {
    /// The signal's number (2 is SIGINT, 15 is SIGTERM).
    pub signal: i32,
}

impl fmt::Display for Signalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "received signal {}", self.signal)
    }
}

impl Error for Signalled {}
