//! The `cancel-token-redis` binary against a real redis-server (Debian's `redis-server`, started
//! per test on a free port of 127.0.0.1): exit statuses, stdout, one line on stderr.
//! `cargo test -p cancel-token-redis --features redis-tests --test cli`.

// Shared with tests/redis.rs, which uses what this file does not.
#[allow(dead_code)]
mod support;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{RedisServer, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_cancel-token-redis");

/// Liveness bound for a run of the binary (not a timing assertion: only "it did exit").
const BOUND: Duration = Duration::from_secs(20);

/// How one run ended.
#[derive(Debug)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts status 0, `stdout` exactly, nothing on stderr.
    fn assert_success(&self, stdout: &str) {
        assert_eq!(self.status, Some(0), "{self:?}");
        assert_eq!(self.stdout, stdout, "{self:?}");
        assert_eq!(self.stderr, "", "{self:?}");
    }

    /// Asserts a usage or Redis error: status 2, nothing on stdout, exactly one line on stderr.
    fn assert_one_line_error(&self) {
        assert_eq!(self.status, Some(2), "{self:?}");
        assert_eq!(self.stdout, "", "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "{self:?}");
        assert!(self.stderr.ends_with('\n'), "{self:?}");
        assert!(self.stderr.starts_with("cancel-token-redis: "), "{self:?}");
    }
}

/// The binary with `args`, without `$CANCEL_TOKEN_REDIS_URL` unless a test sets it.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("CANCEL_TOKEN_REDIS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn spawn(mut command: Command) -> Child {
    command.spawn().expect("start cancel-token-redis")
}

/// Waits for `child` within [`BOUND`] (killing it and failing past it) and collects its output.
fn finish(mut child: Child) -> Run {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cancel-token-redis did not exit within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // The outputs are a few lines: they fit in the pipes, so the child never blocked on them.
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        status: status.code(),
        stdout,
        stderr,
    }
}

fn run(args: &[&str]) -> Run {
    finish(spawn(command(args)))
}

#[test]
fn trigger_then_wait_is_born_triggered_and_prints_the_reason() {
    let server = RedisServer::start();
    let url = server.url();
    let trigger = run(&[
        "trigger",
        "job-1",
        "--reason",
        "the user pressed cancel",
        "--url",
        &url,
    ]);
    trigger.assert_success("");
    run(&["wait", "--url", &url, "job-1"]).assert_success("the user pressed cancel\n");
}

#[test]
fn the_first_reason_wins_and_the_default_reason_is_documented() {
    let server = RedisServer::start();
    let url = server.url();
    run(&["trigger", "a", "--url", &url]).assert_success("");
    run(&["trigger", "a", "--reason=second", "--url", &url]).assert_success("");
    run(&["wait", "a", "--url", &url]).assert_success("triggered by cancel-token-redis\n");
}

/// Subscribers of `key`'s channel, as Redis counts them.
fn subscribers(server: &RedisServer, key: &str) -> i64 {
    let mut redis = redis::Client::open(server.url())
        .and_then(|client| client.get_connection())
        .expect("a plain connection");
    let (_channel, count): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(key)
        .query(&mut redis)
        .expect("PUBSUB NUMSUB");
    count
}

#[test]
fn wait_then_trigger_from_another_process() {
    let server = RedisServer::start();
    let url = server.url();
    let mut waiting = spawn(command(&["wait", "job-2", "--url", &url]));

    // Triggered only once the waiting process is subscribed: the wake-up path, not the
    // born-triggered one.
    let started = Instant::now();
    while subscribers(&server, "cancel-token:job-2") == 0 {
        assert!(started.elapsed() < BOUND, "wait never subscribed");
        assert!(waiting.try_wait().unwrap().is_none(), "wait exited early");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "wait exited untriggered"
    );

    run(&["trigger", "job-2", "--reason", "stop job 2", "--url", &url]).assert_success("");
    finish(waiting).assert_success("stop job 2\n");
}

