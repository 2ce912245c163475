//! Bounded memory (R5): a million ids watched and dropped leave nothing behind, in this process
//! (a counting allocator, as the core's tests/leak.rs) and in Redis (no channel subscribed).
//!
//! The ids are watched in batches of [`BATCH`], by as many concurrent `token()` calls (which
//! share the two connections and are pipelined) or by one `tokens()` call, in turn. Memory is measured from the end of a warm-up ([`WARM_UP`]
//! ids), once the connections' buffers and queues have grown to their working size: what a batch
//! needs while it is live is given back, and a leak per id is multiplied by the 900,000 ids
//! after it: [`LIMIT`] is below one byte per id, and a leak of one allocation per id would be
//! megabytes.
//!
//! What may grow after the warm-up is the client's queues of commands in flight, whose capacity
//! is kept at its peak: bounded by the peak number of commands in flight (about two batches),
//! never by the ids watched so far. Measured: the live heap grows by 200 KiB (8192 slots of 25
//! bytes) once, at some point of the first few hundred thousand ids depending on how a sweep's
//! `UNSUBSCRIBE` and the next batch overlap, then stays within 3 KB of that up to a million.
//!
//! A million ids take over a minute in a debug build (the client's work, not Redis's), so this
//! test has its own feature, `redis-leak-test`, and `.ci/redis.sh` runs it in release mode
//! (about 15 s).

mod support;

use std::alloc::System;
use std::time::{Duration, Instant};

use cancel_token_redis::RemoteTokens;
use futures_util::future::join_all;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use support::RedisServer;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MILLION: usize = 1_000_000;
const BATCH: usize = 2_000;
const WARM_UP: usize = 100_000;

/// At most this many bytes may be left behind: less than one byte per id after the warm-up.
const LIMIT: isize = 512 * 1024;

/// Hang guard for each wait (not a timing assertion).
const HANG_GUARD: Duration = Duration::from_secs(120);

fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

/// Watches the ids `first..first + BATCH` at once, then drops their tokens: by as many
/// concurrent `token()` calls for even batches, by one `tokens()` call for odd ones.
async fn watch_and_drop(remote: &RemoteTokens, first: usize) {
    let ids = (first..first + BATCH).map(|i| format!("id-{i}"));
    let tokens = if (first / BATCH).is_multiple_of(2) {
        join_all(ids.map(|id| async move { remote.token(&id).await }))
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
    } else {
        remote.tokens(ids).await
    };
    for token in tokens.expect("tokens") {
        assert!(!token.triggered());
    }
}

/// Waits until the watch list is empty and Redis has no channel subscribed (R5, R6).
async fn until_forgotten(remote: &RemoteTokens, raw: &mut redis::aio::MultiplexedConnection) {
    let forgotten = async {
        loop {
            let channels: Vec<String> = redis::cmd("PUBSUB")
                .arg("CHANNELS")
                .query_async(raw)
                .await
                .expect("PUBSUB CHANNELS");
            if remote.watched_ids() == 0 && channels.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(HANG_GUARD, forgotten)
        .await
        .expect("the dropped ids were not forgotten within the hang guard");
}

#[test]
fn a_million_ids_watched_and_dropped_leave_nothing_behind() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = RedisServer::start();
        let remote = RemoteTokens::builder()
            .sweep_interval(Duration::from_millis(100))
            .connect(&server.url())
            .await
            .expect("connect");
        let mut raw = redis::Client::open(server.url())
            .expect("client")
            .get_multiplexed_async_connection()
            .await
            .expect("raw connection");

        let started = Instant::now();
        let mut before = 0;
        for first in (0..MILLION).step_by(BATCH) {
            if first == WARM_UP {
                until_forgotten(&remote, &mut raw).await;
                before = live_bytes();
            }
            tokio::time::timeout(HANG_GUARD, watch_and_drop(&remote, first))
                .await
                .expect("a batch did not finish within the hang guard");
        }
        until_forgotten(&remote, &mut raw).await;
        let grown = live_bytes() - before;
        eprintln!(
            "{MILLION} ids watched and dropped in {:?}; from the end of the warm-up, live bytes \
             grew by {grown}",
            started.elapsed()
        );
        assert!(grown <= LIMIT, "{grown} bytes left behind (limit {LIMIT})");
    });
}
