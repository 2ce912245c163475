//! The program of the article "A Python asyncio cancellation pattern", done right: a consumer
//! that stops gracefully on SIGINT/SIGTERM, finishing the message in hand and losing none.
//!
//! ```text
//! cargo run --example consumer
//!     prints `now: <time>` every second (the article's ticker, no server needed);
//!     Ctrl-C: `Received signal SIGINT`, the current tick ends, `Done`, status 0.
//! cargo run --example consumer -- --amqp amqp://guest:guest@127.0.0.1:5672/%2f \
//!         --queue jobs --processed processed.txt [--work-ms 5]
//!     consumes `jobs` with manual acks; for each message: N ms of simulated work, the body's
//!     record (one line whatever the body: [`record`]) appended to the file and fsynced, then
//!     the ack.
//!     First SIGINT/SIGTERM: no new message is taken, the one in hand is finished and acked,
//!     the consumer is cancelled, channel and connection are closed (the broker requeues the
//!     prefetched messages), status 0. A signal while still connecting or declaring stops before
//!     `basic.consume`, so nothing is delivered. A second signal exits at once (130/143).
//! cargo run --example consumer -- ... \
//!         --cancel-redis redis://127.0.0.1:6379 --cancelled cancelled.txt
//!     the same, and each body is a job id watched in that Redis (cancel-token-redis) before and
//!     during its work: a job cancelled by id stops early, and its record goes to cancelled.txt
//!     instead, fsynced, then the ack ([`cancel`]).
//! ```
//!
//! Exit status: 0 after a graceful stop, 2 for a bad command line (one line on stderr, checked
//! before anything else happens, the output files and the Redis of `--cancel-redis` included),
//! 1 if an output file cannot be written while running. An unreachable broker is not an error:
//! it is retried with backoff, and a signal during the retries exits 0. Logs go to stderr.
//!
//! How the pieces fit: [`args`] reads the command line, `trigger_on_signals` (feature `signal`)
//! turns the first signal into a triggered token, and both modes iterate a stream wrapped in the
//! library's `CancellableStream`, which ends between items once the token has triggered:
//! [`ticker`] without a server, [`consume`] against RabbitMQ. docs/consumer.md has the chaos
//! tests that check the "nothing lost" claim against a real broker.

#[cfg(unix)]
mod args;
#[cfg(unix)]
mod cancel;
#[cfg(unix)]
mod connect;
#[cfg(unix)]
mod consume;
#[cfg(unix)]
mod output;
#[cfg(unix)]
mod record;
#[cfg(unix)]
mod ticker;

use std::process::ExitCode;

/// Printed to stderr (through the log) once the signal handlers are installed: from then on a
/// SIGINT/SIGTERM is a graceful stop. The tests (tests/consumer_support) wait for it before
/// signalling.
#[cfg(unix)]
const READY: &str = "stop with SIGINT (Ctrl-C) or SIGTERM; a second signal exits at once";

#[cfg(unix)]
fn main() -> ExitCode {
    use args::Command;

    let command = match args::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => return usage_error(error),
    };
    match command {
        Command::Help => {
            println!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Command::Ticker => match runtime() {
            Ok(runtime) => run(runtime, |token| async move {
                ticker::run(&token).await;
                Ok(())
            }),
            Err(code) => code,
        },
        Command::Consume(args) => consume_mode(*args),
    }
}

/// Everything the command line names is checked before the signal handlers and the log start,
/// so that a mistake is one line on stderr and status 2: the output files open for appending,
/// and, with `--cancel-redis`, Redis answers (within `RemoteTokens::connect`'s 5 s bound).
#[cfg(unix)]
fn consume_mode(args: args::ConsumeArgs) -> ExitCode {
    use cancel::JobCancel;
    use cancel_token_redis::RemoteTokens;
    use consume::Outputs;
    use output::OutputFile;

    let open = |flag: &str, path: &std::path::Path| {
        OutputFile::open(path)
            .map_err(|error| usage_error(format!("{flag} {}: {error}", path.display())))
    };
    let processed = match open("--processed", &args.processed) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let cancel = match &args.cancel {
        None => None,
        Some(cancel) => {
            let cancelled = match open("--cancelled", &cancel.cancelled) {
                Ok(file) => file,
                Err(code) => return code,
            };
            match cancelled.is_same_file(&processed) {
                Ok(false) => {}
                Ok(true) => return usage_error("--cancelled: the same file as --processed"),
                Err(error) => return usage_error(format!("--cancelled: {error}")),
            }
            let remote = match runtime.block_on(RemoteTokens::connect(&cancel.redis_url)) {
                Ok(remote) => remote,
                Err(error) => {
                    return usage_error(format!("--cancel-redis {}: {error}", cancel.redis_url));
                }
            };
            Some(JobCancel::new(remote, cancelled))
        }
    };
    let out = Outputs { processed, cancel };
    run(runtime, |token| async move {
        tracing::info!(file = %out.processed.path().display(), "appending processed messages");
        if let Some(cancel) = &out.cancel {
            tracing::info!(file = %cancel.cancelled().path().display(), "appending cancelled jobs");
        }
        let tally = consume::run(&args, &out, &token).await?;
        tracing::info!(
            processed = tally.processed,
            cancelled = tally.cancelled,
            "jobs done in this run"
        );
        Ok(())
    })
}

/// The single-threaded runtime everything async runs on.
#[cfg(unix)]
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("consumer: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        })
}

#[cfg(unix)]
fn usage_error(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("consumer: {error}");
    ExitCode::from(2)
}

/// INFO and above to stderr. lapin's own log is off: it reports, at ERROR, things this program
/// expects and handles (the NOT_FOUND that closes the channel of a passive declare), and every
/// failure it has reaches us as an `Err` that we log with context.
#[cfg(unix)]
fn init_logging() {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    let filter = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("lapin", LevelFilter::OFF);
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}

/// Logging, the token and the signal handlers around one mode, on `runtime`; prints `Done` after
/// a graceful stop.
#[cfg(unix)]
fn run<F, Fut>(runtime: tokio::runtime::Runtime, mode: F) -> ExitCode
where
    F: FnOnce(cancel_token::CancelToken) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
    use cancel_token::{CancelToken, trigger_on_signals};

    init_logging();
    let token = CancelToken::new("shutdown");
    // Kept until the end of `main`: dropping it would leave the process ignoring the signals.
    let _signals = match trigger_on_signals(&token) {
        Ok(signals) => signals,
        Err(error) => {
            tracing::error!(%error, "cannot install the signal handlers");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("{READY}");
    match runtime.block_on(mode(token)) {
        Ok(()) => {
            println!("Done");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "giving up");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    eprintln!("consumer: this example stops on Unix signals and runs on Unix only");
    ExitCode::from(2)
}
