//! A server-shaped loop on tokio with a [`Drain`]: an accept loop, a child token per connection,
//! a timeout per request kept apart from the shutdown token, and a graceful shutdown with a grace
//! period. Connections arrive on a channel instead of a socket, so it needs no network; a
//! `TcpListener` accept loop has the same shape. A timer stands in for SIGINT/SIGTERM (a real
//! server calls `trigger_on_signals(&shutdown)`), and the whole run takes about a second.
//!
//! `cargo run --example tokio_drain`
//!
//! The point is which token stops what:
//!
//! * `shutdown` (and the drain's own token, its child) stops **new** work: the accept loop takes
//!   no more connections, and each connection, through its child token, takes no more requests.
//! * A request is run under a token of its own, **not** derived from `shutdown`, with its
//!   timeout (`cancellable_wait_timeout`): the timeout cancels that request only, and a
//!   shutdown does not cut short a request already in flight, which finishes and answers.
//! * The drain's grace period bounds how long a shutdown waits for those requests; work still
//!   running after it is aborted and named in the report.

use std::time::{Duration, Instant};

use cancel_token::{CancelToken, Drain, WaitError};
use tokio::sync::mpsc;

/// How long one request may take before it is cancelled (that request only).
const REQUEST_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a shutdown waits for the requests in flight.
const GRACE: Duration = Duration::from_secs(2);
/// When the simulated signal arrives.
const SIGNAL_AFTER: Duration = Duration::from_millis(400);

/// A request: how long its handler works on it.
struct Request {
    id: u32,
    work: Duration,
}

/// A connection: the requests its client sends, in order.
struct Connection {
    name: String,
    requests: mpsc::Receiver<Request>,
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let log = move |line: String| println!("[{:>4} ms] {line}", started.elapsed().as_millis());

    let shutdown = CancelToken::new("shutdown");
    let drain = Drain::new(shutdown.clone());
    let (connect, mut incoming) = mpsc::channel::<Connection>(8);
    tokio::spawn(clients(connect));
    let signal = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SIGNAL_AFTER).await;
        log("signal: stop taking new work".into());
        signal.trigger(); // what the first SIGINT/SIGTERM does under `trigger_on_signals`
    });

    // The accept loop: stops taking connections once the drain's token is triggered.
    while let Ok(Some(connection)) = drain.token().cancellable_wait(incoming.recv()).await {
        log(format!("accepted {}", connection.name));
        let stop = drain.token().child(connection.name.clone());
        let name = connection.name.clone();
        match drain.track(name, serve(connection, stop, log)) {
            Ok(tracked) => drop(tokio::spawn(tracked)),
            Err(closed) => log(format!("refused a connection: {closed}")),
        }
    }
    log("no more connections; waiting for the requests in flight".into());

    let report = drain.shutdown(GRACE).await;
    log(format!("shutdown: {report}"));
    assert!(report.is_clean(), "every request in flight finished");
}

/// Serves one connection until its client leaves or `stop` (a child of the drain's token)
/// triggers. Each request runs under its own token with its own timeout.
async fn serve(mut connection: Connection, stop: CancelToken, log: impl Fn(String)) {
    let name = &connection.name;
    // Waiting for the next request is where a shutdown stops a connection: `recv` is cancel
    // safe, and a request already received is delivered even if `stop` triggers meanwhile.
    while let Ok(Some(request)) = stop.cancellable_wait(connection.requests.recv()).await {
        // Not `stop.child(..)`: a shutdown must not cancel a request that is already running.
        let token = CancelToken::new(format!("{name}/request-{}", request.id));
        let id = request.id;
        match token
            .cancellable_wait_timeout(handle(request), REQUEST_TIMEOUT)
            .await
        {
            Ok(answer) => log(format!("{name}: request {id} answered: {answer}")),
            Err(WaitError::TimedOut { timeout }) => {
                log(format!("{name}: request {id} timed out after {timeout:?}"))
            }
            Err(WaitError::Cancelled(cancelled)) => {
                log(format!("{name}: request {id}: {cancelled}"))
            }
        }
    }
    log(format!("{name}: closed"));
}

/// The request's work (a database call, say).
async fn handle(request: Request) -> String {
    tokio::time::sleep(request.work).await;
    format!("{} ms of work", request.work.as_millis())
}

/// Three clients, each on its own connection, sending requests one after the other (one of
/// them too slow for its timeout), then an idle listener: the accept loop ends only at the
/// signal. A client stops when the server stops reading its connection.
async fn clients(connect: mpsc::Sender<Connection>) {
    let plans = [
        ("conn-1", [100, 120, 150]),
        ("conn-2", [80, 90, 600]),
        ("conn-3", [200, 200, 200]),
    ];
    for (name, work_ms) in plans {
        let (send, requests) = mpsc::channel(1);
        let name = name.to_string();
        if connect.send(Connection { name, requests }).await.is_err() {
            return; // the server stopped accepting
        }
        tokio::spawn(async move {
            for (id, ms) in (1..).zip(work_ms.into_iter().cycle()) {
                let work = Duration::from_millis(ms);
                if send.send(Request { id, work }).await.is_err() {
                    return; // the server closed this connection
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::future::pending::<()>().await // keeps `connect`, as a listening socket stays open
}
