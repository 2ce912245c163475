//! [`RemoteTokens`]: local tokens for remote ids.
//!
//! Invariant R1: [`RemoteTokens::token`] puts the new token in the watch list, then subscribes
//! to the id's channel and waits for Redis to confirm, and only then reads the key. A trigger
//! whose `SET` came before the read is seen by the read; one whose `SET` came after it publishes
//! after the subscription, so its message reaches the watcher. No trigger falls in between.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cancel_token::CancelToken;
use redis::aio::{MultiplexedConnection, PubSubSink};

use crate::builder::Builder;
use crate::error::{Error, bounded};
use crate::reason::RemoteReason;
use crate::watcher::{Watched, read_messages, read_reason};

/// Local [`CancelToken`]s for ids triggered anywhere, through one Redis.
///
/// One per process is enough: clones share one subscription connection, one command connection
/// and one background task that reads the messages, however many ids are watched. The task ends
/// when the last clone is dropped. Needs a tokio runtime (with the `time` driver).
///
/// See the crate docs for an example and the wire format.
#[derive(Clone)]
pub struct RemoteTokens {
    shared: Arc<Shared>,
}

struct Shared {
    prefix: String,
    ttl_seconds: u64,
    timeout: Duration,
    commands: MultiplexedConnection,
    subscriber: PubSubSink,
    watched: Arc<Watched>,
    reader: tokio::task::AbortHandle,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl RemoteTokens {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the default settings
    /// (prefix `cancel-token:`, TTL 24 h, time bound 5 s); [`RemoteTokens::builder`] for others.
    ///
    /// Opens the two connections and checks that Redis answers each (`PING`).
    /// Errors: [`Error::InvalidUrl`], [`Error::Redis`] (refused, ...), [`Error::Timeout`] when
    /// nothing answers within the bound. Never panics.
    pub async fn connect(url: &str) -> Result<RemoteTokens, Error> {
        Builder::default().connect(url).await
    }

    /// Settings other than the defaults: key prefix, TTL, time bound.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) async fn connect_with(settings: Builder, url: &str) -> Result<RemoteTokens, Error> {
        let timeout = settings.timeout;
        let client = redis::Client::open(url).map_err(|source| Error::InvalidUrl {
            url: url.to_owned(),
            source: Box::new(source),
        })?;
        let mut commands = bounded(
            timeout,
            "connecting",
            client.get_multiplexed_async_connection(),
        )
        .await?;
        let ping = redis::cmd("PING");
        bounded::<()>(timeout, "PING", ping.query_async(&mut commands)).await?;
        let pubsub = bounded(timeout, "connecting", client.get_async_pubsub()).await?;
        let (mut subscriber, messages) = pubsub.split();
        bounded::<()>(timeout, "PING", subscriber.ping()).await?;

        let watched = Arc::new(Watched::default());
        let reader = tokio::spawn(read_messages(
            messages,
            Arc::clone(&watched),
            commands.clone(),
            timeout,
        ))
        .abort_handle();
        Ok(RemoteTokens {
            shared: Arc::new(Shared {
                ttl_seconds: settings.ttl_seconds(),
                prefix: settings.prefix,
                timeout,
                commands,
                subscriber,
                watched,
                reader,
            }),
        })
    }

    /// A local token, named `<prefix><id>`, that triggers when `id` is triggered anywhere,
    /// before or after this call (R1): born triggered if the key exists. Its reason is a
    /// [`RemoteReason`] whose text (and `Display`) is the key's value, the first reason given.
    ///
    /// Costs one `SUBSCRIBE` and one `GET` round trip. Cancel safe: dropping the future leaves
    /// nothing but a dead weak handle in the watch list. Errors: [`Error::EmptyId`], and
    /// [`Error::Redis`] or [`Error::Timeout`] from Redis.
    pub async fn token(&self, id: &str) -> Result<CancelToken, Error> {
        let key = self.key(id)?;
        let token = CancelToken::new(key.clone());
        let shared = &*self.shared;
        shared.watched.add(&key, &token);
        // R1: subscribed (confirmed by Redis) before the key is read.
        let mut subscriber = shared.subscriber.clone();
        bounded(shared.timeout, "SUBSCRIBE", subscriber.subscribe(&key)).await?;
        let mut commands = shared.commands.clone();
        if let Some(text) = read_reason(&mut commands, shared.timeout, &key).await? {
            token.trigger_with(RemoteReason::new(text));
        }
        Ok(token)
    }

    /// Triggers `id` everywhere: `SET <prefix><id> <reason> NX EX <ttl>` then
    /// `PUBLISH <prefix><id> <reason>`. The first reason wins: a later trigger leaves the key as
    /// it is, and its message makes watchers re-read that first reason (R2).
    ///
    /// Local tokens of this process are triggered by the message too, a round trip later, not
    /// by this call. Errors: [`Error::EmptyId`], and [`Error::Redis`] or [`Error::Timeout`].
    pub async fn trigger(&self, id: &str, reason: &str) -> Result<(), Error> {
        let key = self.key(id)?;
        let shared = &*self.shared;
        let mut commands = shared.commands.clone();
        let mut set = redis::cmd("SET");
        set.arg(&key)
            .arg(reason)
            .arg("NX")
            .arg("EX")
            .arg(shared.ttl_seconds);
        bounded::<()>(shared.timeout, "SET", set.query_async(&mut commands)).await?;
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&key).arg(reason);
        bounded::<()>(
            shared.timeout,
            "PUBLISH",
            publish.query_async(&mut commands),
        )
        .await
    }

    fn key(&self, id: &str) -> Result<String, Error> {
        if id.is_empty() {
            return Err(Error::EmptyId);
        }
        Ok(format!("{}{id}", self.shared.prefix))
    }
}

impl fmt::Debug for RemoteTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteTokens")
            .field("prefix", &self.shared.prefix)
            .field("ttl_seconds", &self.shared.ttl_seconds)
            .field("timeout", &self.shared.timeout)
            .finish_non_exhaustive()
    }
}
