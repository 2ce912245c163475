//! The watcher: one task per [`RemoteTokens`](crate::RemoteTokens) that reads the subscription's
//! messages, keeps the subscription up and sweeps the watch list.
//!
//! Invariant R2: a message only wakes; the reason is the key's value, re-read on every message,
//! so the first reason wins even when two triggers race (both `SET ... NX`, one key).
//!
//! Invariant R7, survives the network: when the subscription connection closes, or fails to
//! answer a `PING` (sent every sweep interval) or an `UNSUBSCRIBE` within the time bound, the
//! watcher drops it and reconnects, with capped exponential backoff ([`Backoff`]: 100 ms doubling
//! up to 5 s, jittered), logging each failure at `warn` and the recovery at `info`. A new
//! connection subscribes every key of the list, then reads them all (R1); a failure anywhere in
//! that starts it over. Meanwhile `token()` waits for the new connection within its time bound,
//! and the command connection reconnects on its own (R4).
//!
//! Messages are handled one at a time, in order, on this one task.

use std::sync::Arc;

use futures_util::StreamExt;
use redis::aio::PubSubStream;

use crate::backoff::Backoff;
use crate::error::{Error, bounded};
use crate::link::{BATCH, Link, remote_reason, text};

/// Runs until aborted (when the last `RemoteTokens` clone is dropped), starting with the
/// subscription `messages` of the connection `connect` opened.
pub(crate) async fn run(link: Arc<Link>, mut messages: PubSubStream) {
    let mut backoff = Backoff::new();
    loop {
        let lost = watch(&link, messages).await;
        *link.subscription.write().await = None;
        tracing::warn!(error = %lost, "the Redis subscription connection was lost: reconnecting");
        let mut delay = backoff.next_delay();
        messages = loop {
            tokio::time::sleep(delay).await;
            match resubscribe(&link).await {
                Ok(messages) => break messages,
                Err(error) => {
                    delay = backoff.next_delay();
                    tracing::warn!(%error, retry_in = ?delay, "reconnecting the Redis subscription failed");
                }
            }
        };
        backoff.reset();
        tracing::info!(
            watched = link.watched.len(),
            "the Redis subscription is back: every watched id subscribed again and re-read"
        );
    }
}

/// Handles messages, pings and sweeps until the connection fails: returns why, having dropped
/// the connection.
async fn watch(link: &Link, mut messages: PubSubStream) -> Error {
    let mut tick = tokio::time::interval(link.sweep_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        let result = tokio::select! {
            message = messages.next() => match message {
                Some(message) => {
                    on_message(link, message).await;
                    Ok(())
                }
                None => return closed(),
            },
            _ = tick.tick() => match ping(link).await {
                Ok(()) => sweep(link).await,
                Err(error) => Err(error),
            },
            () = link.sweep_wanted.notified() => sweep(link).await,
        };
        if let Err(error) = result {
            return error;
        }
    }
}

fn closed() -> Error {
    Error::Redis {
        during: "reading messages",
        source: "the connection closed".into(),
    }
}

/// Re-reads the message's key (R2) and triggers its live local tokens with the value.
async fn on_message(link: &Link, message: redis::Msg) {
    let key = message.get_channel_name();
    if !link.watched.has_live(key) {
        return;
    }
    let reason = match link.read_reason(key).await {
        Ok(Some(reason)) => reason,
        Ok(None) => {
            // No key, no trigger (R2): it expired, or someone published without SET.
            tracing::debug!(key, "message on a key that does not exist: ignored");
            return;
        }
        Err(error) => {
            // Cancelling on the message's text beats missing a trigger.
            tracing::warn!(key, %error, "could not re-read the key: the message's text is the reason");
            text(message.get_payload_bytes())
        }
    };
    link.watched.trigger(key, remote_reason(reason));
}

/// A silent connection (no reset, no answer) is found out here (R7).
async fn ping(link: &Link) -> Result<(), Error> {
    let sink = link.subscription.read().await.clone();
    match sink {
        Some(mut sink) => bounded(link.timeout, "PING", sink.ping::<()>()).await,
        None => Err(closed()),
    }
}

/// Forgets the keys without live tokens (R5) and unsubscribes them, under the exclusive lock
/// (R6). A failure ends this connection (R7): the next one subscribes only the list's keys.
async fn sweep(link: &Link) -> Result<(), Error> {
    let subscription = link.subscription.write().await;
    let dead = link.watched.sweep();
    let Some(sink) = &*subscription else {
        return Ok(());
    };
    let mut sink = sink.clone();
    for keys in dead.chunks(BATCH) {
        bounded(link.timeout, "UNSUBSCRIBE", sink.unsubscribe(keys)).await?;
    }
    Ok(())
}

/// A new subscription connection with every key of the list subscribed, then read (R1, R7).
async fn resubscribe(link: &Link) -> Result<PubSubStream, Error> {
    let pubsub = bounded(link.timeout, "connecting", link.client.get_async_pubsub()).await?;
    let (mut sink, messages) = pubsub.split();
    let keys = {
        let mut subscription = link.subscription.write().await;
        // R5: the keys forgotten meanwhile are simply not subscribed on the new connection.
        link.watched.sweep();
        let keys = link.watched.keys();
        for batch in keys.chunks(BATCH) {
            bounded(link.timeout, "SUBSCRIBE", sink.subscribe(batch)).await?;
        }
        // R6: installed, with the list's keys subscribed, under the exclusive lock.
        *subscription = Some(sink);
        keys
    };
    link.reconnected.notify_waiters();
    // R1: every key subscribed above is read now, after its subscription was confirmed.
    let read = link.read_and_trigger(&keys).await;
    if read.is_err() {
        *link.subscription.write().await = None;
    }
    read.map(|()| messages)
}
