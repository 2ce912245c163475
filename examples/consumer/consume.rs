//! The consumer proper: the article's RabbitMQ consumer, stopped between messages.
//!
//! # Why nothing is lost and, on a graceful stop, nothing is duplicated
//!
//! * A stop while starting (connecting, opening the channel, declaring) comes before
//!   `basic.consume`: nothing was delivered to us, so nothing goes back marked redelivered.
//! * Manual acks, and each message is acked only after its record is appended and fsynced
//!   ([`OutputFile::append`]). A message delivered to us but not acked belongs to the broker
//!   again as soon as our channel closes, for whatever reason: it is requeued and redelivered.
//! * The deliveries stream is wrapped in the library's [`CancellableStream`]: once the token has
//!   triggered it takes no new delivery out of lapin's buffer, and a delivery it did take is
//!   always handed to the loop, which processes it to the end (work, append, fsync, ack) without
//!   racing it against the token. So a stop never happens between "yielded" and "processed".
//!   (With `--cancel-redis`, one exception: a job whose remote token cannot be had from Redis
//!   does not start, and a stop while it waits leaves it unacked, nothing written: `cancel`.)
//! * A job cancelled by id (`--cancel-redis`) is recorded in `--cancelled`, fsynced, then acked:
//!   the same order, another file.
//! * Then: `basic.cancel` (no new deliveries), the deliveries still in lapin's buffer (prefetched
//!   but not processed) are left unacked, the channel and the connection are closed, and the
//!   broker requeues those messages for the next consumer.
//!
//! A crash (SIGKILL) can only duplicate: a record fsynced whose ack never left.
//!
//! # Prefetch
//!
//! [`PREFETCH`] is 4: with 1, the broker sends the next message only after it has the previous
//! ack, so every message waits one network round trip; a few in hand hide that round trip behind
//! the current message's work. More buys nothing for one sequential loop, and costs at shutdown:
//! at most `PREFETCH - 1` messages sit in our buffer, unavailable to other consumers, and go back
//! to the queue (marked redelivered) when we stop. Keeping it above 1 also means every stop
//! exercises that "prefetched but not processed" path, which the chaos tests count on.

use std::fmt;
use std::io;
use std::time::Duration;

use cancel_token::{CancelToken, CancellableStream, StreamCancelExt};
use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, Consumer, ErrorKind};
use tracing::{debug, info, warn};

use crate::args::ConsumeArgs;
use crate::cancel::JobCancel;
use crate::connect::{Backoff, connect};
use crate::output::OutputFile;
use crate::record;

pub const PREFETCH: u16 = 4;

/// AMQP reply code for a normal close.
const REPLY_SUCCESS: u16 = 200;

/// Where the jobs' records go.
#[derive(Debug)]
pub struct Outputs {
    /// `--processed`: the jobs done.
    pub processed: OutputFile,
    /// `--cancel-redis` and `--cancelled`: jobs cancelled by id.
    pub cancel: Option<JobCancel>,
}

/// How many jobs went to each file.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub processed: u64,
    pub cancelled: u64,
}

/// Consumes until the token triggers, reconnecting with backoff whenever the broker is lost.
/// Returns how many jobs went to each file, or the error that makes going on pointless (an
/// output file cannot be written: every further message would fail the same way).
pub async fn run(args: &ConsumeArgs, out: &Outputs, token: &CancelToken) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut backoff = Backoff::new();
    while let Some(connection) = connect(&args.uri, token, &mut backoff).await {
        let outcome = session(&connection, args, out, token, &mut tally).await;
        // Whatever happened, close the connection: the broker requeues everything we hold.
        if let Err(error) = connection
            .close(REPLY_SUCCESS, "consumer stopped".into())
            .await
        {
            debug!(%error, "closing the connection");
        }
        match outcome {
            Ok(()) => break,
            Err(SessionError::Output(error)) => return Err(error),
            Err(error) => {
                warn!(%error, retry_in = ?backoff.delay(), "lost the broker; reconnecting");
                if !backoff.sleep(token).await {
                    break;
                }
            }
        }
    }
    Ok(tally)
}

/// Why a session ended before the token triggered.
#[derive(Debug)]
enum SessionError {
    Broker(lapin::Error),
    /// The broker ended our consumer (queue deleted, node shutting down...).
    ConsumerCancelled,
    /// lapin refused the ack: the channel was already closed, so the broker will redeliver.
    AckNotSent,
    Output(io::Error),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Broker(error) => write!(f, "{error}"),
            Self::ConsumerCancelled => f.write_str("the broker cancelled the consumer"),
            Self::AckNotSent => f.write_str("the channel closed before the ack was sent"),
            Self::Output(error) => write!(f, "cannot write an output file: {error}"),
        }
    }
}

impl From<lapin::Error> for SessionError {
    fn from(error: lapin::Error) -> Self {
        Self::Broker(error)
    }
}

