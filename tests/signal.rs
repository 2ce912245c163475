//! `trigger_on_signals`, with real signals sent to a real child process.
//!
//! The child is this very test binary, run again with a filter that selects only
//! [`signal_child`] and an environment variable saying how to behave. That needs no extra build
//! step and no extra target: cargo has already built the binary that is running, and
//! `std::env::current_exe()` finds it whatever the target directory or profile (a `cargo build
//! --example` from inside a test would wait forever on the build lock held by `cargo test`, and
//! an example is not built at all by `cargo test --test signal`). In-process signals are avoided
//! on purpose: a second one would end the whole test binary.
//!
//! Signals are sent with the `kill` command, so the tests need no `unsafe`.
//! No assertion is about time; `HANG_GUARD` only turns a hang into a failure.

#![cfg(all(unix, feature = "signal"))]

// Only `HANG_GUARD` is used here; the rest of the shared helpers would warn as unused.
#[allow(unused)]
#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use cancel_token::{CancelToken, trigger_on_signals};

use support::executors::HANG_GUARD;

/// Set in the child's environment: how the child behaves after the first signal.
const CHILD_MODE: &str = "CANCEL_TOKEN_SIGNAL_CHILD";
/// The child says this once its handlers are installed, so a signal sent after it is handled.
const READY: &str = "signal_child: ready";
/// A graceful child says this after the token was triggered and the handle closed.
const GRACEFUL_END: &str = "signal_child: shut down gracefully";
/// A stubborn child says this after the token was triggered, then keeps running.
const IGNORING: &str = "signal_child: ignoring the token";
/// A closing child says this once it closed its handle without any signal, then keeps running.
const CLOSED: &str = "signal_child: handle closed";

/// The child process's entry point, not a test of its own: the tests below run it in a child
/// process (with `--ignored --exact signal_child`). Run directly, without `CHILD_MODE`, it does
/// nothing.
#[test]
#[ignore = "the child process of the signal tests; they run it themselves"]
fn signal_child() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        eprintln!("signal_child: run by the other tests in tests/signal.rs, not directly");
        return;
    };
    // Everything goes to stderr: the test harness writes its own lines on stdout.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let token = CancelToken::new("signals");
    let signals = trigger_on_signals(&token).expect("signal handlers");
    eprintln!("{READY}");
    if mode == "closing" {
        signals.close();
        eprintln!("{CLOSED}");
        // With no handle open, the next signal must terminate the process by default.
        loop {
            thread::sleep(Duration::from_secs(1));
        }
    }
    token.wait_blocking();
    eprintln!(
        "signal_child: reason {}",
        token.reason().expect("triggered")
    );
    match mode.as_str() {
        "graceful" => {
            signals.close();
            eprintln!("{GRACEFUL_END}");
        }
        "stubborn" => {
            eprintln!("{IGNORING}");
            // Keeps `signals` alive: the next signal must end the process by itself.
            loop {
                thread::sleep(Duration::from_secs(1));
            }
        }
        other => panic!("unknown {CHILD_MODE} {other:?}"),
    }
}

/// A running child and the lines of its stderr, read on a thread as they come.
struct ChildProcess {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl ChildProcess {
    fn spawn(mode: &str) -> Self {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut child = Command::new(exe)
            .args(["--ignored", "--exact", "signal_child", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_MODE, mode)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProcess {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text` (failing after `HANG_GUARD`).
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        while !self.seen.iter().any(|line| line.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => self.fail(&format!("no line with {text:?}")),
            }
        }
    }

    fn send(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} failed: {status}");
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the child to exit (failing after `HANG_GUARD`) and collects the rest of its
    /// stderr.
    fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + HANG_GUARD;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                self.fail("the child did not exit");
            }
            thread::sleep(Duration::from_millis(10));
        };
        // The reader thread ends at EOF, which the exit has caused.
        self.seen.extend(self.lines.iter());
        status
    }

    fn logged(&self, text: &str) -> bool {
        self.seen.iter().any(|line| line.contains(text))
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{why}; the child's stderr so far:\n{}",
            self.seen.join("\n")
        );
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // Never leave a child behind, whatever the test's outcome.
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The first signal is logged with the article's words and triggers the token; the child then
/// shuts down on its own and exits 0.
fn graceful(signal: &str) {
    let mut child = ChildProcess::spawn("graceful");
    child.wait_for(READY);
    child.send(signal);
    let status = child.exit_status();
    assert!(
        child.logged(&format!("Received signal {signal}")),
        "{:?}",
        child.seen
    );
    assert!(child.logged(GRACEFUL_END), "{:?}", child.seen);
    let number = if signal == "SIGINT" { 2 } else { 15 };
    assert!(
        child.logged(&format!("reason signal {number}")),
        "{:?}",
        child.seen
    );
    assert_eq!(status.code(), Some(0), "{:?}", child.seen);
}

/// The first signal triggers the token, which the child ignores, so it keeps running; the second
/// ends it at once with `128 + signal`.
fn second_signal_exits(first: &str, second: &str, code: i32) {
    let mut child = ChildProcess::spawn("stubborn");
    child.wait_for(READY);
    child.send(first);
    child.wait_for(&format!("Received signal {first}"));
    child.wait_for(IGNORING);
    assert!(
        child.is_running(),
        "the first signal must not end the process"
    );
    child.send(second);
    let status = child.exit_status();
    assert_eq!(status.code(), Some(code), "{status}; {:?}", child.seen);
    assert!(!child.logged(GRACEFUL_END));
}

#[test]
fn sigterm_triggers_the_token_and_the_child_exits_gracefully() {
    graceful("SIGTERM");
}

#[test]
fn sigint_triggers_the_token_and_the_child_exits_gracefully() {
    graceful("SIGINT");
}

#[test]
fn a_second_sigint_exits_with_130() {
    second_signal_exits("SIGINT", "SIGINT", 130);
}

#[test]
fn a_second_sigterm_exits_with_143() {
    second_signal_exits("SIGTERM", "SIGTERM", 143);
}

#[test]
fn the_second_signal_gives_its_own_status() {
    second_signal_exits("SIGTERM", "SIGINT", 130);
}

/// signal-hook never restores a default disposition by itself: once the last handle is closed,
/// SIGTERM must terminate the process as it does by default, not be ignored.
#[test]
fn with_every_handle_closed_a_signal_terminates_by_default() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = ChildProcess::spawn("closing");
    child.wait_for(CLOSED);
    child.send("SIGTERM");
    let status = child.exit_status();
    assert_eq!(status.signal(), Some(15), "{status}; {:?}", child.seen);
    assert!(!child.logged("Received signal"), "{:?}", child.seen);
}
