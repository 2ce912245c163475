//! The errors: a cancellation, a cancellation-or-timeout, and the crate's other failures.

use std::fmt;
use std::time::Duration;

use crate::{CancelToken, DeadlineExceeded, Reason, Signalled};

/// An operation stopped because a token was triggered: the seed's `OperationCancelled`.
///
/// [`token()`](Self::token) is the token whose `trigger()` caused the cancellation, which is not
/// necessarily the one that was checked: checking a `child` of a triggered `parent` names the
/// parent. Its `Display` is the seed's sentence, `Cancellation requested by NAME token`, whatever
/// the reason; the reason is its [`source`](std::error::Error::source), where error reporters
/// (`anyhow`'s `{:#}`, `tracing`'s error fields) look for a cause:
///
/// | [`reason()`](Self::reason) | `source()` |
/// |---|---|
/// | [`Reason::Triggered`] (a plain `trigger()`) | `None` |
/// | [`Reason::DeadlineExceeded`] | [`DeadlineExceeded`]: `deadline exceeded` |
/// | [`Reason::Signal`] | [`Signalled`]: `received signal 15` |
/// | [`Reason::Custom`] (`trigger_with(error)`) | that error |
///
/// ```
/// use std::error::Error;
/// use cancel_token::CancelToken;
///
/// let request = CancelToken::new("request");
/// request.trigger_with(std::io::Error::other("client hung up"));
/// let cancelled = request.check().unwrap_err();
/// assert_eq!(cancelled.to_string(), "Cancellation requested by request token");
/// assert_eq!(cancelled.source().unwrap().to_string(), "client hung up");
/// ```
#[derive(Clone)]
pub struct OperationCancelled {
    token: CancelToken,
    reason: Reason,
    /// `Some` exactly when `reason` is a `Signal`: the value `source()` lends out.
    signalled: Option<Signalled>,
}

impl OperationCancelled {
    pub(crate) fn new(token: CancelToken, reason: Reason) -> Self {
        let signalled = match reason {
            Reason::Signal(signal) => Some(Signalled { signal }),
            _ => None,
        };
        OperationCancelled {
            token,
            reason,
            signalled,
        }
    }

    /// The token whose trigger caused this cancellation.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Why that token was triggered: [`Reason::DeadlineExceeded`] for a deadline, the value given
    /// to [`trigger_with`](CancelToken::trigger_with), and so on.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }
}

/// Two cancellations are equal when the same token caused them (it has one reason, forever).
impl PartialEq for OperationCancelled {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

impl Eq for OperationCancelled {}

impl fmt::Display for OperationCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cancellation requested by {} token", self.token)
    }
}

impl fmt::Debug for OperationCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationCancelled")
            .field("token", &self.token)
            .field("reason", &self.reason)
            .finish()
    }
}

impl std::error::Error for OperationCancelled {
    /// The reason as an error value: see the table in the type's docs.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            Reason::DeadlineExceeded => Some(&DeadlineExceeded),
            Reason::Signal(_) => self.signalled.as_ref().map(|s| s as _),
            Reason::Custom(error) => Some(&**error),
            Reason::Triggered => None,
        }
    }
}

/// Why [`CancelToken::cancellable_wait_timeout`] gave up: match on it to tell a timeout from a
/// cancellation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// The token (or one of its ancestors) was triggered.
    Cancelled(OperationCancelled),
    /// Nothing completed within `timeout`.
    TimedOut {
        /// The timeout that passed.
        timeout: Duration,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Cancelled(cancelled) => cancelled.fmt(f),
            WaitError::TimedOut { timeout } => write!(f, "timed out after {timeout:?}"),
        }
    }
}

/// `Cancelled` is transparent: its `Display` is the [`OperationCancelled`]'s and so is its
/// `source()` (the reason), so a report of the chain does not say the sentence twice.
impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::Cancelled(cancelled) => cancelled.source(),
            WaitError::TimedOut { .. } => None,
        }
    }
}

impl From<OperationCancelled> for WaitError {
    fn from(cancelled: OperationCancelled) -> Self {
        WaitError::Cancelled(cancelled)
    }
}

/// The crate's failures other than a cancellation or a timeout: a closed [`Drain`](crate::Drain),
/// aborted tracked work, and the operating system refusing a thread or a signal handler.
///
/// `Display` is one sentence; the operating system's error, where there is one, is the
/// [`source`](std::error::Error::source), not repeated in the sentence.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The [`Drain`](crate::Drain) is closed (by `close` or `shutdown`): it accepts no new work.
    Closed,
    /// Tracked work did not finish within the drain's grace period, so the drain dropped it.
    Aborted {
        /// The name the work was tracked under.
        name: std::borrow::Cow<'static, str>,
    },
    /// The SIGINT/SIGTERM handlers could not be installed (feature `signal`, Unix only).
    Signal(std::io::Error),
    /// A thread could not be started.
    Spawn(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => f.write_str("the drain is closed and accepts no new work"),
            Error::Aborted { name } => write!(
                f,
                "tracked work {name:?} was aborted: it did not finish within the grace period"
            ),
            Error::Signal(_) => f.write_str("cannot install the SIGINT/SIGTERM handlers"),
            Error::Spawn(_) => f.write_str("cannot start a thread"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Signal(source) | Error::Spawn(source) => Some(source),
            Error::Closed | Error::Aborted { .. } => None,
        }
    }
}
