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
//! ```
//!
//! Exit status: 0 after a graceful stop, 2 for a bad command line (one line on stderr, checked
//! before anything else happens, the output file included), 1 if the output file cannot be
//! written while running. An unreachable broker is not an error: it is retried with backoff, and
//! a signal during the retries exits 0. Logs go to stderr.
//!
//! How the pieces fit: [`args`] reads the command line, `trigger_on_signals` (feature `signal`)
//! turns the first signal into a triggered token, and both modes iterate a stream wrapped in the
//! library's `CancellableStream`, which ends between items once the token has triggered:
//! [`ticker`] without a server, [`consume`] against RabbitMQ. docs/consumer.md has the chaos
//! tests that check the "nothing lost" claim against a real broker.

#[cfg(unix)]
mod args;
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
    use output::OutputFile;

    let command = match args::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => return usage_error(error),
    };
    match command {
        Command::Help => {
            println!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Command::Ticker => run(|token| async move {
            ticker::run(&token).await;
            Ok(())
        }),
        Command::Consume(args) => {
            let out = match OutputFile::open(&args.processed) {
                Ok(out) => out,
                Err(error) => {
                    return usage_error(format!(
                        "--processed {}: {error}",
                        args.processed.display()
                    ));
                }
            };
            run(|token| async move {
                tracing::info!(file = %out.path().display(), "appending processed messages");
                let processed = consume::run(&args, &out, &token).await?;
                tracing::info!(processed, "processed messages in this run");
                Ok(())
            })
        }
    }
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

/// Logging, the token, the signal handlers and a runtime around one mode; prints `Done` after
/// a graceful stop.
#[cfg(unix)]
fn run<F, Fut>(mode: F) -> ExitCode
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
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
