//! The settings of a [`RemoteTokens`]: key prefix, TTL, time bound, sweep interval.

use std::time::Duration;

use crate::error::Error;
use crate::remote::RemoteTokens;

/// Settings for [`RemoteTokens`], from [`RemoteTokens::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use cancel_token_redis::RemoteTokens;
///
/// # async fn run() -> Result<(), cancel_token_redis::Error> {
/// let remote = RemoteTokens::builder()
///     .prefix("jobs:cancel:")
///     .ttl(Duration::from_secs(3600))
///     .timeout(Duration::from_secs(2))
///     .connect("redis://127.0.0.1:6379")
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    pub(crate) prefix: String,
    pub(crate) ttl: Duration,
    pub(crate) timeout: Duration,
    pub(crate) sweep_interval: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            prefix: "cancel-token:".to_owned(),
            ttl: Duration::from_secs(24 * 60 * 60),
            timeout: Duration::from_secs(5),
            sweep_interval: Duration::from_secs(1),
        }
    }
}

impl Builder {
    /// The prefix of every key and channel: id `42` is key and channel `<prefix>42`.
    /// Default `cancel-token:`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a triggered id's key lives (`EX`), in whole seconds, rounded up, at least one.
    /// Default 24 hours. A token asked for after the key expired is not born triggered.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The bound on connecting and on each command: past it, [`Error::Timeout`]. Default 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often the watcher forgets the ids whose local tokens are all dropped, unsubscribing
    /// them (R5), and pings the subscription connection to find out one that went silent (R7).
    /// Default 1 s; a zero interval is taken as 1 ms.
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Connects with these settings: see [`RemoteTokens::connect`].
    pub async fn connect(self, url: &str) -> Result<RemoteTokens, Error> {
        RemoteTokens::connect_with(self, url).await
    }

    /// The TTL as `EX` wants it: whole seconds, rounded up, at least 1.
    pub(crate) fn ttl_seconds(&self) -> u64 {
        let whole = self.ttl.as_secs();
        let seconds = if self.ttl.subsec_nanos() > 0 {
            whole.saturating_add(1)
        } else {
            whole
        };
        seconds.max(1)
    }
}