/// One connection's worth of consuming; `Ok` once the token has triggered and the stop is done.
async fn session(
    connection: &Connection,
    args: &ConsumeArgs,
    out: &Outputs,
    token: &CancelToken,
    tally: &mut Tally,
) -> Result<(), SessionError> {
    // A stop while starting (opening the channel, declaring) ends here, before `basic.consume`:
    // nothing is delivered to us, so nothing goes back marked redelivered. The check after it
    // covers a channel that opened in the same instant; from it to the frame sent by
    // `basic_consume`'s first poll there is no await.
    let opened = token.cancellable_wait(open_channel(connection, &args.queue));
    let channel = match opened.await {
        Ok(channel) => channel?,
        Err(_cancelled) => return stopped_before_consuming(),
    };
    if token.triggered() {
        return stopped_before_consuming();
    }
    let consumer = channel
        .basic_consume(
            args.queue.as_str().into(),
            "".into(),                      // the broker names the consumer
            BasicConsumeOptions::default(), // manual acks: no_ack = false
            FieldTable::default(),
        )
        .await?;
    info!(queue = %args.queue, prefetch = PREFETCH, work = ?args.work, "consuming");

    let mut deliveries: CancellableStream<Consumer> = consumer.cancellable(token);
    while let Some(delivery) = deliveries.next().await {
        match process(&delivery?, args.work, out, token).await? {
            Some(Outcome::Processed) => tally.processed += 1,
            Some(Outcome::Cancelled) => tally.cancelled += 1,
            // The stop came before the job could start (nothing written, not acked): the stream
            // ends at its next poll, and the job goes back with the prefetched ones.
            None => {}
        }
    }
    if !deliveries.is_cancelled() {
        return Err(SessionError::ConsumerCancelled);
    }
    info!(
        processed = tally.processed,
        cancelled = tally.cancelled,
        "stopping: the in-flight message is done"
    );
    stop(&channel, deliveries.into_inner()).await;
    Ok(())
}

/// A stop that came before `basic.consume`: logged; the caller closes the connection.
fn stopped_before_consuming() -> Result<(), SessionError> {
    info!("stopped while starting, before consuming: nothing was delivered");
    Ok(())
}

/// A channel with the prefetch limit, on a queue that exists.
async fn open_channel(connection: &Connection, queue: &str) -> Result<Channel, SessionError> {
    let channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    match channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
    {
        Ok(_) => {}
        // Declared passively first so that an existing queue is used as it is, whatever its
        // arguments (a plain durable declare of a quorum queue would be refused). NOT_FOUND
        // closes the channel: create the queue on a fresh one.
        Err(error) if is_not_found(&error) => {
            let channel = connection.create_channel().await?;
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(queue.into(), durable, FieldTable::default())
                .await?;
            info!(queue, "declared the queue (durable)");
            channel
                .basic_qos(PREFETCH, BasicQosOptions::default())
                .await?;
            return Ok(channel);
        }
        Err(error) => return Err(error.into()),
    }
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await?;
    Ok(channel)
}

fn is_not_found(error: &lapin::Error) -> bool {
    matches!(error.kind(), ErrorKind::ProtocolError(amqp) if amqp.get_id() == 404)
}

/// What became of a job.
enum Outcome {
    /// Done: recorded in `--processed`.
    Processed,
    /// Cancelled by id before it started or during its work: recorded in `--cancelled`.
    Cancelled,
}

/// One job: its token (with `--cancel-redis`), simulated work, then its record appended and
/// fsynced to the file of its outcome, then the ack. The shutdown token never interrupts it (a
/// second signal exits the process instead, which is a crash as far as the broker is
/// concerned); a remote cancel of its id does. `None` if the job could not start before the
/// shutdown (its remote token could not be had, `JobCancel::watch`): nothing written, not acked.
async fn process(
    delivery: &Delivery,
    work: Duration,
    out: &Outputs,
    shutdown: &CancelToken,
) -> Result<Option<Outcome>, SessionError> {
    // The record is also the job's id (one line of printable ASCII, never empty).
    let id = record::encode(&delivery.data);
    let job = match &out.cancel {
        None => None,
        Some(cancel) => match cancel.watch(&id, shutdown).await {
            Some(token) => Some((token, cancel.cancelled())),
            None => {
                info!(id, "stopped before the job could start; left unacked");
                return Ok(None);
            }
        },
    };
    // Logged at INFO on purpose: the tests wait for this line to know a message is in hand, its
    // remote token (if any) watched.
    info!(
        tag = delivery.delivery_tag,
        redelivered = delivery.redelivered,
        id,
        "processing"
    );
    let cancelled_to = match &job {
        None => {
            tokio::time::sleep(work).await;
            None
        }
        Some((token, file)) => {
            let before_start = token.triggered();
            match token.cancellable_wait(tokio::time::sleep(work)).await {
                Ok(()) => None,
                Err(cancelled) => {
                    let reason = cancelled.reason().to_string();
                    info!(id, before_start, ?reason, "job cancelled");
                    Some(*file)
                }
            }
        }
    };
    let (file, outcome) = match cancelled_to {
        None => (&out.processed, Outcome::Processed),
        Some(file) => (file, Outcome::Cancelled),
    };
    file.append(&id).await.map_err(SessionError::Output)?;
    if !delivery.acker.ack(BasicAckOptions::default()).await? {
        return Err(SessionError::AckNotSent);
    }
    Ok(Some(outcome))
}

/// The graceful end of a session: no new deliveries, the prefetched ones handed back.
/// Failures are only logged: the in-flight message is already acked, and if the broker is gone,
/// it requeues what we held when it notices the connection is.
async fn stop(channel: &Channel, mut consumer: Consumer) {
    if let Err(error) = channel
        .basic_cancel(consumer.tag(), BasicCancelOptions::default())
        .await
    {
        warn!(%error, "basic.cancel failed");
    }
    // Deliveries that reached lapin's buffer before the cancel took effect: not processed, so
    // not acked. Counted for the log, then dropped; the channel close below requeues them.
    let mut left = 0;
    while let Some(Some(Ok(_delivery))) = consumer.next().now_or_never() {
        left += 1;
    }
    if let Err(error) = channel
        .close(REPLY_SUCCESS, "consumer stopped".into())
        .await
    {
        warn!(%error, "closing the channel failed");
    }
    info!(
        unacked_prefetched = left,
        "stopped; the broker redelivers the prefetched messages"
    );
}
