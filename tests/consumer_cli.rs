//! The `consumer` example's command line and its server-less behaviour, run as a child process
//! (no broker needed; the broker tests are in tests/consumer.rs).
//!
//! * Every bad command line exits 2 with exactly one line on stderr and nothing on stdout, and
//!   never panics; an unwritable output file is caught before any connection attempt. So are
//!   bad `--cancel-redis`/`--cancelled` flags, a Redis that refuses, and `--cancelled` naming
//!   the `--processed` file.
//! * The default mode (the article's ticker) prints ticks and, on SIGINT or SIGTERM, logs the
//!   signal, prints `Done` and exits 0.
//! * An unreachable broker is retried (logged each time), and a signal during the retries is a
//!   clean stop: status 0 and `Done`.
#![cfg(unix)]

mod consumer_support;

use std::net::TcpListener;

use consumer_support::{READY, Running};

/// A loopback address where nothing listens: bound to get a free port, then released.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("amqp://guest:guest@127.0.0.1:{port}/%2f")
}

/// Runs the consumer with `args` and checks the usage-error contract.
#[track_caller]
fn assert_usage_error(args: &[&str], mentions: &str) {
    let done = Running::spawn(args).wait();
    assert_eq!(
        done.code(),
        2,
        "{args:?}: exit status; stderr: {:?}",
        done.stderr
    );
    assert_eq!(
        done.stderr.len(),
        1,
        "{args:?}: exactly one line on stderr, got {:?}",
        done.stderr
    );
    let line = &done.stderr[0];
    assert!(line.starts_with("consumer: "), "{args:?}: {line:?}");
    assert!(
        line.contains(mentions),
        "{args:?}: {line:?} should mention {mentions:?}"
    );
    assert!(!line.contains("panicked"), "{args:?}: {line:?}");
    assert!(
        done.stdout.is_empty(),
        "{args:?}: nothing on stdout, got {:?}",
        done.stdout
    );
}

#[test]
fn bad_command_lines_exit_2_with_one_line() {
    let url = refused_url();
    let dir = std::env::temp_dir().join(format!("cancel-token-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("processed.txt");
    let file = file.to_str().expect("UTF-8 temp path");
    let cancelled = dir.join("cancelled.txt");
    let cancelled = cancelled.to_str().expect("UTF-8 temp path");
    // The same file as `file`, spelled differently.
    let file_again = format!("{}/./processed.txt", dir.display());
    // A loopback port where no Redis listens.
    let no_redis = refused_url()
        .replace("amqp://guest:guest@", "redis://")
        .replace("/%2f", "");
    let consume = ["--amqp", url.as_str(), "--queue", "q", "--processed", file];
    let with = |extra: &[&str]| -> Vec<String> {
        consume
            .iter()
            .chain(extra)
            .map(|arg| arg.to_string())
            .collect()
    };
    let cancel_cases: Vec<(Vec<String>, &str)> = vec![
        (
            with(&["--cancelled", "c.txt"]),
            "--cancelled needs --cancel-redis",
        ),
        (
            with(&["--cancel-redis", "redis://127.0.0.1/"]),
            "--cancel-redis needs --cancelled",
        ),
        (
            with(&["--cancel-redis", "not a url", "--cancelled", cancelled]),
            "--cancel-redis",
        ),
        (
            with(&["--cancel-redis", &no_redis, "--cancelled", cancelled]),
            "--cancel-redis",
        ),
        (
            with(&["--cancel-redis", "redis://127.0.0.1/", "--cancelled", ""]),
            "--cancelled",
        ),
        (
            with(&[
                "--cancel-redis",
                "redis://127.0.0.1/",
                "--cancelled",
                &file_again,
            ]),
            "the same file as --processed",
        ),
        // Unwritable: checked before Redis is asked.
        (
            with(&[
                "--cancel-redis",
                &no_redis,
                "--cancelled",
                &format!("{}/no/such/dir", dir.display()),
            ]),
            "--cancelled",
        ),
        (
            vec!["--cancel-redis".into(), "redis://127.0.0.1/".into()],
            "--cancel-redis needs --amqp",
        ),
        (
            vec!["--cancelled".into(), "c.txt".into()],
            "--cancelled needs --amqp",
        ),
    ];
    for (args, mentions) in &cancel_cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&args, mentions);
    }
    let cases: &[(&[&str], &str)] = &[
        (&["--frobnicate"], "unknown flag --frobnicate"),
        (&["-x"], "unknown flag -x"),
        (&["stray"], "unexpected argument"),
        (
            &["--amqp", "not-a-url", "--queue", "q", "--processed", file],
            "--amqp",
        ),
        (
            &[
                "--amqp",
                "http://127.0.0.1/",
                "--queue",
                "q",
                "--processed",
                file,
            ],
            "--amqp",
        ),
        (
            &[
                "--amqp",
                "amqp://127.0.0.1:99999/%2f",
                "--queue",
                "q",
                "--processed",
                file,
            ],
            "malformed URL",
        ),
        (
            &[
                "--amqp",
                "amqps://127.0.0.1/%2f",
                "--queue",
                "q",
                "--processed",
                file,
            ],
            "TLS",
        ),
        (&["--amqp", &url, "--processed", file], "--queue"),
        (
            &["--amqp", &url, "--queue", "", "--processed", file],
            "--queue",
        ),
        (&["--amqp", &url, "--queue", "q"], "--processed"),
        (&["--queue", "q"], "--queue needs --amqp"),
        (&["--processed", file], "--processed needs --amqp"),
        (&["--work-ms", "5"], "--work-ms needs --amqp"),
        (&["--amqp"], "--amqp needs a value"),
        (
            &[
                "--amqp",
                &url,
                "--queue",
                "q",
                "--queue",
                "r",
                "--processed",
                file,
            ],
            "given twice",
        ),
        (
            &[
                "--amqp",
                &url,
                "--queue",
                "q",
                "--processed",
                file,
                "--work-ms",
                "abc",
            ],
            "--work-ms",
        ),
        (
            &[
                "--amqp",
                &url,
                "--queue",
                "q",
                "--processed",
                file,
                "--work-ms",
                "-1",
            ],
            "--work-ms",
        ),
        (
            &[
                "--amqp",
                &url,
                "--queue",
                "q",
                "--processed",
                file,
                "--work-ms=1.5",
            ],
            "--work-ms",
        ),
        (
            &[
                "--amqp",
                &url,
                "--queue",
                "q",
                "--processed",
                file,
                "--work-ms",
                "",
            ],
            "--work-ms",
        ),
    ];
    for &(args, mentions) in cases {
        assert_usage_error(args, mentions);
    }
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}

