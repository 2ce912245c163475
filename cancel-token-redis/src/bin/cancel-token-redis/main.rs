//! `cancel-token-redis`: trigger a remote token, or wait for one, from a shell.
//!
//! ```text
//! cancel-token-redis trigger <id> [--reason TEXT] [--url URL]
//! cancel-token-redis wait <id> [--timeout DURATION] [--url URL]
//! ```
//!
//! The usage, the exit statuses and the URL's defaults are in [`args::USAGE`] (printed by
//! `--help`) and in the package's README. How the pieces fit: [`args`] reads the command line
//! (with [`duration`] for `--timeout`), [`commands`] runs one subcommand on a current-thread
//! tokio runtime, and `main` turns the outcome into an exit status. Errors are one line on
//! stderr, never a panic.

mod args;
mod commands;
mod duration;

use std::io::Write;
use std::process::ExitCode;

use args::Command;
use commands::Waited;

/// `wait`: the `--timeout` passed before the id was triggered. 124, as coreutils `timeout(1)`
/// exits when its command times out: `cancel-token-redis wait ID --timeout 5s` and
/// `timeout 5s cancel-token-redis wait ID` tell a script the same thing the same way, and 1
/// stays free for the failures every program has.
const TIMED_OUT: u8 = 124;
/// A bad command line, or Redis unreachable, slow past the library's bound, or failing.
const USAGE_OR_REDIS: u8 = 2;
/// Triggered (or `--help`), but stdout could not be written (closed pipe, full disk).
const STDOUT_FAILED: u8 = 1;

fn main() -> ExitCode {
    let command = match args::parse(
        std::env::args_os().skip(1),
        std::env::var_os(args::URL_VARIABLE),
    ) {
        Ok(command) => command,
        Err(error) => return fail(USAGE_OR_REDIS, error),
    };
    match command {
        Command::Help => print(args::USAGE),
        Command::Trigger { id, reason, url } => match run(commands::trigger(&url, &id, &reason)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(USAGE_OR_REDIS, error),
        },
        Command::Wait { id, timeout, url } => match run(commands::wait(&url, &id, timeout)) {
            Ok(Waited::Triggered(reason)) => print(&reason),
            Ok(Waited::TimedOut) => ExitCode::from(TIMED_OUT),
            Err(error) => fail(USAGE_OR_REDIS, error),
        },
    }
}

/// `work` on a current-thread tokio runtime (one connection's worth of work needs no more).
fn run<T>(work: impl Future<Output = Result<T, cancel_token_redis::Error>>) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    runtime.block_on(work).map_err(|error| error.to_string())
}

/// `text` and a newline on stdout: status 0, or [`STDOUT_FAILED`] (closed pipe, full disk).
fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(STDOUT_FAILED, format!("cannot write to stdout: {error}")),
    }
}

/// One line on stderr (a newline inside `message` becomes a space), then `status`.
fn fail(status: u8, message: impl std::fmt::Display) -> ExitCode {
    let message = message.to_string().replace(['\r', '\n'], " ");
    eprintln!("cancel-token-redis: {message}");
    ExitCode::from(status)
}
