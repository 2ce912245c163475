//! Remote tokens against a real redis-server on a free port of 127.0.0.1, measured, not asserted:
//! `cargo bench -p cancel-token-redis --bench remote` prints one table (about a minute).
//!
//! - Latency, trigger in this process to token woken in ANOTHER process (this binary re-run in a
//!   child mode, with its own runtime and its own `RemoteTokens` watching every id): both sides
//!   stamp the wall clock (`SystemTime`, CLOCK_REALTIME on Linux, one clock for every process of
//!   the machine): the parent just before `trigger(id)`, the child as soon as the task awaiting
//!   `token.wait()` runs again. Latency is child stamp minus parent stamp, no round trip halved.
//!   The parent waits for each report before the next trigger, so no trigger queues behind another.
//! - Throughput of `trigger` from one process: one at a time, then 64 in flight.
//! - Memory per watched id: a counting allocator (`stats_alloc`, no `unsafe`), live heap bytes of
//!   this process before and after watching N ids, and after dropping their tokens.
//! - The obvious alternative, a polling `GET` every 100 ms per id (one task per id, one
//!   multiplexed connection), in a child process too: latency, and the Redis commands per second
//!   for 10,000 watched ids for both, from `INFO commandstats` read before and after a window
//!   (the `INFO` calls themselves left out).
//!
//! The server is the tests' (`tests/support`): started here, killed at the end.

#[allow(dead_code)] // Shared with the tests, which use more of it.
#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::System;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cancel_token::CancelToken;
use cancel_token_redis::RemoteTokens;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use support::RedisServer;
use tokio::sync::mpsc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Set in the child's environment: `ours` or `poll`. Its URL and id count follow in the next two.
const CHILD_MODE: &str = "CANCEL_TOKEN_REDIS_BENCH_CHILD";
const CHILD_URL: &str = "CANCEL_TOKEN_REDIS_BENCH_URL";
const CHILD_IDS: &str = "CANCEL_TOKEN_REDIS_BENCH_IDS";

/// Ids watched by the latency child, and triggers measured.
const LATENCY_IDS: usize = 10_000;
/// Ids watched for the commands-per-second comparison (ours and polling).
const WATCHED_IDS: usize = 10_000;
/// Triggers measured against the polling child (each takes ~100 ms: a spread, then ~50 ms).
const POLL_SAMPLES: usize = 200;
const POLL_EVERY: Duration = Duration::from_millis(100);
/// The window over which Redis's command counters are read.
const WINDOW: Duration = Duration::from_secs(3);
/// Ids watched for the memory figure.
const MEMORY_IDS: usize = 10_000;
/// Liveness bound on any one report from a child.
const BOUND: Duration = Duration::from_secs(30);

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match std::env::var(CHILD_MODE) {
        Ok(mode) => runtime.block_on(child(&mode)),
        Err(_) => runtime.block_on(parent()),
    }
}

/// Nanoseconds since the epoch, on the clock every process of the machine shares.
fn wall_nanos() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since.as_nanos()).expect("before 2554")
}

// ---------------------------------------------------------------------------------------------
// The child: watches ids `0..n` and prints `ready`, then `<i> <wall nanos>` per id it sees
// triggered. Killed by the parent.

async fn child(mode: &str) {
    let url = std::env::var(CHILD_URL).expect("child URL");
    let ids: usize = std::env::var(CHILD_IDS)
        .expect("child id count")
        .parse()
        .expect("a count");
    // Kept until the parent kills this process: the tasks need their connection.
    let _connection: Box<dyn std::any::Any> = match mode {
        "ours" => Box::new(watch_ours(&url, ids).await),
        "poll" => Box::new(watch_polling(&url, ids).await),
        other => panic!("unknown child mode {other:?}"),
    };
    report("ready");
    std::future::pending::<()>().await;
}

fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .expect("report to the parent");
}

fn id(mode: &str, i: usize) -> String {
    format!("{mode}-{i}")
}

async fn watch_ours(url: &str, ids: usize) -> RemoteTokens {
    let remote = RemoteTokens::connect(url).await.expect("connect");
    for i in 0..ids {
        let token = remote.token(&id("ours", i)).await.expect("token");
        tokio::spawn(async move {
            token.wait().await;
            report(&format!("{i} {}", wall_nanos()));
        });
    }
    remote
}