#[test]
fn unwritable_processed_file_exits_2_before_connecting() {
    // A broker stand-in that only records whether anyone connected.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!(
        "amqp://guest:guest@{}/%2f",
        listener.local_addr().expect("addr")
    );
    let dir = std::env::temp_dir().join(format!("cancel-token-cli-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing_dir = dir.join("no-such-dir").join("processed.txt");
    for file in [missing_dir.as_path(), dir.as_path()] {
        let file = file.to_str().expect("UTF-8 temp path");
        assert_usage_error(
            &["--amqp", &url, "--queue", "q", "--processed", file],
            "--processed",
        );
    }
    listener.set_nonblocking(true).expect("nonblocking");
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "the consumer connected before checking its output file: {accepted:?}"
    );
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}

#[test]
fn help_prints_usage_and_exits_0() {
    let done = Running::spawn(&["--help"]).wait();
    assert_eq!(done.code(), 0);
    assert!(
        done.stdout
            .iter()
            .any(|line| line.contains("--amqp URL --queue NAME")),
        "{:?}",
        done.stdout
    );
}

/// The article's demo: ticks until a signal, then "Received signal ...", "Done", status 0.
fn ticker_stops_gracefully_on(signal: &str) {
    let mut ticker = Running::spawn::<&str>(&[]);
    ticker.wait_stderr(READY);
    let first = ticker.wait_stdout("now: ");
    // RFC 3339 with microseconds, as the article's isoformat(): now: 2019-07-31T11:41:18.118833Z
    let time = first.strip_prefix("now: ").expect("a tick line");
    assert!(
        time.len() == 27 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{first:?}"
    );
    ticker.signal(signal);
    let done = ticker.wait();
    assert_eq!(done.code(), 0, "stderr:\n{}", done.stderr_text());
    assert!(
        done.stderr
            .iter()
            .any(|line| line.contains(&format!("Received signal {signal}"))),
        "the signal is logged: {:?}",
        done.stderr
    );
    let (last, ticks) = done.stdout.split_last().expect("some output");
    assert_eq!(last, "Done", "Done comes last: {:?}", done.stdout);
    assert!(
        !ticks.is_empty() && ticks.iter().all(|line| line.starts_with("now: ")),
        "{:?}",
        done.stdout
    );
}

#[test]
fn ticker_stops_gracefully_on_sigint() {
    ticker_stops_gracefully_on("SIGINT");
}

#[test]
fn ticker_stops_gracefully_on_sigterm() {
    ticker_stops_gracefully_on("SIGTERM");
}

#[test]
fn unreachable_broker_is_retried_and_a_signal_stops_cleanly() {
    let dir = std::env::temp_dir().join(format!("cancel-token-cli-retry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("processed.txt");
    let url = refused_url();
    let mut consumer = Running::spawn(&[
        "--amqp",
        &url,
        "--queue",
        "q",
        "--processed",
        file.to_str().expect("UTF-8"),
    ]);
    consumer.wait_stderr(READY);
    // Three failed attempts: it retries rather than giving up or panicking.
    consumer.wait_stderr_count("cannot connect to the broker; retrying", 3);
    consumer.signal("SIGTERM");
    let done = consumer.wait();
    assert_eq!(done.code(), 0, "stderr:\n{}", done.stderr_text());
    assert_eq!(done.stdout, ["Done"]);
    assert!(
        !done.stderr_text().contains("panicked"),
        "{}",
        done.stderr_text()
    );
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}
