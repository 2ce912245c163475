//! Local to remote: [`RemoteTokens::forward`] makes a local token's trigger reach a remote id.
//!
//! Invariant R8: a forwarding never keeps its local token alive. It is a callback registered on
//! the token (detached: it lives as long as the token) and a task that waits for it. When the
//! token triggers, the callback hands the reason text to the task, which sends the trigger (R4's
//! `SET ... NX` and `PUBLISH`, idempotent) until Redis takes it, with the watcher's backoff between
//! attempts. When the token is dropped untriggered, the callback goes with it and the task ends.
//! The task also ends when told ([`Forwarding::stop`]) or when the last `RemoteTokens` clone is
//! dropped. It never blocks the watcher, nor the thread that triggers the token (the callback
//! only sends on a channel).

use std::fmt;

use cancel_token::{CancelToken, WeakCancelToken};
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::error::Error;
use crate::remote::RemoteTokens;

impl RemoteTokens {
    /// Once `token` triggers, triggers `id` everywhere, as [`RemoteTokens::trigger`] would,
    /// with the token's reason's `Display` as the reason text (for a token triggered by a
    /// remote id, that id's text; for `trigger()` without a reason, `"triggered"`).
    ///
    /// ```no_run
    /// use cancel_token::CancelToken;
    /// use cancel_token_redis::RemoteTokens;
    ///
    /// # async fn run() -> Result<(), cancel_token_redis::Error> {
    /// let remote = RemoteTokens::connect("redis://127.0.0.1:6379").await?;
    /// let job = CancelToken::new("job 42");
    /// let forwarding = remote.forward(&job, "42")?;
    /// job.trigger_with(std::io::Error::other("out of disk"));
    /// // Every process watching "42" sees "out of disk" (R8: retried until Redis takes it).
    /// assert!(forwarding.landed().await);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Does not keep `token` alive (R8): a token dropped untriggered is never forwarded, and its
    /// forwarding ends, leaving nothing behind. (A token whose last handle is dropped is gone
    /// even if an ancestor triggers later: forward the ancestor, or keep the token.) A token
    /// triggered already is forwarded at once.
    ///
    /// Runs on a task spawned on the runtime `connect` ran on, so it may be called from any
    /// thread, in or out of that runtime. When Redis is unreachable at the time of the trigger,
    /// the task retries with capped exponential backoff (100 ms doubling up to 5 s), logging
    /// each failure at `warn`, until the trigger lands, [`Forwarding::stop`] is called, or the
    /// last clone of this `RemoteTokens` is dropped. Dropping the returned [`Forwarding`] does
    /// not stop it. Never blocks; errors: [`Error::EmptyId`].
    pub fn forward(&self, token: &CancelToken, id: &str) -> Result<Forwarding, Error> {
        let key = self.key(id)?;
        let link = std::sync::Arc::clone(&self.shared.link);
        let closed = self.shared.closed.clone();
        let (fire, fired) = tokio::sync::oneshot::channel::<String>();
        let weak = WeakCancelToken::downgrade(token);
        // R8: detached, the callback lives as long as the token, and holds it only weakly.
        token
            .on_trigger(move || {
                let reason = weak.upgrade().and_then(|token| token.reason());
                let text = reason.map_or_else(|| "triggered".to_owned(), |r| r.to_string());
                let _ = fire.send(text);
            })
            .detach();
        let task = self.shared.runtime.spawn(async move {
            let work = async {
                // Dropped untriggered: the callback, and with it `fire`, is gone (R8).
                let Ok(reason) = fired.await else {
                    return false;
                };
                let mut backoff = Backoff::new();
                loop {
                    match link.trigger(&key, &reason).await {
                        Ok(()) => return true,
                        Err(error) => {
                            let delay = backoff.next_delay();
                            tracing::warn!(key, %error, retry_in = ?delay, "forwarding a local trigger to Redis failed");
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
            };
            // R8: stops when the `RemoteTokens` is gone, whatever it waits for.
            closed.cancellable_wait(work).await.unwrap_or(false)
        });
        Ok(Forwarding { task })
    }
}

/// A forwarding from [`RemoteTokens::forward`]: dropping it leaves the forwarding running.
#[must_use = "dropping a Forwarding leaves it running; keep it to stop it or to wait for it"]
pub struct Forwarding {
    task: JoinHandle<bool>,
}

impl Forwarding {
    /// Waits until the forwarding ends: `true` once Redis took the trigger, `false` when it
    /// ended first: the token dropped untriggered, [`Forwarding::stop`], or the `RemoteTokens`
    /// dropped (R8). Cancel safe.
    pub async fn landed(self) -> bool {
        self.task.await.unwrap_or(false)
    }

    /// Whether the forwarding has ended (landed or stopped). Never blocks.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the forwarding, if it has not landed yet. (Its callback stays registered on the
    /// token, inert, until the token is dropped.)
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl fmt::Debug for Forwarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarding")
            .field("finished", &self.is_finished())
            .finish()
    }
}
