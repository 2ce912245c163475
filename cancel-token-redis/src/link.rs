//! What the [`RemoteTokens`](crate::RemoteTokens) handles, the watcher task and the forwarding
//! tasks share: the settings, the two connections and the watch list.
//!
//! Invariant R1, level-triggered: a key is subscribed (confirmed by Redis) before it is read, on
//! a token's first watch ([`Link::subscribe`], then [`Link::read_reason`] or
//! [`Link::read_and_trigger`]) as after every reconnection (`watcher::resubscribe`). A trigger whose `SET` came before the read is seen by
//! the read; one whose `SET` came after it publishes after the subscription, so its message
//! reaches the watcher. No trigger falls in between, however long the connection was down.
//!
//! Invariant R6, the subscription matches the list: every change to what the subscription
//! connection is subscribed to happens under [`Link::subscription`]'s lock. A token's first
//! watch adds its key to the list and sends `SUBSCRIBE` under the shared (read) lock; the
//! watcher replaces the connection, subscribes the list's keys on a new one, and removes swept
//! keys then sends their `UNSUBSCRIBE`, each under the exclusive (write) lock. So a key swept
//! (R5) is never unsubscribed after a new token subscribed it again, and a key added while the
//! watcher reconnects is either in the keys it subscribes or subscribed by its own token on the
//! new connection.

use std::pin::pin;
use std::time::Duration;

use cancel_token::{CancelToken, Reason};
use redis::aio::PubSubSink;
use tokio::sync::{Notify, RwLock};

use crate::commands::Commands;
use crate::error::{Error, bounded};
use crate::reason::RemoteReason;
use crate::watched::Watched;

/// At most this many keys in one `SUBSCRIBE`, `UNSUBSCRIBE` or `MGET`.
pub(crate) const BATCH: usize = 1000;

pub(crate) struct Link {
    pub(crate) prefix: String,
    pub(crate) ttl_seconds: u64,
    pub(crate) timeout: Duration,
    pub(crate) sweep_interval: Duration,
    pub(crate) client: redis::Client,
    pub(crate) commands: Commands,
    /// The subscription connection's sink while it is up, `None` while the watcher reconnects;
    /// its lock orders every change of subscriptions (R6).
    pub(crate) subscription: RwLock<Option<PubSubSink>>,
    /// Woken once the watcher has a new subscription connection.
    pub(crate) reconnected: Notify,
    /// Woken when the list has doubled since the last sweep (R5).
    pub(crate) sweep_wanted: Notify,
    pub(crate) watched: Watched,
}

impl Link {
    /// Adds each token to the list for its key (`tokens[i]` for `keys[i]`) and subscribes to the
    /// keys (R1, R6), a thousand per `SUBSCRIBE`; waits for the subscription connection while the
    /// watcher reconnects. All within the time bound, once per started thousand keys.
    pub(crate) async fn subscribe(
        &self,
        keys: &[String],
        tokens: &[CancelToken],
    ) -> Result<(), Error> {
        let subscribed = async {
            loop {
                let mut reconnected = pin!(self.reconnected.notified());
                // Registered before the check, so a reconnection just after it still wakes us.
                reconnected.as_mut().enable();
                {
                    let subscription = self.subscription.read().await;
                    if let Some(sink) = &*subscription {
                        // R6: added and subscribed under the shared lock.
                        let mut sweep_due = false;
                        for (key, token) in keys.iter().zip(tokens) {
                            sweep_due |= self.watched.add(key, token);
                        }
                        if sweep_due {
                            self.sweep_wanted.notify_one();
                        }
                        let mut sink = sink.clone();
                        for batch in keys.chunks(BATCH) {
                            sink.subscribe(batch).await?;
                        }
                        return Ok(());
                    }
                }
                reconnected.await;
            }
        };
        let batches = u32::try_from(keys.len().div_ceil(BATCH)).unwrap_or(u32::MAX);
        let bound = self.timeout.saturating_mul(batches.max(1));
        bounded(bound, "SUBSCRIBE", subscribed).await
    }

    /// Reads `keys`, a thousand per `MGET`, and triggers the live tokens of those that exist
    /// with their values (R2).
    pub(crate) async fn read_and_trigger(&self, keys: &[String]) -> Result<(), Error> {
        for batch in keys.chunks(BATCH) {
            let mut mget = redis::cmd("MGET");
            mget.arg(batch);
            let values: Vec<Option<Vec<u8>>> = self.commands.query("MGET", &mget).await?;
            for (key, value) in batch.iter().zip(values) {
                if let Some(value) = value {
                    self.watched.trigger(key, remote_reason(text(&value)));
                }
            }
        }
        Ok(())
    }

    /// The key's value, if it exists: the reason text (R2).
    pub(crate) async fn read_reason(&self, key: &str) -> Result<Option<String>, Error> {
        let mut get = redis::cmd("GET");
        get.arg(key);
        let value: Option<Vec<u8>> = self.commands.query("GET", &get).await?;
        Ok(value.map(|bytes| text(&bytes)))
    }

    /// `SET <key> <reason> NX EX <ttl>` then `PUBLISH <key> <reason>`, in one round trip (R4).
    pub(crate) async fn trigger(&self, key: &str, reason: &str) -> Result<(), Error> {
        let mut both = redis::pipe();
        both.cmd("SET")
            .arg(key)
            .arg(reason)
            .arg("NX")
            .arg("EX")
            .arg(self.ttl_seconds)
            .ignore()
            .cmd("PUBLISH")
            .arg(key)
            .arg(reason)
            .ignore();
        self.commands.pipeline("SET and PUBLISH", &both).await
    }
}

/// A key's value as reason text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The reason a key's value gives its local tokens (R2).
pub(crate) fn remote_reason(text: String) -> Reason {
    Reason::from(RemoteReason::new(text))
}
