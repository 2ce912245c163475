//! The `consumer` example against a real RabbitMQ (feature `broker-tests`; start the broker with
//! `.ci/rabbitmq.sh start`, or set `CANCEL_TOKEN_AMQP_URL`), and for `--cancel-redis` a real
//! redis-server each test starts for itself (Debian's package `redis-server`). Without a broker,
//! or without redis-server, these tests fail, saying so; they never skip.
//!
//! * **Chaos, SIGTERM**: 2,000 uniquely numbered persistent messages; the consumer is started,
//!   stopped with SIGTERM at a seeded random moment, and restarted, at least 20 times, until the
//!   queue is drained. Every id must be in the output file exactly once (0 lost, 0 duplicated),
//!   every run must exit 0, and the queue must end empty with nothing unacknowledged.
//! * **Chaos, SIGKILL**: the same with crashes. Nothing may be lost; duplicates are expected (a
//!   line fsynced whose ack never left) and are reported, not asserted.
//! * **Chaos, a fleet with cancelled jobs**: 1,000 jobs, 100 cancelled (in Redis) before they are
//!   published and 100 at random moments while two consumers with `--cancel-redis` run, each
//!   stopped with SIGTERM at random moments and restarted until every job is recorded: every id
//!   in exactly one of the four files, every early-cancelled id in a `--cancelled` file, no id
//!   there that was never cancelled, and the queue empty with nothing unacknowledged.
//! * A SIGTERM during a message's work finishes that message, and hands the prefetched ones back.
//! * A second SIGINT during a long `--work-ms` exits 130 at once, and the message is not lost.
//! * Any body (newline, empty, not UTF-8, backslash) is one record on one line of the file.
//! * A SIGTERM while connecting or declaring stops before `basic.consume`: nothing delivered.
//! * `--cancel-redis`: jobs cancelled before they are published are never worked on, one
//!   cancelled during its work stops early; both land in `--cancelled` and are acked. A job
//!   that arrives while Redis is down waits (retried, logged), and a SIGTERM then hands it back
//!   unacked, nothing written.
//! * A queue that does not exist is declared.
//! * Losing the broker mid-run (every connection through a proxy cut, twice) makes the consumer
//!   reconnect and go on: nothing lost, and at most the deliveries it held unacked at each cut
//!   come back a second time.
//!
//! The seeds are printed; `CANCEL_TOKEN_CHAOS_SEED=N` replays the same stop moments (and the
//! fleet's choice of ids to cancel). Run with `--nocapture` to see the figures.
#![cfg(unix)]

mod consumer_support;
#[path = "support/rng.rs"]
mod rng;

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use consumer_support::broker::{Broker, QueueState};
use consumer_support::proxy::Proxy;
use consumer_support::redis::Redis;
use consumer_support::{READY, Running};
use rng::Rng;

const MESSAGES: usize = 2_000;
/// At least this many stops per chaos run (more if the queue is not drained by then).
const MIN_STOPS: usize = 20;
/// A consumer that never drains the queue fails here instead of looping forever.
const MAX_RUNS: usize = 400;
/// Simulated work per message in the chaos runs.
const CHAOS_WORK_MS: &str = "3";
/// The moment of the stop, after the consumer says it is ready: uniform in `0..=STOP_WITHIN_MS`,
/// except one run in [`EARLY_ONE_IN`], stopped within [`EARLY_MS`] to hit the start-up
/// (connecting, declaring, the first deliveries). Chosen so that draining the queue takes well
/// over [`MIN_STOPS`] runs (40-odd measured on 2 cores, both chaos tests at once), so that the
/// stops hit a busy consumer rather than an empty queue.
const STOP_WITHIN_MS: u64 = 700;
const EARLY_ONE_IN: u64 = 6;
const EARLY_MS: u64 = 30;

fn seed() -> u64 {
    match std::env::var("CANCEL_TOKEN_CHAOS_SEED") {
        Ok(seed) => seed.parse().expect("CANCEL_TOKEN_CHAOS_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64,
    }
}

fn ids() -> Vec<String> {
    (0..MESSAGES).map(|n| format!("msg-{n:05}")).collect()
}

/// A fresh output file path in the temp directory.
fn output_file(label: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    std::env::temp_dir().join(format!(
        "cancel-token-{label}-{}-{nanos}.txt",
        std::process::id()
    ))
}

/// How many times each line appears in `files` taken together; every line must be one of `ids`
/// (a torn or foreign line fails the test).
fn count_lines(files: &[&Path], ids: &[String]) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = ids.iter().map(|id| (id.clone(), 0)).collect();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines() {
            match counts.get_mut(line) {
                Some(count) => *count += 1,
                None => panic!("{}: unexpected line {line:?}", file.display()),
            }
        }
    }
    counts
}

