//! What can go wrong talking to Redis.

use std::fmt;
use std::time::Duration;

/// An error from [`RemoteTokens`](crate::RemoteTokens): never a panic.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cancel_token_redis::{Error, RemoteTokens};
///
/// let error = RemoteTokens::connect("not a url").await.unwrap_err();
/// assert!(matches!(error, Error::InvalidUrl { .. }));
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL given to `connect` is not a Redis URL (`redis://host:port/db`).
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the Redis client found wrong with it.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Redis did not answer within the bounded time ([`Builder::timeout`](crate::Builder::timeout)).
    Timeout {
        /// What was being done: "connecting", "SET", ...
        during: &'static str,
        /// The bound that passed.
        after: Duration,
    },
    /// Redis answered with an error, or the connection failed (refused, closed, ...).
    Redis {
        /// What was being done: "connecting", "SET", ...
        during: &'static str,
        /// The Redis client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An id must not be empty.
    EmptyId,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, source } => write!(f, "invalid Redis URL {url:?}: {source}"),
            Error::Timeout { during, after } => {
                write!(f, "Redis did not answer within {after:?} ({during})")
            }
            Error::Redis { during, source } => write!(f, "Redis error ({during}): {source}"),
            Error::EmptyId => f.write_str("a remote token id must not be empty"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidUrl { source, .. } | Error::Redis { source, .. } => Some(&**source),
            Error::Timeout { .. } | Error::EmptyId => None,
        }
    }
}

/// `work`, bounded by `after`: its Redis error or the timeout as an [`Error`].
pub(crate) async fn bounded<T>(
    after: Duration,
    during: &'static str,
    work: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(after, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(Error::Redis {
            during,
            source: Box::new(source),
        }),
        Err(_elapsed) => Err(Error::Timeout { during, after }),
    }
}
