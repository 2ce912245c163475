//! A TCP forwarder between the consumer and the broker, which the test can cut: every connection
//! open through it is shut down at once, as a network failure or a broker restart would end it,
//! while the broker and the test's own connection to it stay up. [`Proxy::cut_off`] makes the
//! failure last: new connections are closed at once too, until [`Proxy::reopen`]. It can also be
//! slow: with a latency, whatever the consumer sends is held that long before it is passed on.
//!
//! Also used by cancel-token-redis/tests/redis.rs (through `#[path]`), for Redis: it forwards
//! bytes, whatever the protocol.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

pub struct Proxy {
    /// `host:port` the proxy listens on (127.0.0.1, a free port).
    address: String,
    /// Both sockets of every connection forwarded and not cut yet.
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// While set (under `open`'s lock), a new connection is closed as soon as it is accepted.
    refusing: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
}

impl Proxy {
    /// Forwards every connection made to the proxy to the host and port of `broker_url`.
    pub fn start(broker_url: &str) -> Self {
        Self::with_latency(broker_url, Duration::ZERO)
    }

    /// As [`Proxy::start`], holding every chunk the client sends for `latency` before passing it
    /// on (the broker's answers are not held): each request of the client takes at least
    /// `latency` to reach the broker.
    pub fn with_latency(broker_url: &str, latency: Duration) -> Self {
        let (_, upstream, _) = split_authority(broker_url);
        let upstream = match upstream.contains(':') {
            true => upstream.to_owned(),
            false => format!("{upstream}:5672"), // AMQP's default port
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy on 127.0.0.1");
        let address = listener
            .local_addr()
            .expect("the proxy's address")
            .to_string();
        let open = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicBool::new(false));
        let (open_for_accept, closed_for_accept) = (open.clone(), closed.clone());
        let refusing_for_accept = refusing.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if closed_for_accept.load(SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                // A broker that refuses is passed on as a connection closed at once.
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut open = lock(&open_for_accept);
                if refusing_for_accept.load(SeqCst) {
                    // Dropped: both sockets close.
                    continue;
                }
                forward(&client, &server, latency);
                forward(&server, &client, Duration::ZERO);
                open.extend([client, server]);
            }
        });
        Proxy {
            address,
            open,
            refusing,
            closed,
        }
    }

    /// `broker_url` with its host and port replaced by the proxy's.
    pub fn url(&self, broker_url: &str) -> String {
        let (scheme_and_credentials, _, path) = split_authority(broker_url);
        format!("{scheme_and_credentials}{}{path}", self.address)
    }

    /// Shuts down every connection open through the proxy, both ways; returns how many there
    /// were.
    pub fn cut(&self) -> usize {
        let sockets = std::mem::take(&mut *lock(&self.open));
        for socket in &sockets {
            // Already closed by its peer is as good as cut.
            let _ = socket.shutdown(Shutdown::Both);
        }
        sockets.len() / 2
    }

    /// Cuts every connection, as [`Proxy::cut`], and closes every new one as soon as it is
    /// accepted, until [`Proxy::reopen`]: a network failure that lasts. Returns how many
    /// connections were cut.
    pub fn cut_off(&self) -> usize {
        {
            // Under the lock, so that no connection accepted before is added after the cut.
            let _open = lock(&self.open);
            self.refusing.store(true, SeqCst);
        }
        self.cut()
    }

    /// Forwards new connections again, after [`Proxy::cut_off`].
    pub fn reopen(&self) {
        let _open = lock(&self.open);
        self.refusing.store(false, SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.closed.store(true, SeqCst);
        // Wakes the accepting thread, which then sees `closed` and ends.
        let _ = TcpStream::connect(&self.address);
        self.cut();
    }
}

/// Copies what `from` receives to `to` on a thread of its own, each chunk `latency` late, and
/// passes the end of the stream on.
fn forward(from: &TcpStream, to: &TcpStream, latency: Duration) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let mut chunk = [0; 16 * 1024];
        // An error on either side is the end of the connection, like EOF.
        while let Ok(read @ 1..) = from.read(&mut chunk) {
            thread::sleep(latency);
            if to.write_all(&chunk[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// `amqp://user:pass@host:port/vhost` as (`amqp://user:pass@`, `host:port`, `/vhost`).
fn split_authority(url: &str) -> (&str, &str, &str) {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let authority_end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |at| after_scheme + at);
    let host_start = url[after_scheme..authority_end]
        .rfind('@')
        .map_or(after_scheme, |at| after_scheme + at + 1);
    (
        &url[..host_start],
        &url[host_start..authority_end],
        &url[authority_end..],
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
