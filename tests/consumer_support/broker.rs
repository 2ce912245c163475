//! The test's own view of RabbitMQ, through lapin: make a fresh queue, publish to it, and read
//! its state (ready messages, consumers). Blocking methods over a private runtime, since the
//! tests themselves drive child processes with blocking waits.
//!
//! The URL is `CANCEL_TOKEN_AMQP_URL`, by default the broker of `.ci/rabbitmq.sh start`. With the
//! feature `broker-tests` on and no broker there, every test fails with a message saying so:
//! they never skip.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};

use super::HANG_GUARD;

pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// `delivery_mode` 2: the broker keeps the message on disk.
const PERSISTENT: u8 = 2;

pub fn url() -> String {
    std::env::var("CANCEL_TOKEN_AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// What a passive `queue.declare` says: ready messages (not counting unacknowledged ones) and
/// consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    pub ready: u32,
    pub consumers: u32,
}

/// A message taken off a queue by [`Broker::take_all`].
#[derive(Debug)]
pub struct Taken {
    pub body: Vec<u8>,
    pub redelivered: bool,
}

pub struct Broker {
    // Multi-threaded with one worker, so lapin's I/O (heartbeats included) goes on while the
    // test thread blocks on a child process.
    runtime: tokio::runtime::Runtime,
    connection: Connection,
    url: String,
}

impl Broker {
    /// Connects, or fails the test saying how to start a broker.
    pub fn connect() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let url = url();
        let attempt = runtime.block_on(async {
            tokio::time::timeout(
                HANG_GUARD,
                Connection::connect(&url, ConnectionProperties::default()),
            )
            .await
        });
        let connection = match attempt {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => panic!("{}", no_broker(&url, &error.to_string())),
            Err(_) => panic!("{}", no_broker(&url, "timed out")),
        };
        Self {
            runtime,
            connection,
            url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime
            .block_on(async { tokio::time::timeout(HANG_GUARD, future).await })
            .unwrap_or_else(|_| panic!("a broker operation hung for {HANG_GUARD:?}"))
    }

    /// A queue name no other run uses (the queue is not declared).
    pub fn unique_queue_name(&self, label: &str) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        format!("cancel-token-test-{label}-{}-{nanos}", std::process::id())
    }

    /// A new durable queue with a name no other run uses.
    pub fn fresh_queue(&self, label: &str) -> String {
        let name = self.unique_queue_name(label);
        self.run(async {
            let channel = self.connection.create_channel().await?;
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(name.as_str().into(), durable, FieldTable::default())
                .await?;
            channel.close(200, "declared".into()).await
        })
        .expect("declaring the test queue");
        name
    }

    /// Publishes `bodies` to `queue` (default exchange), persistent, and waits until the broker
    /// has confirmed every one.
    pub fn publish<B: AsRef<[u8]>>(&self, queue: &str, bodies: &[B]) {
        self.run(async {
            let channel = self.connection.create_channel().await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            let mut confirms = Vec::with_capacity(bodies.len());
            for body in bodies {
                let properties = BasicProperties::default().with_delivery_mode(PERSISTENT);
                let confirm = channel
                    .basic_publish(
                        "".into(),
                        queue.into(),
                        BasicPublishOptions::default(),
                        body.as_ref(),
                        properties,
                    )
                    .await?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                let confirmation = confirm.await?;
                assert!(
                    matches!(confirmation, Confirmation::Ack(_)),
                    "publish not confirmed: {confirmation:?}"
                );
            }
            channel.close(200, "published".into()).await
        })
        .expect("publishing the test messages");
    }

    /// The queue's state, from a passive declare on a channel of its own.
    pub fn state(&self, queue: &str) -> QueueState {
        self.run(async {
            let channel = self.connection.create_channel().await?;
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let declared = channel
                .queue_declare(queue.into(), passive, FieldTable::default())
                .await?;
            channel.close(200, "inspected".into()).await?;
            Ok::<_, lapin::Error>(QueueState {
                ready: declared.message_count(),
                consumers: declared.consumer_count(),
            })
        })
        .unwrap_or_else(|error| panic!("inspecting queue {queue}: {error}"))
    }

    /// Takes every ready message off `queue` (`basic.get`, acked at once), in queue order, with
    /// whether the broker had delivered it to someone before (`redelivered`).
    pub fn take_all(&self, queue: &str) -> Vec<Taken> {
        self.run(async {
            let channel = self.connection.create_channel().await?;
            let mut taken = Vec::new();
            let no_ack = BasicGetOptions { no_ack: true };
            while let Some(message) = channel.basic_get(queue.into(), no_ack).await? {
                taken.push(Taken {
                    body: message.delivery.data,
                    redelivered: message.delivery.redelivered,
                });
            }
            channel.close(200, "taken".into()).await?;
            Ok::<_, lapin::Error>(taken)
        })
        .unwrap_or_else(|error| panic!("taking the messages of {queue}: {error}"))
    }

    /// Polls [`Broker::state`] until `done` holds (hang guard: panics after [`HANG_GUARD`]).
    pub fn wait_for_state(
        &self,
        queue: &str,
        what: &str,
        done: impl Fn(QueueState) -> bool,
    ) -> QueueState {
        let until = Instant::now() + HANG_GUARD;
        loop {
            let state = self.state(queue);
            if done(state) {
                return state;
            }
            assert!(
                Instant::now() < until,
                "queue {queue}: still not {what} after {HANG_GUARD:?}: {state:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn delete(&self, queue: &str) {
        self.run(async {
            let channel = self.connection.create_channel().await?;
            channel
                .queue_delete(queue.into(), QueueDeleteOptions::default())
                .await?;
            channel.close(200, "deleted".into()).await
        })
        .expect("deleting the test queue");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Best effort: the broker cleans up after a vanished connection anyway.
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(5),
                self.connection.close(200, "test done".into()),
            )
            .await
        });
    }
}

fn no_broker(url: &str, why: &str) -> String {
    format!(
        "the broker tests (feature `broker-tests`) need RabbitMQ at {url} and cannot reach it: {why}. \
         Start one with `.ci/rabbitmq.sh start`, or point CANCEL_TOKEN_AMQP_URL at one."
    )
}
