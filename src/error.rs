//! The errors: a cancellation, a cancellation-or-timeout, and the crate's other failures.

use std::fmt;
use std::time::Duration;

use crate::CancelToken;

/// An operation stopped because a token was triggered: the seed's `OperationCancelled`.
///
/// [`token()`](Self::token) is the token whose `trigger()` caused the cancellation, which is not
/// necessarily the one that was checked: checking a `child` of a triggered `parent` names the
/// parent. Its `Display` is the seed's sentence, `Cancellation requested by NAME token`.
#[derive(Clone, PartialEq, Eq)]
pub struct OperationCancelled {
    token: CancelToken,
}

impl OperationCancelled {
    pub(crate) fn new(token: CancelToken) -> Self {
        OperationCancelled { token }
    }

    /// The token whose trigger caused this cancellation.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }
}

impl fmt::Display for OperationCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cancellation requested by {} token", self.token)
    }
}

impl fmt::Debug for OperationCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationCancelled")
            .field("token", &self.token)
            .finish()
    }
}

impl std::error::Error for OperationCancelled {}

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

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::Cancelled(cancelled) => Some(cancelled),
            WaitError::TimedOut { .. } => None,
        }
    }
}

impl From<OperationCancelled> for WaitError {
    fn from(cancelled: OperationCancelled) -> Self {
        WaitError::Cancelled(cancelled)
    }
}
