//! Reaching the broker: retried with exponential backoff, and given up at once when the token
//! triggers, so a Ctrl-C while the broker is down still exits promptly and cleanly.

use std::time::Duration;

use cancel_token::CancelToken;
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};
use tracing::{info, warn};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// The delay before the next attempt: doubles after each failure, up to [`MAX_DELAY`].
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Self { next: FIRST_DELAY }
    }

    /// After a success: the next failure starts over from the shortest delay.
    pub fn reset(&mut self) {
        self.next = FIRST_DELAY;
    }

    /// Sleeps for the current delay, unless the token triggers first; `false` if it did.
    pub async fn sleep(&mut self, token: &CancelToken) -> bool {
        let delay = self.next;
        self.next = (delay * 2).min(MAX_DELAY);
        token
            .cancellable_wait(tokio::time::sleep(delay))
            .await
            .is_ok()
    }

    pub fn delay(&self) -> Duration {
        self.next
    }
}

/// `host:port vhost=/`: the URL without its credentials, for logs.
pub fn display_uri(uri: &AMQPUri) -> String {
    format!(
        "{}:{} vhost={}",
        uri.authority.host, uri.authority.port, uri.vhost
    )
}

/// Connects, retrying forever with backoff; `None` once the token has triggered.
///
/// The connection attempt itself is raced against the token too: a broker that accepts TCP but
/// never finishes the AMQP handshake must not hold up a shutdown.
pub async fn connect(
    uri: &AMQPUri,
    token: &CancelToken,
    backoff: &mut Backoff,
) -> Option<Connection> {
    loop {
        let attempt = Connection::connect_uri(uri.clone(), ConnectionProperties::default());
        match token.cancellable_wait(attempt).await {
            Err(_cancelled) => return None,
            Ok(Ok(connection)) => {
                info!(broker = %display_uri(uri), "connected");
                backoff.reset();
                return Some(connection);
            }
            Ok(Err(error)) => warn!(
                broker = %display_uri(uri),
                %error,
                retry_in = ?backoff.delay(),
                "cannot connect to the broker; retrying"
            ),
        }
        if !backoff.sleep(token).await {
            return None;
        }
    }
}