struct Tally {
    lost: usize,
    duplicated: usize,
}

fn tally(counts: &HashMap<String, usize>) -> Tally {
    Tally {
        lost: counts.values().filter(|&&count| count == 0).count(),
        duplicated: counts.values().map(|&count| count.saturating_sub(1)).sum(),
    }
}

fn consumer_args(url: &str, queue: &str, file: &Path, work_ms: &str) -> Vec<String> {
    let file = file.to_str().expect("UTF-8 temp path");
    [
        "--amqp",
        url,
        "--queue",
        queue,
        "--processed",
        file,
        "--work-ms",
        work_ms,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `consumer_args` and `--cancel-redis URL --cancelled FILE`.
fn cancel_args(url: &str, queue: &str, files: &Files, work_ms: &str, redis: &Redis) -> Vec<String> {
    let mut args = consumer_args(url, queue, &files.processed, work_ms);
    args.extend([
        "--cancel-redis".to_owned(),
        redis.url(),
        "--cancelled".to_owned(),
        files
            .cancelled
            .to_str()
            .expect("UTF-8 temp path")
            .to_owned(),
    ]);
    args
}

/// One consumer's two output files.
struct Files {
    processed: PathBuf,
    cancelled: PathBuf,
}

impl Files {
    fn new(label: &str) -> Self {
        Self {
            processed: output_file(&format!("{label}-processed")),
            cancelled: output_file(&format!("{label}-cancelled")),
        }
    }

    fn read(&self) -> (String, String) {
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        (read(&self.processed), read(&self.cancelled))
    }

    fn remove(&self) {
        for file in [&self.processed, &self.cancelled] {
            std::fs::remove_file(file).expect("remove an output file");
        }
    }
}

/// `unacked_prefetched=N` from the consumer's stop log: messages handed back to the broker.
fn handed_back(stderr: &[String]) -> usize {
    stderr
        .iter()
        .filter_map(|line| line.split("unacked_prefetched=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .sum()
}

/// The queue once every consumer is gone. Called only after the consumer processes have exited,
/// so their channels are closed (gracefully, or with the socket); RabbitMQ requeues a closed
/// channel's unacknowledged messages, so no ready message then means nothing unacknowledged
/// either. (A passive declare counts ready messages only; the in-flight test below checks that
/// the requeued ones are indeed counted by then.)
fn final_state(broker: &Broker, queue: &str) -> QueueState {
    broker.wait_for_state(queue, "without consumers", |state| state.consumers == 0)
}

/// Once every consumer is gone ([`final_state`]): the queue is empty, nothing unacknowledged.
#[track_caller]
fn assert_drained(broker: &Broker, queue: &str, context: &str) {
    assert_eq!(
        final_state(broker, queue),
        QueueState {
            ready: 0,
            consumers: 0
        },
        "queue {queue} must end empty, nothing unacked; {context}"
    );
}

/// When to stop a consumer, after it says it is ready: see [`STOP_WITHIN_MS`].
fn stop_moment(rng: &mut Rng) -> Duration {
    let within = if rng.up_to(EARLY_ONE_IN - 1) == 0 {
        EARLY_MS
    } else {
        STOP_WITHIN_MS
    };
    Duration::from_millis(rng.up_to(within))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Term,
    Kill,
}

/// Stops a consumer that is running, the chaos way, and checks how it ended.
fn stop(mut consumer: Running, how: Stop) -> consumer_support::Finished {
    assert!(!consumer.has_exited(), "the consumer exited on its own");
    match how {
        Stop::Term => consumer.signal("SIGTERM"),
        Stop::Kill => consumer.kill(),
    }
    let done = consumer.wait();
    match how {
        Stop::Term => assert_eq!(
            done.code(),
            0,
            "a SIGTERM stop must exit 0; stderr:\n{}",
            done.stderr_text()
        ),
        Stop::Kill => assert_eq!(
            done.status.signal(),
            Some(9),
            "killed by SIGKILL: {}",
            done.status
        ),
    }
    done
}

/// Starts and stops the consumer until every id was processed (at least [`MIN_STOPS`] times);
/// for SIGKILL, then drains what the last crashes left with graceful runs. Returns the per-id
/// counts.
fn chaos(how: Stop) -> HashMap<String, usize> {
    let label = if how == Stop::Term {
        "SIGTERM"
    } else {
        "SIGKILL"
    };
    let started = Instant::now();
    let broker = Broker::connect();
    let queue = broker.fresh_queue(&format!("chaos-{}", label.to_lowercase()));
    let ids = ids();
    broker.publish(&queue, &ids);
    let file = output_file(&format!("chaos-{}", label.to_lowercase()));
    let args = consumer_args(broker.url(), &queue, &file, CHAOS_WORK_MS);
    let seed = seed();
    println!("chaos {label}: seed {seed} (CANCEL_TOKEN_CHAOS_SEED={seed} replays it)");
    let mut rng = Rng(seed);

    let mut stops = 0;
    let mut runs = 0;
    let mut prefetched_handed_back = 0;
    loop {
        if stops >= MIN_STOPS {
            // Checked with no consumer running, so the broker has everything back.
            let left = final_state(&broker, &queue).ready;
            if left == 0 {
                break;
            }
            let all_seen = count_lines(&[&file], &ids).values().all(|&count| count > 0);
            if all_seen {
                // Every id is in the file, yet messages came back: ids processed, not acked.
                // Expected after a crash; after graceful stops it is exactly the bug we hunt.
                assert!(
                    how == Stop::Kill,
                    "{left} processed messages came back to the queue after graceful stops"
                );
                // Drain them gracefully: wait until the broker has handed everything out, stop.
                runs += 1;
                let mut consumer = Running::spawn(&args);
                consumer.wait_stderr(READY);
                broker.wait_for_state(&queue, "handed out", |state| state.ready == 0);
                prefetched_handed_back += handed_back(&stop(consumer, Stop::Term).stderr);
                continue;
            }
        }
        runs += 1;
        assert!(
            runs <= MAX_RUNS,
            "queue {queue} not drained after {MAX_RUNS} runs"
        );
        let mut consumer = Running::spawn(&args);
        consumer.wait_stderr(READY);
        std::thread::sleep(stop_moment(&mut rng));
        let done = stop(consumer, how);
        stops += 1;
        prefetched_handed_back += handed_back(&done.stderr);
    }

    assert_drained(&broker, &queue, &format!("after the {label} runs"));
    let counts = count_lines(&[&file], &ids);
    let Tally { lost, duplicated } = tally(&counts);
    println!(
        "chaos {label}: {MESSAGES} ids, {lost} lost, {duplicated} duplicated, {stops} {label} stops, {runs} runs \
         in all, {prefetched_handed_back} prefetched messages handed back on graceful stops, {:.1}s (seed {seed})",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        lost,
        0,
        "lost ids: {:?}",
        counts
            .iter()
            .filter(|(_, count)| **count == 0)
            .collect::<Vec<_>>()
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
    if how == Stop::Term {
        assert_eq!(
            duplicated,
            0,
            "duplicated ids after graceful stops: {:?}",
            counts
                .iter()
                .filter(|(_, count)| **count > 1)
                .collect::<Vec<_>>()
        );
        // The path the stream adapter exists for: stops that happened with messages prefetched
        // but not processed. If no stop did, this run proved less than it claims.
        assert!(
            prefetched_handed_back > 0,
            "no stop happened with prefetched messages; the chaos missed its target"
        );
    }
    counts
}

#[test]
fn chaos_sigterm_loses_and_duplicates_nothing() {
    chaos(Stop::Term);
}

#[test]
fn chaos_sigkill_loses_nothing() {
    chaos(Stop::Kill);
}

#[test]
fn sigterm_during_work_finishes_the_message_and_hands_back_the_prefetched() {
    let broker = Broker::connect();
    let queue = broker.fresh_queue("in-flight");
    let bodies: Vec<String> = (1..=3).map(|n| format!("job-{n}")).collect();
    broker.publish(&queue, &bodies);
    let file = output_file("in-flight");
    let mut consumer = Running::spawn(&consumer_args(broker.url(), &queue, &file, "3000"));
    // job-1 is in hand (its work takes 3 s); with prefetch 4, job-2 and job-3 are ours too.
    consumer.wait_stderr("processing");
    broker.wait_for_state(&queue, "all handed out", |state| state.ready == 0);
    consumer.signal("SIGTERM");
    let done = consumer.wait();
    assert_eq!(done.code(), 0, "stderr:\n{}", done.stderr_text());
    assert_eq!(done.stdout, ["Done"]);
    let processed = std::fs::read_to_string(&file).expect("the output file");
    assert_eq!(
        processed, "job-1\n",
        "the message in hand is finished, and only it"
    );
    assert_eq!(
        handed_back(&done.stderr),
        2,
        "stderr:\n{}",
        done.stderr_text()
    );
    assert_eq!(
        final_state(&broker, &queue),
        QueueState {
            ready: 2,
            consumers: 0
        },
        "job-2 and job-3 are back"
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

#[test]
fn second_sigint_exits_130_at_once_and_loses_nothing() {
    let broker = Broker::connect();
    let queue = broker.fresh_queue("second-sigint");
    broker.publish(&queue, &["slow".to_owned()]);
    let file = output_file("second-sigint");
    // Far longer than the hang guard: only the second signal can end this run in time.
    let mut consumer = Running::spawn(&consumer_args(broker.url(), &queue, &file, "600000"));
    consumer.wait_stderr("processing");
    consumer.signal("SIGINT");
    consumer.wait_stderr("Received signal SIGINT");
    consumer.signal("SIGINT");
    let done = consumer.wait();
    assert_eq!(done.code(), 130, "stderr:\n{}", done.stderr_text());
    let processed = std::fs::read_to_string(&file).expect("the output file");
    assert_eq!(processed, "", "the interrupted message was not written");
    // Not acked, so the broker has it back: a second signal is a crash, and crashes lose nothing.
    assert_eq!(
        final_state(&broker, &queue),
        QueueState {
            ready: 1,
            consumers: 0
        }
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

#[test]
fn a_missing_queue_is_declared() {
    let broker = Broker::connect();
    let queue = broker.unique_queue_name("declared");
    let file = output_file("declared");
    let mut consumer = Running::spawn(&consumer_args(broker.url(), &queue, &file, "0"));
    consumer.wait_stderr("consuming");
    assert_eq!(
        broker.state(&queue),
        QueueState {
            ready: 0,
            consumers: 1
        }
    );
    consumer.signal("SIGTERM");
    let done = consumer.wait();
    assert_eq!(done.code(), 0, "stderr:\n{}", done.stderr_text());
    assert!(
        done.stderr_text().contains("declared the queue (durable)"),
        "stderr:\n{}",
        done.stderr_text()
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

#[test]
fn losing_the_broker_mid_run_reconnects_and_loses_nothing() {
    const CUTS: usize = 2;
    const PROCESSED_BETWEEN_CUTS: usize = 50;
    let broker = Broker::connect();
    let queue = broker.fresh_queue("reconnect");
    let ids: Vec<String> = ids().into_iter().take(300).collect();
    broker.publish(&queue, &ids);
    let proxy = Proxy::start(broker.url());
    let file = output_file("reconnect");
    let mut consumer = Running::spawn(&consumer_args(&proxy.url(broker.url()), &queue, &file, "5"));
    // The most deliveries the broker hands the consumer and has not seen acked, as it logs it.
    let prefetch: usize = consumer
        .wait_stderr("consuming")
        .split("prefetch=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("the consumer logs its prefetch when it starts consuming");
    for cut in 1..=CUTS {
        consumer.wait_stderr_count("processing", cut * PROCESSED_BETWEEN_CUTS);
        assert_eq!(
            proxy.cut(),
            1,
            "the consumer's connection goes through the proxy"
        );
        consumer.wait_stderr_count("lost the broker; reconnecting", cut);
        consumer.wait_stderr_count(" connected", cut + 1);
    }
    let until = Instant::now() + consumer_support::HANG_GUARD;
    while !count_lines(&[&file], &ids).values().all(|&count| count > 0) {
        assert!(
            Instant::now() < until,
            "not every id was processed after the reconnects"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = stop(consumer, Stop::Term);
    assert_drained(&broker, &queue, "after the reconnects");
    let Tally { lost, duplicated } = tally(&count_lines(&[&file], &ids));
    println!(
        "reconnect: {} ids, {CUTS} cuts, {lost} lost, {duplicated} duplicated",
        ids.len()
    );
    assert_eq!(lost, 0, "stderr:\n{}", done.stderr_text());
    // A cut can only duplicate a message processed whose ack did not reach the broker, and the
    // broker holds at most `prefetch` unacked deliveries for the consumer.
    assert!(
        duplicated <= CUTS * prefetch,
        "{duplicated} duplicates after {CUTS} cuts; stderr:\n{}",
        done.stderr_text()
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

#[test]
fn any_body_is_one_record_on_one_line() {
    // (body, its record as docs/consumer.md spells it)
    let cases: &[(&[u8], &str)] = &[
        (b"plain-id-1", "plain-id-1"),
        (b"two\nlines", "two\\nlines"),
        (b"ends with a newline\n", "ends with a newline\\n"),
        (b"\n", "\\n"),
        (b"", "\\c"),
        (b"\\c", "\\\\c"),
        (b"C:\\temp", "C:\\\\temp"),
        (b"\xff\xfe not UTF-8", "\\xff\\xfe not UTF-8"),
        ("café".as_bytes(), "caf\\xc3\\xa9"),
        (b"tab\there\r\n", "tab\\x09here\\x0d\\n"),
        (b" spaces at both ends ", " spaces at both ends "),
    ];
    let broker = Broker::connect();
    let queue = broker.fresh_queue("bodies");
    let bodies: Vec<&[u8]> = cases.iter().map(|(body, _)| *body).collect();
    broker.publish(&queue, &bodies);
    let file = output_file("bodies");
    let mut consumer = Running::spawn(&consumer_args(broker.url(), &queue, &file, "0"));
    consumer.wait_stderr_count("processing", cases.len());
    broker.wait_for_state(&queue, "drained", |state| state.ready == 0);
    let done = stop(consumer, Stop::Term);
    let bytes = std::fs::read(&file).expect("the output file");
    let text = String::from_utf8(bytes).expect("the output file is UTF-8 (printable ASCII)");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        cases.len(),
        "one line per message: {text:?}; stderr:\n{}",
        done.stderr_text()
    );
    assert!(text.ends_with('\n'), "{text:?}");
    let mut expected: Vec<&str> = cases.iter().map(|(_, record)| *record).collect();
    lines.sort_unstable();
    expected.sort_unstable();
    assert_eq!(lines, expected);
    assert!(
        lines.windows(2).all(|pair| pair[0] != pair[1]),
        "`sort | uniq -d` finds nothing"
    );
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

/// A SIGTERM while the consumer is still starting, through a proxy slow enough that starting
/// takes seconds: at `moment` it is connecting (the AMQP handshake) or opening its channel and
/// declaring. It must stop before `basic.consume`: exit 0, nothing processed, and the queue's
/// messages never delivered (all still ready, none marked redelivered).
fn sigterm_while_starting(moment: &str, label: &str) {
    let broker = Broker::connect();
    let queue = broker.fresh_queue(label);
    let bodies: Vec<String> = (1..=6).map(|n| format!("job-{n}")).collect();
    broker.publish(&queue, &bodies);
    // Each request of the consumer waits this long: the channel, the declare, the qos and the
    // consume take a round trip each, so `moment` is long before the consume.
    let proxy = Proxy::with_latency(broker.url(), Duration::from_millis(400));
    let file = output_file(label);
    let mut consumer = Running::spawn(&consumer_args(&proxy.url(broker.url()), &queue, &file, "0"));
    consumer.wait_stderr(moment);
    consumer.signal("SIGTERM");
    let done = consumer.wait();
    assert_eq!(done.code(), 0, "stderr:\n{}", done.stderr_text());
    assert_eq!(done.stdout, ["Done"]);
    let stderr = done.stderr_text();
    // The log line of a started `basic.consume` ("consuming queue=...").
    assert!(
        !stderr.contains(": consuming "),
        "it consumed; stderr:\n{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("the output file"), "");
    let state = final_state(&broker, &queue);
    assert_eq!(state.ready as usize, bodies.len(), "stderr:\n{stderr}");
    let taken = broker.take_all(&queue);
    let redelivered: Vec<_> = taken.iter().filter(|message| message.redelivered).collect();
    assert!(
        redelivered.is_empty(),
        "delivered before the stop and handed back: {redelivered:?}; stderr:\n{stderr}"
    );
    assert_eq!(taken.len(), bodies.len());
    broker.delete(&queue);
    std::fs::remove_file(&file).expect("remove the output file");
}

#[test]
fn sigterm_while_connecting_stops_before_consuming() {
    sigterm_while_starting(READY, "starting-connect");
}

#[test]
fn sigterm_while_declaring_stops_before_consuming() {
    // Logged once the AMQP connection is open, before the channel and the declare.
    sigterm_while_starting(" connected", "starting-declare");
}

#[test]
fn a_job_cancelled_before_it_is_published_is_not_worked_on() {
    let redis = Redis::start();
    let broker = Broker::connect();
    let queue = broker.fresh_queue("cancelled-before");
    // The empty body's id is its record, `\c`.
    for id in ["cancelled-early", "\\c"] {
        redis.cancel(id);
    }
    let bodies: [&[u8]; 3] = [b"cancelled-early", b"kept", b""];
    broker.publish(&queue, &bodies);
    let files = Files::new("cancelled-before");
    // 1 s of work for `kept`; the cancelled jobs get none.
    let mut consumer = Running::spawn(&cancel_args(broker.url(), &queue, &files, "1000", &redis));
    consumer.wait_stderr_count("job cancelled", 2);
    consumer.wait_stderr_count("processing", 3);
    broker.wait_for_state(&queue, "drained", |state| state.ready == 0);
    // `kept` is the one in hand, or done: either way it ends in --processed.
    let done = stop(consumer, Stop::Term);
    let (processed, cancelled) = files.read();
    assert_eq!(processed, "kept\n", "stderr:\n{}", done.stderr_text());
    let mut cancelled: Vec<&str> = cancelled.lines().collect();
    cancelled.sort_unstable();
    assert_eq!(cancelled, ["\\c", "cancelled-early"]);
    let before_start = done
        .stderr
        .iter()
        .filter(|line| line.contains("job cancelled") && line.contains("before_start=true"))
        .count();
    assert_eq!(before_start, 2, "stderr:\n{}", done.stderr_text());
    assert_drained(&broker, &queue, "every job acked");
    broker.delete(&queue);
    files.remove();
}

#[test]
fn a_job_cancelled_during_its_work_stops_early_and_is_acked() {
    let redis = Redis::start();
    let broker = Broker::connect();
    let queue = broker.fresh_queue("cancelled-during");
    broker.publish(&queue, &["long-job"]);
    let files = Files::new("cancelled-during");
    // Far longer than the hang guard: only the cancel can end this job in time.
    let mut consumer = Running::spawn(&cancel_args(broker.url(), &queue, &files, "600000", &redis));
    consumer.wait_stderr("processing");
    redis.cancel("long-job");
    let line = consumer.wait_stderr("job cancelled");
    assert!(line.contains("before_start=false"), "{line}");
    assert!(
        line.contains("cancelled by the test"),
        "the remote reason: {line}"
    );
    // Acked: the broker no longer holds it, for us or anyone.
    broker.wait_for_state(&queue, "drained", |state| state.ready == 0);
    let done = stop(consumer, Stop::Term);
    assert_eq!(files.read(), (String::new(), "long-job\n".to_owned()));
    assert_drained(
        &broker,
        &queue,
        &format!("acked, not requeued; stderr:\n{}", done.stderr_text()),
    );
    broker.delete(&queue);
    files.remove();
}

#[test]
fn a_job_that_cannot_be_watched_waits_and_goes_back_on_a_stop() {
    let mut redis = Redis::start();
    let broker = Broker::connect();
    let queue = broker.fresh_queue("redis-down");
    let files = Files::new("redis-down");
    let mut consumer = Running::spawn(&cancel_args(broker.url(), &queue, &files, "0", &redis));
    consumer.wait_stderr("consuming");
    redis.stop_server();
    broker.publish(&queue, &["unwatched"]);
    consumer.wait_stderr("cannot watch the job's remote token");
    let done = stop(consumer, Stop::Term);
    let stderr = done.stderr_text();
    assert!(!stderr.contains("lost the broker"), "stderr:\n{stderr}");
    assert!(
        !stderr.contains("processing"),
        "it started; stderr:\n{stderr}"
    );
    assert_eq!(
        files.read(),
        (String::new(), String::new()),
        "nothing written"
    );
    // Not acked: the broker has it back, for a consumer that can watch it.
    let taken = broker.take_all(&queue);
    assert_eq!(taken.len(), 1, "stderr:\n{stderr}");
    assert_eq!(taken[0].body, b"unwatched");
    broker.delete(&queue);
    files.remove();
}

/// The fleet chaos test's jobs, of which [`FLEET_CANCELLED_BEFORE`] are cancelled before they
/// are published and [`FLEET_CANCELLED_DURING`] at random moments while the fleet runs.
const FLEET_JOBS: usize = 1_000;
const FLEET_CANCELLED_BEFORE: usize = 100;
const FLEET_CANCELLED_DURING: usize = 100;
/// Two consumers, as a fleet on two machines would be.
const FLEET_CONSUMERS: usize = 2;
const FLEET_WORK_MS: &str = "20";
/// At least this many SIGTERMs (more if the queue is not drained by then).
const FLEET_MIN_STOPS: usize = 10;
/// Between two cancels while the fleet runs: uniform in `0..=CANCEL_WITHIN_MS`, so that the 100
/// of them span most of the run (about 10 s of work for the fleet).
const CANCEL_WITHIN_MS: u64 = 200;
/// A cancel while the fleet runs picks an id in a window this wide around the furthest id
/// recorded so far: the queue's head (ids are published in order), where the jobs in hand and
/// prefetched are, so that some cancels land during a job's work (the rest before the job
/// starts, or after it is done, which leaves it in `--processed`).
const CANCEL_WINDOW: usize = 8;

/// Every line of every file of the fleet, by file kind: (processed, cancelled).
fn fleet_records(files: &[Files]) -> (Vec<String>, Vec<String>) {
    let mut processed = Vec::new();
    let mut cancelled = Vec::new();
    for file in files {
        let (done, stopped) = file.read();
        processed.extend(done.lines().map(str::to_owned));
        cancelled.extend(stopped.lines().map(str::to_owned));
    }
    (processed, cancelled)
}

/// `job-0042` as 42; `None` for anything else (which the final check rejects).
fn job_number(id: &str) -> Option<usize> {
    id.strip_prefix("job-")?.parse().ok()
}

/// Cancels [`FLEET_CANCELLED_DURING`] jobs (none of `early`) at random moments while the fleet
/// runs, each one around the furthest id the fleet has recorded so far. Returns their ids.
fn cancel_while_running(
    redis: &Redis,
    files: &[Files],
    ids: &[String],
    early: &[String],
    seed: u64,
) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut cancelled: Vec<String> = Vec::new();
    while cancelled.len() < FLEET_CANCELLED_DURING {
        std::thread::sleep(Duration::from_millis(rng.up_to(CANCEL_WITHIN_MS)));
        let (processed, stopped) = fleet_records(files);
        let furthest = processed
            .iter()
            .chain(&stopped)
            .filter_map(|id| job_number(id))
            .max()
            .map_or(0, |n| n + 1);
        let near = furthest.saturating_sub(CANCEL_WINDOW / 2) + rng.below(CANCEL_WINDOW);
        let candidates = [near.min(ids.len() - 1), rng.below(ids.len())];
        // Near the head if that id is still free, else anywhere.
        let Some(id) = candidates
            .iter()
            .map(|&n| &ids[n])
            .find(|id| !cancelled.contains(id) && !early.contains(id))
        else {
            continue;
        };
        redis.cancel(id);
        cancelled.push(id.clone());
    }
    cancelled
}

#[test]
fn chaos_fleet_with_cancelled_jobs_and_sigterms_records_every_job_once() {
    let started = Instant::now();
    let redis = Redis::start();
    let broker = Broker::connect();
    let queue = broker.fresh_queue("fleet");
    let ids: Vec<String> = (0..FLEET_JOBS).map(|n| format!("job-{n:04}")).collect();
    let seed = seed();
    println!("chaos fleet: seed {seed} (CANCEL_TOKEN_CHAOS_SEED={seed} replays it)");
    let mut rng = Rng(seed);

    // Cancelled before they are published: they must all end in a --cancelled file.
    let mut early: Vec<String> = Vec::new();
    while early.len() < FLEET_CANCELLED_BEFORE {
        let id = &ids[rng.below(ids.len())];
        if !early.contains(id) {
            redis.cancel(id);
            early.push(id.clone());
        }
    }
    broker.publish(&queue, &ids);
    let files: Vec<Files> = (0..FLEET_CONSUMERS)
        .map(|n| Files::new(&format!("fleet-{n}")))
        .collect();
    let args: Vec<Vec<String>> = files
        .iter()
        .map(|file| cancel_args(broker.url(), &queue, file, FLEET_WORK_MS, &redis))
        .collect();

    let canceller_seed = rng.next();
    let mut stops = 0;
    let mut runs = 0;
    let mut stderr: Vec<String> = Vec::new();
    let late = std::thread::scope(|scope| {
        let canceller =
            scope.spawn(|| cancel_while_running(&redis, &files, &ids, &early, canceller_seed));
        let mut fleet: Vec<Option<Running>> = (0..FLEET_CONSUMERS).map(|_| None).collect();
        loop {
            for (slot, consumer) in fleet.iter_mut().enumerate() {
                if consumer.is_none() {
                    runs += 1;
                    assert!(
                        runs <= MAX_RUNS,
                        "queue {queue} not drained after {MAX_RUNS} runs"
                    );
                    let mut spawned = Running::spawn(&args[slot]);
                    spawned.wait_stderr(READY);
                    *consumer = Some(spawned);
                }
            }
            std::thread::sleep(stop_moment(&mut rng));
            let slot = rng.below(FLEET_CONSUMERS);
            let consumer = fleet[slot].take().expect("every slot runs a consumer");
            stderr.extend(stop(consumer, Stop::Term).stderr);
            stops += 1;
            let (processed, cancelled) = fleet_records(&files);
            if stops >= FLEET_MIN_STOPS
                && canceller.is_finished()
                && processed.len() + cancelled.len() >= FLEET_JOBS
            {
                break;
            }
        }
        for consumer in fleet.into_iter().flatten() {
            stderr.extend(stop(consumer, Stop::Term).stderr);
        }
        canceller.join().expect("the canceller thread")
    });

    assert_drained(&broker, &queue, "after the fleet");
    let paths: Vec<&Path> = files
        .iter()
        .flat_map(|file| [file.processed.as_path(), file.cancelled.as_path()])
        .collect();
    let counts = count_lines(&paths, &ids);
    let lost: Vec<_> = counts.iter().filter(|(_, n)| **n == 0).collect();
    let duplicated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let (processed, cancelled) = fleet_records(&files);
    let not_cancelled: Vec<_> = cancelled
        .iter()
        .filter(|id| !early.contains(id) && !late.contains(id))
        .collect();
    let early_missed: Vec<_> = early.iter().filter(|id| !cancelled.contains(id)).collect();
    let during_work = stderr
        .iter()
        .filter(|line| line.contains("job cancelled") && line.contains("before_start=false"))
        .count();
    let late_cancelled = late.iter().filter(|id| cancelled.contains(id)).count();
    println!(
        "chaos fleet: {FLEET_JOBS} jobs, {} lost, {} duplicated; {} processed, {} cancelled \
         ({FLEET_CANCELLED_BEFORE} before publishing, all found; of {FLEET_CANCELLED_DURING} \
         cancelled while running, {late_cancelled} in time, {during_work} of them during their \
         work); {stops} SIGTERM stops, {runs} runs, {FLEET_CONSUMERS} consumers, {:.1}s \
         (seed {seed})",
        lost.len(),
        duplicated.len(),
        processed.len(),
        cancelled.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(duplicated.is_empty(), "in two records: {duplicated:?}");
    assert!(
        not_cancelled.is_empty(),
        "in --cancelled, never cancelled: {not_cancelled:?}"
    );
    assert!(
        early_missed.is_empty(),
        "cancelled before publishing, yet processed: {early_missed:?}"
    );
    broker.delete(&queue);
    for file in &files {
        file.remove();
    }
}
