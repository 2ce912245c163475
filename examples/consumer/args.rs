//! The command line, parsed by hand: two modes and six flags do not need a parser crate.
//!
//! Every mistake is a [`UsageError`], one line that `main` prints before exiting with status 2;
//! nothing here panics on any input, non-UTF-8 included.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lapin::uri::{AMQPScheme, AMQPUri};

pub const USAGE: &str = "\
usage: consumer                       print the time every second until Ctrl-C
       consumer --amqp URL --queue NAME --processed FILE [--work-ms N]
                [--cancel-redis URL --cancelled FILE2]
                                      consume NAME from RabbitMQ, appending each message to FILE;
                                      with --cancel-redis, a job whose id (its body) is cancelled
                                      in that Redis stops early and goes to FILE2 instead";

/// What to run.
#[derive(Debug)]
pub enum Command {
    Help,
    /// The embedded source: the article's `async_time_ticker`, no server needed.
    Ticker,
    /// Boxed: parsed once, and the other variants are empty.
    Consume(Box<ConsumeArgs>),
}

#[derive(Debug)]
pub struct ConsumeArgs {
    pub uri: AMQPUri,
    pub queue: String,
    pub processed: PathBuf,
    /// Simulated work per message.
    pub work: Duration,
    /// `--cancel-redis URL --cancelled FILE`: both or neither.
    pub cancel: Option<CancelArgs>,
}

/// Jobs cancelled by id through Redis (`--cancel-redis`), recorded in `--cancelled`.
#[derive(Debug)]
pub struct CancelArgs {
    /// Checked by connecting, before anything else runs (`main`).
    pub redis_url: String,
    pub cancelled: PathBuf,
}

/// A bad command line, as one line of text.
#[derive(Debug)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (try --help)", self.0)
    }
}

fn usage_error(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Parses the arguments after the program name. Accepts `--flag value` and `--flag=value`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut amqp = None;
    let mut queue = None;
    let mut processed = None;
    let mut work_ms = None;
    let mut cancel_redis = None;
    let mut cancelled = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|arg| usage_error(format!("argument is not valid UTF-8: {arg:?}")))?;
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let slot = match flag.as_str() {
            "--amqp" => &mut amqp,
            "--queue" => &mut queue,
            "--processed" => &mut processed,
            "--work-ms" => &mut work_ms,
            "--cancel-redis" => &mut cancel_redis,
            "--cancelled" => &mut cancelled,
            other if other.starts_with('-') => {
                return Err(usage_error(format!("unknown flag {other}")));
            }
            other => return Err(usage_error(format!("unexpected argument {other:?}"))),
        };
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .ok_or_else(|| usage_error(format!("{flag} needs a value")))?
                .into_string()
                .map_err(|value| {
                    usage_error(format!("{flag}: value is not valid UTF-8: {value:?}"))
                })?,
        };
        if slot.replace(value).is_some() {
            return Err(usage_error(format!("{flag} given twice")));
        }
    }

    let Some(amqp) = amqp else {
        // Ticker mode takes no flag at all: a lone --queue is a mistake, not a request to tick.
        return match [
            ("--queue", &queue),
            ("--processed", &processed),
            ("--work-ms", &work_ms),
            ("--cancel-redis", &cancel_redis),
            ("--cancelled", &cancelled),
        ]
        .into_iter()
        .find(|(_, value)| value.is_some())
        {
            Some((flag, _)) => Err(usage_error(format!("{flag} needs --amqp URL"))),
            None => Ok(Command::Ticker),
        };
    };
    let uri = parse_uri(&amqp)?;
    let queue = queue.ok_or_else(|| usage_error("--amqp needs --queue NAME"))?;
    // An AMQP short string: 255 bytes at most. An empty name would ask for a server-named queue,
    // which nobody else could publish to.
    if queue.is_empty() || queue.len() > 255 {
        return Err(usage_error("--queue: the name must be 1 to 255 bytes long"));
    }
    let processed = processed.ok_or_else(|| usage_error("--amqp needs --processed FILE"))?;
    if processed.is_empty() {
        return Err(usage_error("--processed: the file name is empty"));
    }
    let work = match work_ms {
        None => Duration::ZERO,
        Some(ms) => ms.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            usage_error(format!(
                "--work-ms: expected milliseconds (a whole number >= 0), got {ms:?}"
            ))
        })?,
    };
    let cancel = match (cancel_redis, cancelled) {
        (None, None) => None,
        (Some(_), None) => return Err(usage_error("--cancel-redis needs --cancelled FILE")),
        (None, Some(_)) => return Err(usage_error("--cancelled needs --cancel-redis URL")),
        (Some(redis_url), Some(cancelled)) => {
            if cancelled.is_empty() {
                return Err(usage_error("--cancelled: the file name is empty"));
            }
            Some(CancelArgs {
                redis_url,
                cancelled: cancelled.into(),
            })
        }
    };
    Ok(Command::Consume(Box::new(ConsumeArgs {
        uri,
        queue,
        processed: processed.into(),
        work,
        cancel,
    })))
}

fn parse_uri(text: &str) -> Result<AMQPUri, UsageError> {
    // lapin's own parser, so that what is accepted here is exactly what it would connect to; it
    // fills in defaults (port 5672, guest:guest, vhost "/"), so only the scheme is required.
    if !text.starts_with("amqp://") && !text.starts_with("amqps://") {
        return Err(usage_error(format!("--amqp: not an amqp:// URL: {text:?}")));
    }
    let uri: AMQPUri = text
        .parse()
        .map_err(|why| usage_error(format!("--amqp: malformed URL {text:?}: {why}")))?;
    if uri.scheme == AMQPScheme::AMQPS {
        return Err(usage_error(
            "--amqp: amqps:// needs TLS, which this example is built without",
        ));
    }
    if uri.authority.host.is_empty() {
        return Err(usage_error(format!("--amqp: no host in {text:?}")));
    }
    Ok(uri)
}
