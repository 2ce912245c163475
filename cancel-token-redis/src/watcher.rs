//! The watch list and the task that reads the subscription's messages.
//!
//! Invariant R2: a message only wakes; the reason is the key's value, re-read on every message,
//! so the first reason wins even when two triggers race (both `SET ... NX`, one key).
//!
//! Invariant R3: the watch list holds only [`WeakCancelToken`]s: it never keeps a local token
//! alive (a dropped token's handle is pruned when its key is watched again or triggered).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cancel_token::{CancelToken, Reason, WeakCancelToken};
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubStream};

use crate::error::bounded;
use crate::reason::RemoteReason;

/// Per key (prefix + id), the weak handles of the local tokens watching it (R3).
#[derive(Debug, Default)]
pub(crate) struct Watched {
    keys: Mutex<HashMap<String, Vec<WeakCancelToken>>>,
}

impl Watched {
    /// Watches `key` for `token`, pruning the dropped handles of that key.
    pub(crate) fn add(&self, key: &str, token: &CancelToken) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let handles = keys.entry(key.to_owned()).or_default();
        handles.retain(|handle| !handle.is_dropped());
        handles.push(WeakCancelToken::downgrade(token));
    }

    fn contains(&self, key: &str) -> bool {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.contains_key(key)
    }

    /// Forgets `key` and returns its live tokens: once triggered, a token stays triggered, and a
    /// token asked for later is born triggered (R1), so the key needs no watching any more.
    fn take(&self, key: &str) -> Vec<CancelToken> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let handles = keys.remove(key).unwrap_or_default();
        handles
            .iter()
            .filter_map(WeakCancelToken::upgrade)
            .collect()
    }
}

/// The key's value, if it exists (R2): the reason text.
pub(crate) async fn read_reason(
    commands: &mut MultiplexedConnection,
    timeout: Duration,
    key: &str,
) -> Result<Option<String>, crate::Error> {
    let mut get = redis::cmd("GET");
    get.arg(key);
    let value: Option<Vec<u8>> = bounded(timeout, "GET", get.query_async(commands)).await?;
    Ok(value.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Reads the subscription until it closes: for each message on a watched key, re-reads the key
/// (R2) and triggers that key's live local tokens with its value.
///
/// Runs on one task for the whole `RemoteTokens`, so messages are handled one at a time, in order.
pub(crate) async fn read_messages(
    mut messages: PubSubStream,
    watched: Arc<Watched>,
    mut commands: MultiplexedConnection,
    timeout: Duration,
) {
    while let Some(message) = messages.next().await {
        let key = message.get_channel_name();
        if !watched.contains(key) {
            continue;
        }
        let text = match read_reason(&mut commands, timeout, key).await {
            Ok(Some(text)) => text,
            Ok(None) => {
                // No key, no trigger (R2): it expired, or someone published without SET.
                tracing::debug!(key, "message on a key that does not exist: ignored");
                continue;
            }
            Err(error) => {
                // Cancelling on the message's text beats missing a trigger.
                tracing::warn!(key, %error, "could not re-read the key: the message's text is the reason");
                String::from_utf8_lossy(message.get_payload_bytes()).into_owned()
            }
        };
        let reason = Reason::from(RemoteReason::new(text));
        for token in watched.take(key) {
            token.trigger_with(reason.clone());
        }
    }
    tracing::error!(
        "the Redis subscription connection closed: remote triggers no longer reach local tokens \
         (reconnecting is not built yet)"
    );
}
