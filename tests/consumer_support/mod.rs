//! Shared by tests/consumer_cli.rs and tests/consumer.rs: the `consumer` example as a child
//! process, built once, with its stdout and stderr read line by line as they come.
//!
//! # Finding the binary
//!
//! Cargo gives integration tests the path of `[[bin]]` targets only, not of examples, and
//! `cargo test --test consumer` does not build the examples at all. So the first test that needs
//! the binary runs `cargo build --example consumer` itself (once per test process: a
//! [`OnceLock`]), with the same cargo, manifest, profile, target directory and test feature as
//! the test binary, which it reads from where the test binary lives
//! (`<target-dir>/<profile>/deps/<test>`). When the example is fresh that is a no-op; when it is
//! not, the test runs what the source says now, never a stale binary. Concurrent test processes
//! are serialised by cargo's own lock on the target directory.
//!
//! Every wait has a generous hang guard ([`HANG_GUARD`]) that turns a hang into a failure with
//! the child's output; no test asserts on speed.

// Each test file uses its own part of these helpers.
#![allow(dead_code)]

#[cfg(feature = "broker-tests")]
pub mod broker;
#[cfg(feature = "broker-tests")]
pub mod proxy;
#[cfg(feature = "broker-tests")]
pub mod redis;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Upper bound for any single wait on the child: only a hang guard.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// What the consumer logs once its signal handlers are installed (examples/consumer/main.rs,
/// `READY`): from then on SIGINT/SIGTERM must be a graceful stop.
pub const READY: &str = "stop with SIGINT (Ctrl-C) or SIGTERM";

/// The example binary, built on first use (see the module docs).
pub fn consumer_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(build_consumer)
}

fn build_consumer() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test binary's path");
    // <target-dir>/<profile-dir>/deps/<test binary>
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("unexpected profile directory {}", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "--example",
            "consumer",
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    // The same features as this test binary, so that `cargo test --features broker-tests` and
    // this build share one build of the example instead of replacing each other's.
    if cfg!(feature = "broker-tests") {
        build.arg("--features=broker-tests");
    }
    let status = build
        .status()
        .expect("running cargo build --example consumer");
    assert!(
        status.success(),
        "cargo build --example consumer failed: {status}"
    );
    let exe = profile_dir
        .join("examples")
        .join(format!("consumer{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.is_file(),
        "cargo built the example but {} is missing",
        exe.display()
    );
    exe
}

/// The lines of one of the child's pipes, read by a thread as they are written.
struct Lines {
    incoming: Receiver<String>,
    seen: Vec<String>,
    reader: Option<JoinHandle<()>>,
}

impl Lines {
    fn new(pipe: impl Read + Send + 'static) -> Self {
        let (send, incoming) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                // An error means the pipe is gone with the child: end like EOF.
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            incoming,
            seen: Vec::new(),
            reader: Some(reader),
        }
    }

    /// Waits for a line containing `needle`; `None` at EOF or after `until`.
    fn wait_for(&mut self, needle: &str, until: Instant) -> Option<&str> {
        if let Some(index) = self.seen.iter().position(|line| line.contains(needle)) {
            return Some(&self.seen[index]);
        }
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return self.seen.last().map(String::as_str);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Everything, once the child has exited (its end of the pipe closed).
    fn finish(&mut self) -> Vec<String> {
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the pipe reader thread");
        }
        self.seen.extend(self.incoming.try_iter());
        std::mem::take(&mut self.seen)
    }
}

/// A running `consumer`.
pub struct Running {
    child: Child,
    stdout: Lines,
    stderr: Lines,
    args: Vec<String>,
}

/// A `consumer` that has exited, with all it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Finished {
    /// The exit code, or a panic naming the signal if it died of one.
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(code) => code,
            None => panic!(
                "consumer died of a signal ({}); stderr:\n{}",
                self.status,
                self.stderr.join("\n")
            ),
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.join("\n")
    }
}

impl Running {
    pub fn spawn<S: AsRef<str>>(args: &[S]) -> Self {
        let args: Vec<String> = args.iter().map(|arg| arg.as_ref().to_owned()).collect();
        let mut child = Command::new(consumer_exe())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning the consumer example");
        let stdout = Lines::new(child.stdout.take().expect("piped stdout"));
        let stderr = Lines::new(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdout,
            stderr,
            args,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until stderr has a line containing `needle`; panics (killing the child) on EOF or
    /// after [`HANG_GUARD`].
    pub fn wait_stderr(&mut self, needle: &str) -> String {
        let until = Instant::now() + HANG_GUARD;
        match self.stderr.wait_for(needle, until) {
            Some(line) => line.to_owned(),
            None => self.fail(&format!("no stderr line containing {needle:?}")),
        }
    }

    /// Waits until stdout has a line containing `needle`; as [`Running::wait_stderr`].
    pub fn wait_stdout(&mut self, needle: &str) -> String {
        let until = Instant::now() + HANG_GUARD;
        match self.stdout.wait_for(needle, until) {
            Some(line) => line.to_owned(),
            None => self.fail(&format!("no stdout line containing {needle:?}")),
        }
    }

    /// Waits until at least `at_least` stderr lines contain `needle` (for "it retried" checks);
    /// returns how many do.
    pub fn wait_stderr_count(&mut self, needle: &str, at_least: usize) -> usize {
        let until = Instant::now() + HANG_GUARD;
        loop {
            let count = self
                .stderr
                .seen
                .iter()
                .filter(|line| line.contains(needle))
                .count();
            if count >= at_least {
                return count;
            }
            let left = until.saturating_duration_since(Instant::now());
            match self.stderr.incoming.recv_timeout(left) {
                Ok(line) => self.stderr.seen.push(line),
                Err(_) => self.fail(&format!(
                    "fewer than {at_least} stderr lines containing {needle:?}"
                )),
            }
        }
    }

    /// Whether the child has already exited (it never should on its own).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("try_wait on the consumer")
            .is_some()
    }

    /// Sends `SIGINT`, `SIGTERM`... (by name) through `kill` (the shell's builtin: no `unsafe`, no
    /// extra crate, present on any Unix).
    pub fn signal(&self, name: &str) {
        // POSIX `kill -s` takes the name without its SIG prefix.
        let bare = name.strip_prefix("SIG").unwrap_or(name);
        let status = Command::new("sh")
            .args(["-c", &format!("kill -s {bare} {}", self.pid())])
            .status()
            .expect("running sh -c kill");
        assert!(
            status.success(),
            "kill -s {name} {} failed: {status}",
            self.pid()
        );
    }

    /// SIGKILL: the crash case.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the consumer");
    }

    /// Waits for the exit (hang guard: SIGKILL and panic after [`HANG_GUARD`]).
    pub fn wait(mut self) -> Finished {
        let until = Instant::now() + HANG_GUARD;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on the consumer") {
                break status;
            }
            if Instant::now() >= until {
                self.fail("the consumer did not exit");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Finished {
            status,
            stdout: self.stdout.finish(),
            stderr: self.stderr.finish(),
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{what} (hang guard {HANG_GUARD:?}); consumer {:?}\nstdout so far:\n{}\nstderr so far:\n{}",
            self.args,
            self.stdout.seen.join("\n"),
            self.stderr.seen.join("\n"),
        );
    }
}

impl Drop for Running {
    /// A test that panics must not leave a consumer running (and consuming) behind it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