async fn watch_polling(url: &str, ids: usize) -> MultiplexedConnection {
    let commands = raw_connection(url).await;
    for i in 0..ids {
        let key = format!("cancel-token:{}", id("poll", i));
        let mut commands = commands.clone();
        tokio::spawn(async move {
            loop {
                let value: Option<String> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut commands)
                    .await
                    .expect("GET");
                if value.is_some() {
                    report(&format!("{i} {}", wall_nanos()));
                    return;
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
        });
    }
    commands
}

async fn raw_connection(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connection")
}

// ---------------------------------------------------------------------------------------------
// The parent.

/// A running child and its reports, one line each.
struct Watcher {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Watcher {
    async fn start(mode: &str, url: &str, ids: usize) -> Watcher {
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .env(CHILD_MODE, mode)
            .env(CHILD_URL, url)
            .env(CHILD_IDS, ids.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the child");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let mut watcher = Watcher { child, lines };
        assert_eq!(watcher.next_line().await, "ready");
        watcher
    }

    async fn next_line(&mut self) -> String {
        match tokio::time::timeout(BOUND, self.lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("the child exited"),
            Err(_) => panic!("the child did not report within {BOUND:?}"),
        }
    }

    /// Triggers ids `0..count` of `mode` one after the other, each once the previous was seen by
    /// the child: the latencies, trigger (parent's clock) to woken (child's clock).
    ///
    /// With `spread`, each trigger first waits a part of it, spread evenly over `0..spread`
    /// (golden-ratio steps), untimed: a poller's tasks all wake in one phase, and a trigger sent
    /// right after the previous one was seen would always land just after that phase and measure
    /// the whole period, where triggers arriving at any moment measure half of it on average.
    async fn latencies(
        &mut self,
        remote: &RemoteTokens,
        mode: &str,
        count: usize,
        spread: Option<Duration>,
    ) -> Vec<u64> {
        let mut latencies = Vec::with_capacity(count);
        for i in 0..count {
            if let Some(spread) = spread {
                let part = (i as f64 * 0.618_033_988_749_895).fract();
                tokio::time::sleep(spread.mul_f64(part)).await;
            }
            let before = wall_nanos();
            remote
                .trigger(&id(mode, i), "bench")
                .await
                .expect("trigger");
            let line = self.next_line().await;
            let (seen, at) = line.split_once(' ').expect("`<i> <nanos>`");
            assert_eq!(
                seen.parse::<usize>().expect("i"),
                i,
                "the child saw another id"
            );
            latencies.push(at.parse::<u64>().expect("nanos").saturating_sub(before));
        }
        latencies
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls per command (lower case, `INFO` left out) since the server started.
async fn command_calls(commands: &mut MultiplexedConnection) -> HashMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(commands)
        .await
        .expect("INFO commandstats");
    info.lines()
        .filter_map(|line| {
            // cmdstat_get:calls=123,usec=...
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            (name != "info").then(|| (name.to_owned(), calls))
        })
        .collect()
}

/// Commands Redis processed per second over [`WINDOW`], total and the busiest three.
async fn commands_per_second(commands: &mut MultiplexedConnection) -> (f64, String) {
    let before = command_calls(commands).await;
    tokio::time::sleep(WINDOW).await;
    let after = command_calls(commands).await;
    let mut deltas: Vec<(String, u64)> = after
        .into_iter()
        .map(|(name, calls)| {
            let delta = calls - before.get(&name).copied().unwrap_or(0);
            (name, delta)
        })
        .filter(|(_, delta)| *delta > 0)
        .collect();
    deltas.sort_by_key(|(_, delta)| std::cmp::Reverse(*delta));
    let total: u64 = deltas.iter().map(|(_, delta)| delta).sum();
    let per_second = |calls: u64| calls as f64 / WINDOW.as_secs_f64();
    let busiest: Vec<String> = deltas
        .iter()
        .take(3)
        .map(|(name, delta)| format!("{name} {:.0}/s", per_second(*delta)))
        .collect();
    (per_second(total), busiest.join(", "))
}

/// Commands Redis processed between two readings, per command, `INFO` left out.
fn calls_between(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    after
        .iter()
        .map(|(name, calls)| calls - before.get(name).copied().unwrap_or(0))
        .sum()
}

fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

/// p50, p99 and max of `nanos`, in µs, as one table cell.
fn distribution(mut nanos: Vec<u64>) -> String {
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q).round() as usize] as f64 / 1e3;
    format!(
        "p50 {:>9.1} µs  p99 {:>9.1} µs  max {:>9.1} µs  (n = {})",
        at(0.50),
        at(0.99),
        at(1.0),
        nanos.len()
    )
}

async fn parent() {
    let started = Instant::now();
    let server = RedisServer::start();
    let url = server.url();
    let remote = RemoteTokens::connect(&url).await.expect("connect");
    let mut info = raw_connection(&url).await;
    println!(
        "cancel-token-redis, against redis-server on 127.0.0.1:{}",
        server.port
    );

    // (c) Memory per watched id, in this process.
    let warm = remote.token("warm-up").await.expect("token");
    drop(warm);
    let mut tokens: Vec<CancelToken> = Vec::with_capacity(MEMORY_IDS);
    let before = live_bytes();
    for i in 0..MEMORY_IDS {
        tokens.push(remote.token(&id("memory", i)).await.expect("token"));
    }
    let watching = live_bytes() - before;
    drop(tokens);
    // Dropped ids are forgotten by the watcher's next sweep (R5, every second by default).
    let dropped_at = Instant::now();
    while remote.watched_ids() > 0 && dropped_at.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let forgotten_after = dropped_at.elapsed();
    let dropped = live_bytes() - before;
    println!(
        "memory per watched id ({MEMORY_IDS} ids, live heap of this process): {} B while \
         watched; {} B per id still held once every token was dropped and the watcher forgot \
         them ({} ids left, after {forgotten_after:.2?})",
        watching / MEMORY_IDS as isize,
        dropped / MEMORY_IDS as isize,
        remote.watched_ids()
    );

    // (b) Trigger throughput, one process.
    const SEQUENTIAL: usize = 10_000;
    let start = Instant::now();
    for i in 0..SEQUENTIAL {
        remote
            .trigger(&id("one", i), "bench")
            .await
            .expect("trigger");
    }
    let one_at_a_time = SEQUENTIAL as f64 / start.elapsed().as_secs_f64();
    const CONCURRENT: usize = 50_000;
    const IN_FLIGHT: usize = 64;
    let start = Instant::now();
    futures_util::stream::iter(0..CONCURRENT)
        .map(|i| {
            let remote = remote.clone();
            async move { remote.trigger(&id("many", i), "bench").await }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|result| async move { result.expect("trigger") })
        .await;
    let concurrent = CONCURRENT as f64 / start.elapsed().as_secs_f64();
    println!(
        "trigger throughput, one process: {one_at_a_time:.0}/s one at a time \
         ({SEQUENTIAL} triggers), {concurrent:.0}/s with {IN_FLIGHT} in flight ({CONCURRENT})"
    );

    // (a) and (d), ours: a child watching 10,000 ids; idle commands, then the latencies.
    let mut ours = Watcher::start("ours", &url, WATCHED_IDS.max(LATENCY_IDS)).await;
    let (ours_idle, ours_busiest) = commands_per_second(&mut info).await;
    let before = command_calls(&mut info).await;
    let latencies = ours.latencies(&remote, "ours", LATENCY_IDS, None).await;
    let per_trigger = calls_between(&before, &command_calls(&mut info).await) as f64;
    drop(ours);
    println!(
        "ours, trigger to woken in another process: {}",
        distribution(latencies)
    );
    println!(
        "ours, Redis commands for {WATCHED_IDS} watched ids: {ours_idle:.0}/s idle [{ours_busiest}]; \
         {:.2} per trigger (SET, PUBLISH, the watcher's GET)",
        per_trigger / LATENCY_IDS as f64
    );

    // (d) Polling: GET every 100 ms per id, in a child.
    let mut polling = Watcher::start("poll", &url, WATCHED_IDS).await;
    // Past the first round, when every task starts at once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (poll_idle, poll_busiest) = commands_per_second(&mut info).await;
    let latencies = polling
        .latencies(&remote, "poll", POLL_SAMPLES, Some(POLL_EVERY))
        .await;
    drop(polling);
    println!(
        "polling GET every {POLL_EVERY:?}, trigger to seen in another process: {}",
        distribution(latencies)
    );
    println!(
        "polling, Redis commands for {WATCHED_IDS} watched ids: {poll_idle:.0}/s with no trigger \
         [{poll_busiest}]"
    );
    println!("done in {:.0?}", started.elapsed());
}
