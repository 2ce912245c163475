//! The two subcommands, on the library's public API only: one [`RemoteTokens`] per run.

use std::time::Duration;

use cancel_token_redis::{Error, RemoteTokens};

/// `trigger <id>`: `SET <prefix><id> <reason> NX EX <ttl>` then `PUBLISH`, through
/// [`RemoteTokens::trigger`]. Returns once Redis has answered both.
pub async fn trigger(url: &str, id: &str, reason: &str) -> Result<(), Error> {
    let remote = RemoteTokens::connect(url).await?;
    remote.trigger(id, reason).await
}

/// How a `wait` ended.
#[derive(Debug)]
pub enum Waited {
    /// The id was triggered, before or during the wait: the reason text (the key's value).
    Triggered(String),
    /// The `--timeout` passed first.
    TimedOut,
}

/// `wait <id>`: [`Waited::Triggered`] once `id` is triggered (at once if it already was), or
/// [`Waited::TimedOut`]. A zero timeout looks once: the token is born triggered or not.
pub async fn wait(url: &str, id: &str, timeout: Option<Duration>) -> Result<Waited, Error> {
    let remote = RemoteTokens::connect(url).await?;
    let token = remote.token(id).await?;
    match timeout {
        // `tokio::time::timeout` polls the wait before looking at the clock, so `0s` still sees
        // a token born triggered.
        Some(timeout) => {
            if tokio::time::timeout(timeout, token.wait()).await.is_err() {
                return Ok(Waited::TimedOut);
            }
        }
        None => token.wait().await,
    }
    // Triggered by the library with the key's value (a `RemoteReason`, whose Display is the
    // text); a triggered token always has a reason, so the default is never used.
    let reason = token.reason().map(|reason| reason.to_string());
    Ok(Waited::Triggered(reason.unwrap_or_default()))
}