#[test]
fn the_url_can_come_from_the_environment() {
    let server = RedisServer::start();
    let mut trigger = command(&["trigger", "env", "--reason", "from env"]);
    trigger.env("CANCEL_TOKEN_REDIS_URL", server.url());
    finish(spawn(trigger)).assert_success("");
    // Checked without the environment, so the trigger above did reach this server.
    run(&["wait", "env", "--timeout", "0s", "--url", &server.url()]).assert_success("from env\n");
}

#[test]
fn wait_past_its_timeout_exits_124() {
    let server = RedisServer::start();
    let url = server.url();
    for timeout in ["300ms", "0s"] {
        let wait = run(&["wait", "never", "--timeout", timeout, "--url", &url]);
        assert_eq!(wait.status, Some(124), "{timeout}: {wait:?}");
        assert_eq!((wait.stdout.as_str(), wait.stderr.as_str()), ("", ""));
    }
    // `0s` still sees a token born triggered.
    run(&["trigger", "done", "--url", &url]).assert_success("");
    let wait = run(&["wait", "done", "--timeout", "0s", "--url", &url]);
    wait.assert_success("triggered by cancel-token-redis\n");
}

#[test]
fn a_bad_command_line_is_one_line_and_status_2() {
    // A real server: had the parser accepted any of these, the run would wait, trigger or time
    // out instead of failing with the usage line.
    let server = RedisServer::start();
    let url = server.url();
    let cases: &[&[&str]] = &[
        &[],
        &["cancel", "1"],
        &["wait"],
        &["trigger", "--reason", "why"],
        &["wait", ""],
        &["trigger", ""],
        &["wait", "1", "--timeout", "5"],
        &["wait", "1", "--timeout", "soon"],
        &["wait", "1", "--timeout", "-1s"],
        &["wait", "1", "--timeout"],
        &["wait", "1", "--verbose"],
        &["trigger", "1", "-x"],
        &["trigger", "1", "--timeout", "1s"],
        &["wait", "1", "--reason", "why"],
        &["wait", "1", "2"],
    ];
    for &case in cases {
        let mut args = case.to_vec();
        if !case.is_empty() && !case.ends_with(&["--timeout"]) {
            args.extend(["--url", &url]);
        }
        let run = run(&args);
        run.assert_one_line_error();
        assert!(run.stderr.contains("(try --help)"), "{args:?}: {run:?}");
    }
    // Nothing was triggered by any of them.
    let wait = run(&["wait", "1", "--timeout", "0s", "--url", &url]);
    assert_eq!(wait.status, Some(124), "{wait:?}");
}

#[test]
fn help_prints_the_usage_on_stdout() {
    for args in [&["--help"][..], &["-h"], &["wait", "1", "--help"]] {
        let help = run(args);
        assert_eq!(help.status, Some(0), "{help:?}");
        assert!(
            help.stdout.starts_with("usage: cancel-token-redis"),
            "{help:?}"
        );
        assert!(
            help.stdout.contains("124"),
            "the exit statuses are in the usage"
        );
        assert_eq!(help.stderr, "");
    }
}

#[test]
fn an_unreachable_server_is_one_line_and_status_2() {
    // Nothing listens: refused at once.
    let refused = format!("redis://127.0.0.1:{}", free_port());
    for args in [
        ["wait", "1", "--url", &refused],
        ["trigger", "1", "--url", &refused],
    ] {
        let run = run(&args);
        run.assert_one_line_error();
        assert!(run.stderr.contains("connecting"), "{run:?}");
    }

    // Something accepts the connection (the kernel's backlog) but never answers: a timeout (the
    // Redis client's own, or the library's 5 s bound), well within this test's liveness bound.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let run = run(&["wait", "1", "--url", &url]);
    run.assert_one_line_error();
    assert!(run.stderr.contains("connecting"), "{run:?}");
    drop(silent);
}

#[test]
fn a_malformed_url_is_one_line_and_status_2() {
    for url in [
        "not a url",
        "http://127.0.0.1:6379",
        "redis://127.0.0.1:notaport",
    ] {
        let run = run(&["trigger", "1", "--url", url]);
        run.assert_one_line_error();
        assert!(run.stderr.contains("invalid Redis URL"), "{url}: {run:?}");
    }
}
