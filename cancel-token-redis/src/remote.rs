//! [`RemoteTokens`]: local tokens for remote ids.

use std::fmt;
use std::sync::Arc;

use cancel_token::CancelToken;
use tokio::sync::{Notify, RwLock};

use crate::builder::Builder;
use crate::commands::Commands;
use crate::error::{Error, bounded};
use crate::link::{Link, remote_reason};
use crate::watched::Watched;
use crate::watcher;

/// Local [`CancelToken`]s for ids triggered anywhere, through one Redis.
///
/// One per process is enough: clones share one subscription connection, one command connection
/// and one background task (the watcher), however many ids are watched. The watcher reconnects
/// after the network or Redis failed (R7) and forgets ids whose tokens are all dropped (R5); it
/// ends when the last clone is dropped. Needs a tokio runtime (with the `time` driver): the one
/// `connect` runs on.
///
/// See the crate docs for an example and the wire format.
#[derive(Clone)]
pub struct RemoteTokens {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) link: Arc<Link>,
    /// Where the watcher and the forwarding tasks run.
    pub(crate) runtime: tokio::runtime::Handle,
    /// Triggered when the last clone is dropped: forwarding tasks stop.
    pub(crate) closed: CancelToken,
    watcher: tokio::task::AbortHandle,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.watcher.abort();
        self.closed.trigger();
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

    /// Settings other than the defaults: key prefix, TTL, time bound, sweep interval.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) async fn connect_with(settings: Builder, url: &str) -> Result<RemoteTokens, Error> {
        let timeout = settings.timeout;
        let client = redis::Client::open(url).map_err(|source| Error::InvalidUrl {
            url: url.to_owned(),
            source: Box::new(source),
        })?;
        let commands = Commands::connect(client.clone(), timeout).await?;
        let pubsub = bounded(timeout, "connecting", client.get_async_pubsub()).await?;
        let (mut subscriber, messages) = pubsub.split();
        bounded::<()>(timeout, "PING", subscriber.ping()).await?;

        let link = Arc::new(Link {
            ttl_seconds: settings.ttl_seconds(),
            prefix: settings.prefix,
            timeout,
            sweep_interval: settings.sweep_interval,
            client,
            commands,
            subscription: RwLock::new(Some(subscriber)),
            reconnected: Notify::new(),
            sweep_wanted: Notify::new(),
            watched: Watched::default(),
        });
        let runtime = tokio::runtime::Handle::try_current().map_err(|source| Error::Redis {
            during: "starting the watcher (no tokio runtime)",
            source: Box::new(source),
        })?;
        let watcher = runtime
            .spawn(watcher::run(Arc::clone(&link), messages))
            .abort_handle();
        Ok(RemoteTokens {
            shared: Arc::new(Shared {
                link,
                runtime,
                closed: CancelToken::new("RemoteTokens dropped"),
                watcher,
            }),
        })
    }

    /// A local token, named `<prefix><id>`, that triggers when `id` is triggered anywhere,
    /// before or after this call (R1), and after any outage of the network or of Redis (R7):
    /// born triggered if the key exists. Its reason is a [`RemoteReason`](crate::RemoteReason)
    /// whose text (and `Display`) is the key's value, the first reason given.
    ///
    /// Costs one `SUBSCRIBE` and one `GET`; concurrent calls share the two connections and are
    /// pipelined, not serialised. The watch list keeps only a weak handle (R3): once every clone
    /// of the token is dropped (or it triggered), the id is forgotten and unsubscribed within a
    /// sweep interval (R5).
    ///
    /// While the watcher is reconnecting, waits for it, up to the time bound. Returns within
    /// twice the time bound (subscribing, then reading). Cancel safe: dropping the future leaves
    /// nothing but a dead weak handle, swept later. Errors: [`Error::EmptyId`], and
    /// [`Error::Redis`] or [`Error::Timeout`] (Redis unreachable, ...).
    pub async fn token(&self, id: &str) -> Result<CancelToken, Error> {
        let key = self.key(id)?;
        let token = CancelToken::new(key.clone());
        let link = &*self.shared.link;
        // R1: subscribed (confirmed by Redis) before the key is read.
        let keys = [key];
        link.subscribe(&keys, std::slice::from_ref(&token)).await?;
        if let Some(text) = link.read_reason(&keys[0]).await? {
            // Through the list, so that the key needs no watching any more (R5).
            link.watched.trigger(&keys[0], remote_reason(text));
        }
        Ok(token)
    }

    /// [`RemoteTokens::token`] for many ids at once, in their order: a thousand ids per
    /// `SUBSCRIBE` and per `MGET` instead of one of each per id, so a batch of jobs (a prefetch)
    /// is watched in two round trips per thousand.
    ///
    /// Same guarantees as `token` (R1, R3, R5); returns within twice the time bound per started
    /// thousand ids. Errors: [`Error::EmptyId`] when any id is empty (checked before anything is
    /// sent), and [`Error::Redis`] or [`Error::Timeout`].
    pub async fn tokens<I>(&self, ids: I) -> Result<Vec<CancelToken>, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let keys = ids
            .into_iter()
            .map(|id| self.key(id.as_ref()))
            .collect::<Result<Vec<String>, Error>>()?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<CancelToken> = keys
            .iter()
            .map(|key| CancelToken::new(key.clone()))
            .collect();
        let link = &*self.shared.link;
        // R1: all subscribed (confirmed by Redis) before any is read.
        link.subscribe(&keys, &tokens).await?;
        link.read_and_trigger(&keys).await?;
        Ok(tokens)
    }

    /// Triggers `id` everywhere: `SET <prefix><id> <reason> NX EX <ttl>` then
    /// `PUBLISH <prefix><id> <reason>`, pipelined in one round trip. The first reason wins: a
    /// later trigger leaves the key as it is, and its message makes watchers re-read that first
    /// reason (R2).
    ///
    /// Local tokens of this process are triggered by the message too, a round trip later, not
    /// by this call. Does not retry: when Redis is unreachable, returns [`Error::Redis`] or
    /// [`Error::Timeout`] within the time bound (R4), and the caller decides;
    /// [`RemoteTokens::forward`] retries until it lands. Errors: also [`Error::EmptyId`].
    pub async fn trigger(&self, id: &str, reason: &str) -> Result<(), Error> {
        let key = self.key(id)?;
        self.shared.link.trigger(&key, reason).await
    }

    /// How many ids the watch list holds now: those with live local tokens, and those whose
    /// tokens were all dropped or triggered since the last sweep (R5). For metrics and tests.
    pub fn watched_ids(&self) -> usize {
        self.shared.link.watched.len()
    }

    pub(crate) fn key(&self, id: &str) -> Result<String, Error> {
        if id.is_empty() {
            return Err(Error::EmptyId);
        }
        Ok(format!("{}{id}", self.shared.link.prefix))
    }
}

impl fmt::Debug for RemoteTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let link = &self.shared.link;
        f.debug_struct("RemoteTokens")
            .field("prefix", &link.prefix)
            .field("ttl_seconds", &link.ttl_seconds)
            .field("timeout", &link.timeout)
            .field("sweep_interval", &link.sweep_interval)
            .finish_non_exhaustive()
    }
}
