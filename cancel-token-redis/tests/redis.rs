//! RemoteTokens against a real redis-server (Debian's `redis-server`, started per test on a free
//! port of 127.0.0.1). `cargo test -p cancel-token-redis --features redis-tests`.

mod support;
// The consumer's TCP proxy, which can cut every connection through it.
#[path = "../../tests/consumer_support/proxy.rs"]
mod proxy;

use std::net::TcpListener;
use std::time::Duration;

use cancel_token::{CancelToken, Reason, WeakCancelToken};
use cancel_token_redis::{Error, RemoteReason, RemoteTokens};
use proxy::Proxy;
use support::{RedisServer, free_port};

/// Liveness bound for anything awaited here (not a timing assertion: only "it did return").
const BOUND: Duration = Duration::from_secs(30);

async fn within<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, work)
        .await
        .expect("did not finish within the liveness bound")
}

fn remote_text(token: &CancelToken) -> Option<String> {
    match token.reason()? {
        Reason::Custom(error) => error
            .downcast_ref::<RemoteReason>()
            .map(|reason| reason.text().to_owned()),
        _ => None,
    }
}

async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(server.url()).expect("client");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

/// A server, a worker watching ids and an operator triggering them: two processes' worth.
struct Fleet {
    server: RedisServer,
    worker: RemoteTokens,
    operator: RemoteTokens,
}

async fn fleet() -> Fleet {
    let server = RedisServer::start();
    let worker = within(RemoteTokens::connect(&server.url())).await.unwrap();
    let operator = within(RemoteTokens::connect(&server.url())).await.unwrap();
    Fleet {
        server,
        worker,
        operator,
    }
}

/// The reason's text, once `token` is triggered.
async fn reason_once_triggered(token: &CancelToken) -> String {
    within(token.wait()).await;
    token.reason().unwrap().to_string()
}

#[test]
fn remote_tokens_is_clone_send_sync() {
    fn shared<T: Clone + Send + Sync + 'static>() {}
    fn sendable<T: Send + Sync + 'static>() {}
    shared::<RemoteTokens>();
    sendable::<Error>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn born_triggered_when_triggered_before_token() {
    let server = RedisServer::start();
    let remote = within(RemoteTokens::connect(&server.url())).await.unwrap();
    within(remote.trigger("job-1", "the user pressed cancel"))
        .await
        .unwrap();

    let token = within(remote.token("job-1")).await.unwrap();
    assert!(
        token.triggered(),
        "a token asked for after the trigger is born triggered"
    );
    assert_eq!(
        token.reason().unwrap().to_string(),
        "the user pressed cancel"
    );
    assert_eq!(
        remote_text(&token).as_deref(),
        Some("the user pressed cancel")
    );
    assert_eq!(token.name(), "cancel-token:job-1");

    // The wire format: the key holds the reason, with the default TTL (24 h).
    let mut raw = raw(&server).await;
    let value: String = redis::cmd("GET")
        .arg("cancel-token:job-1")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(value, "the user pressed cancel");
    let ttl: i64 = redis::cmd("TTL")
        .arg("cancel-token:job-1")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((1..=86_400).contains(&ttl), "TTL {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggered_from_another_instance_after_token() {
    let fleet = fleet().await;
    let (worker, operator) = (&fleet.worker, &fleet.operator);

    let token = within(worker.token("job-2")).await.unwrap();
    assert!(!token.triggered());
    within(operator.trigger("job-2", "stop job 2"))
        .await
        .unwrap();
    assert_eq!(reason_once_triggered(&token).await, "stop job 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_reason_wins() {
    let fleet = fleet().await;
    let (worker, operator) = (&fleet.worker, &fleet.operator);

    let token = within(worker.token("job-3")).await.unwrap();
    within(operator.trigger("job-3", "first")).await.unwrap();
    within(operator.trigger("job-3", "second")).await.unwrap();
    assert_eq!(reason_once_triggered(&token).await, "first");
    let later = within(worker.token("job-3")).await.unwrap();
    assert_eq!(later.reason().unwrap().to_string(), "first");

    // The watcher re-reads the key rather than trusting the message: a key set by another
    // client (no PUBLISH), then a trigger whose SET NX loses but whose PUBLISH says "late".
    let token = within(worker.token("job-4")).await.unwrap();
    let mut raw = raw(&fleet.server).await;
    let () = redis::cmd("SET")
        .arg("cancel-token:job-4")
        .arg("set by hand")
        .query_async(&mut raw)
        .await
        .unwrap();
    within(operator.trigger("job-4", "late")).await.unwrap();
    assert_eq!(reason_once_triggered(&token).await, "set by hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_ids_never_fire() {
    let fleet = fleet().await;
    let (worker, operator) = (&fleet.worker, &fleet.operator);

    let mut tokens = Vec::new();
    for i in 0..2_000 {
        tokens.push(within(worker.token(&format!("id-{i}"))).await.unwrap());
    }
    let barrier = within(worker.token("barrier")).await.unwrap();
    within(operator.trigger("id-1234", "only this one"))
        .await
        .unwrap();
    // Messages are handled in order by one task: once the later barrier fired, id-1234's
    // message has been handled too.
    within(operator.trigger("barrier", "sync")).await.unwrap();
    within(barrier.wait()).await;

    let triggered: Vec<&str> = tokens
        .iter()
        .filter(|token| token.triggered())
        .map(|token| token.name())
        .collect();
    assert_eq!(triggered, ["cancel-token:id-1234"]);
    assert_eq!(tokens[1234].reason().unwrap().to_string(), "only this one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_list_does_not_keep_tokens_alive() {
    let server = RedisServer::start();
    let remote = within(RemoteTokens::connect(&server.url())).await.unwrap();
    let token = within(remote.token("job-5")).await.unwrap();
    let weak = WeakCancelToken::downgrade(&token);
    drop(token);
    assert!(weak.is_dropped());
    // A trigger for an id whose tokens are gone is harmless.
    within(remote.trigger("job-5", "nobody listens"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_id_is_an_error() {
    let server = RedisServer::start();
    let remote = within(RemoteTokens::connect(&server.url())).await.unwrap();
    assert!(matches!(
        within(remote.token("")).await,
        Err(Error::EmptyId)
    ));
    assert!(matches!(
        within(remote.trigger("", "why")).await,
        Err(Error::EmptyId)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_url_is_an_error() {
    for url in [
        "not a url",
        "http://127.0.0.1:6379",
        "redis://127.0.0.1:notaport",
        "",
    ] {
        let error = within(RemoteTokens::connect(url)).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidUrl { .. }),
            "{url:?}: {error:?}"
        );
        assert!(error.to_string().contains("invalid Redis URL"), "{error}");
    }
}

/// `connect` to a port of 127.0.0.1 with a 500 ms bound: its error.
async fn connect_error(port: u16) -> Error {
    let url = format!("redis://127.0.0.1:{port}");
    let connect = RemoteTokens::builder()
        .timeout(Duration::from_millis(500))
        .connect(&url);
    within(connect).await.unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_an_error_within_the_bound() {
    // Nothing listens: refused at once.
    let error = connect_error(free_port()).await;
    assert!(
        matches!(error, Error::Redis { .. } | Error::Timeout { .. }),
        "{error:?}"
    );

    // Something accepts the connection (the kernel's backlog) but never answers: the bound.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let error = connect_error(silent.local_addr().unwrap().port()).await;
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    drop(silent);
}

/// A worker with a short time bound (1 s) and sweep interval (50 ms), so that outages and
/// sweeps show up quickly; connected to `url`.
async fn worker(url: &str) -> RemoteTokens {
    let connect = RemoteTokens::builder()
        .timeout(Duration::from_secs(1))
        .sweep_interval(Duration::from_millis(50))
        .connect(url);
    within(connect).await.unwrap()
}

/// What a call made while Redis cannot be reached returns: a typed error (within the bound).
fn assert_unreachable<T: std::fmt::Debug>(result: Result<T, Error>) {
    let error = result.unwrap_err();
    assert!(
        matches!(error, Error::Redis { .. } | Error::Timeout { .. }),
        "{error:?}"
    );
}

/// A server; a worker (see [`worker`]) reaching it through a proxy that can cut it off; an
/// operator connected directly.
async fn behind_a_proxy() -> (RedisServer, Proxy, RemoteTokens, RemoteTokens) {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.url());
    let worker = worker(&proxy.url(&server.url())).await;
    let operator = within(RemoteTokens::connect(&server.url())).await.unwrap();
    (server, proxy, worker, operator)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_network_cut() {
    let (_server, proxy, worker, operator) = behind_a_proxy().await;
    let during = within(worker.token("during")).await.unwrap();
    let after = within(worker.token("after")).await.unwrap();

    assert_eq!(
        proxy.cut_off(),
        2,
        "the worker's two connections go through the proxy"
    );
    // Cut off: typed errors within the bound, neither a hang nor a panic.
    assert_unreachable(within(worker.trigger("other", "lost")).await);
    assert_unreachable(within(worker.token("other")).await);
    // Triggered where the worker cannot hear it: its message reaches nobody.
    within(operator.trigger("during", "while cut off"))
        .await
        .unwrap();
    assert!(!during.triggered());

    proxy.reopen();
    // R1, R7: the new subscription re-reads every watched key.
    assert_eq!(reason_once_triggered(&during).await, "while cut off");
    // ... after subscribing them all again: a trigger made now reaches `after` by its message,
    // and the worker's own commands work again.
    within(worker.trigger("after", "after the cut"))
        .await
        .unwrap();
    assert_eq!(reason_once_triggered(&after).await, "after the cut");
    let born = within(worker.token("during")).await.unwrap();
    assert_eq!(born.reason().unwrap().to_string(), "while cut off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_redis_restart() {
    let mut server = RedisServer::start();
    let worker = worker(&server.url()).await;
    let operator = within(RemoteTokens::connect(&server.url())).await.unwrap();
    let during = within(worker.token("during")).await.unwrap();
    let after = within(worker.token("after")).await.unwrap();

    server.stop();
    assert_unreachable(within(worker.trigger("other", "lost")).await);
    assert_unreachable(within(operator.trigger("during", "lost")).await);
    server.start_again();
    // The restarted server knows nothing (no persistence). Triggered at once: whether the
    // worker is back yet or not, it sees it, by the re-read of a new subscription or by the
    // message (R1, R7).
    within(operator.trigger("during", "while it restarted"))
        .await
        .unwrap();
    assert_eq!(reason_once_triggered(&during).await, "while it restarted");
    within(operator.trigger("after", "after the restart"))
        .await
        .unwrap();
    assert_eq!(reason_once_triggered(&after).await, "after the restart");
}

/// How many clients are subscribed to `channel` (`PUBSUB NUMSUB`).
async fn subscribers(raw: &mut redis::aio::MultiplexedConnection, channel: &str) -> i64 {
    let (_, count): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(raw)
        .await
        .unwrap();
    count
}

/// Waits until `channel` has `count` subscribers (within the liveness bound).
async fn until_subscribers(raw: &mut redis::aio::MultiplexedConnection, channel: &str, count: i64) {
    within(async {
        while subscribers(raw, channel).await != count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_ids_are_forgotten_and_unsubscribed() {
    let server = RedisServer::start();
    let worker = worker(&server.url()).await;
    let mut raw = raw(&server).await;
    let kept = within(worker.token("kept")).await.unwrap();
    let dropped = within(worker.token("dropped")).await.unwrap();
    let twice = [
        within(worker.token("twice")).await.unwrap(),
        within(worker.token("twice")).await.unwrap(),
    ];
    assert_eq!(subscribers(&mut raw, "cancel-token:dropped").await, 1);
    assert_eq!(worker.watched_ids(), 3);

    drop(dropped);
    until_subscribers(&mut raw, "cancel-token:dropped", 0).await;
    let [first, second] = twice;
    drop(first);
    // R5: one of its two tokens is alive: still watched, still subscribed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(subscribers(&mut raw, "cancel-token:twice").await, 1);
    drop(second);
    until_subscribers(&mut raw, "cancel-token:twice", 0).await;

    // The id still watched was never unsubscribed: its trigger arrives.
    assert_eq!(worker.watched_ids(), 1);
    assert_eq!(subscribers(&mut raw, "cancel-token:kept").await, 1);
    within(worker.trigger("kept", "still heard")).await.unwrap();
    assert_eq!(reason_once_triggered(&kept).await, "still heard");
    // Triggered, it needs no watching any more, although the token lives.
    until_subscribers(&mut raw, "cancel-token:kept", 0).await;
    assert_eq!(worker.watched_ids(), 0);
    assert!(kept.triggered());

    // A dropped id watched again is subscribed again.
    let again = within(worker.token("dropped")).await.unwrap();
    assert_eq!(subscribers(&mut raw, "cancel-token:dropped").await, 1);
    within(worker.trigger("dropped", "again")).await.unwrap();
    assert_eq!(reason_once_triggered(&again).await, "again");
    // Born triggered, a token needs no watching either.
    let born = within(worker.token("dropped")).await.unwrap();
    assert!(born.triggered());
    until_subscribers(&mut raw, "cancel-token:dropped", 0).await;
    assert_eq!(worker.watched_ids(), 0);
    assert!(born.triggered() && again.triggered());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_trigger_is_forwarded_to_the_fleet() {
    let fleet = fleet().await;
    let (worker, operator) = (&fleet.worker, &fleet.operator);
    let elsewhere = within(operator.token("job-f")).await.unwrap();

    let local = CancelToken::new("job f, local");
    let forwarding = worker.forward(&local, "job-f").unwrap();
    assert!(!forwarding.is_finished());
    local.trigger_with(std::io::Error::other("out of disk"));
    assert!(within(forwarding.landed()).await);
    // The local reason's Display is the remote reason, in the key and in the other process.
    assert_eq!(reason_once_triggered(&elsewhere).await, "out of disk");
    let later = within(operator.token("job-f")).await.unwrap();
    assert_eq!(later.reason().unwrap().to_string(), "out of disk");

    // A token triggered already is forwarded at once; a plain trigger() says "triggered".
    let done = CancelToken::new("done");
    done.trigger();
    assert!(within(worker.forward(&done, "job-g").unwrap().landed()).await);
    let job_g = within(operator.token("job-g")).await.unwrap();
    assert_eq!(job_g.reason().unwrap().to_string(), "triggered");

    assert!(matches!(worker.forward(&local, ""), Err(Error::EmptyId)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarding_retries_until_redis_takes_it() {
    let (_server, proxy, worker, operator) = behind_a_proxy().await;
    let elsewhere = within(operator.token("job-r")).await.unwrap();

    let local = CancelToken::new("job r, local");
    let forwarding = worker.forward(&local, "job-r").unwrap();
    proxy.cut_off();
    local.trigger_with(std::io::Error::other("cancelled while cut off"));
    // It cannot land while cut off (R8: it retries, with backoff).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!forwarding.is_finished());
    assert!(!elsewhere.triggered());

    proxy.reopen();
    assert!(within(forwarding.landed()).await);
    assert_eq!(
        reason_once_triggered(&elsewhere).await,
        "cancelled while cut off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarding_ends_with_its_token_when_told_or_with_remote_tokens() {
    let fleet = fleet().await;
    let local = CancelToken::new("never triggered");
    let stopped = fleet.worker.forward(&local, "job-s").unwrap();
    stopped.stop();
    assert!(!within(stopped.landed()).await);
    let orphaned = fleet.worker.forward(&local, "job-s").unwrap();
    drop(fleet.worker);
    assert!(!within(orphaned.landed()).await);

    // R8: a pending forwarding does not keep its token alive; dropped untriggered, the token
    // takes the forwarding with it.
    let pending = fleet.operator.forward(&local, "job-s").unwrap();
    let weak = WeakCancelToken::downgrade(&local);
    drop(local);
    assert!(weak.is_dropped());
    assert!(!within(pending.landed()).await);
    // And nothing was sent.
    let job_s = within(fleet.operator.token("job-s")).await.unwrap();
    assert!(!job_s.triggered());
}

/// `INFO stats`' count of connections the server accepted so far.
async fn connections_received(raw: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(raw)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_connections_received:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("total_connections_received in INFO stats")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_watcher_keeps_its_connections() {
    let server = RedisServer::start();
    let worker = worker(&server.url()).await;
    let mut raw = raw(&server).await;
    let token = within(worker.token("quiet")).await.unwrap();
    let before = connections_received(&mut raw).await;
    // Ten sweep intervals, each with its PING: none fails, nothing reconnects (R7).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(connections_received(&mut raw).await, before);
    within(worker.trigger("quiet", "still the same connections"))
        .await
        .unwrap();
    assert_eq!(
        reason_once_triggered(&token).await,
        "still the same connections"
    );
    assert_eq!(connections_received(&mut raw).await, before);
}

/// `remote.token(id)`, asked again until the watcher is back (each attempt is bounded).
async fn token_once_back(remote: &RemoteTokens, id: &str) -> CancelToken {
    within(async {
        loop {
            match remote.token(id).await {
                Ok(token) => return token,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_cuts_lose_no_trigger_and_fire_nothing_else() {
    let (_server, proxy, worker, operator) = behind_a_proxy().await;
    let mut tokens = Vec::new();
    for i in 0..200 {
        tokens.push(within(worker.token(&format!("id-{i}"))).await.unwrap());
    }

    // Five cuts: ten ids triggered while cut off, ten just after the network is back (while
    // the watcher reconnects, or once it has), and one id watched anew each round.
    let mut late = Vec::new();
    for round in 0..5 {
        proxy.cut_off();
        for i in round * 20..round * 20 + 10 {
            within(operator.trigger(&format!("id-{i}"), "cut off"))
                .await
                .unwrap();
        }
        proxy.reopen();
        for i in round * 20 + 10..round * 20 + 20 {
            within(operator.trigger(&format!("id-{i}"), "back"))
                .await
                .unwrap();
        }
        late.push(token_once_back(&worker, &format!("late-{round}")).await);
    }
    for (i, token) in tokens.iter().enumerate().take(100) {
        let expected = if i % 20 < 10 { "cut off" } else { "back" };
        assert_eq!(reason_once_triggered(token).await, expected, "id-{i}");
    }
    // Messages are handled in order: once a later trigger's message arrived, nothing else is on
    // its way.
    for (round, token) in late.iter().enumerate() {
        within(operator.trigger(&format!("late-{round}"), "late"))
            .await
            .unwrap();
        assert_eq!(reason_once_triggered(token).await, "late");
    }
    let triggered = tokens[100..]
        .iter()
        .filter(|token| token.triggered())
        .count();
    assert_eq!(triggered, 0, "ids never triggered stay untriggered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tokens_at_once() {
    let fleet = fleet().await;
    let (worker, operator) = (&fleet.worker, &fleet.operator);
    let mut raw = raw(&fleet.server).await;
    within(operator.trigger("many-1500", "before"))
        .await
        .unwrap();

    // More than two batches of a thousand.
    let ids: Vec<String> = (0..2_500).map(|i| format!("many-{i}")).collect();
    let tokens = within(worker.tokens(&ids)).await.unwrap();
    assert_eq!(tokens.len(), 2_500);
    assert_eq!(tokens[2_499].name(), "cancel-token:many-2499");
    // R1: born triggered, and only that one.
    assert_eq!(tokens[1_500].reason().unwrap().to_string(), "before");
    assert_eq!(tokens.iter().filter(|token| token.triggered()).count(), 1);
    // Every id subscribed, the last batch too.
    assert_eq!(subscribers(&mut raw, "cancel-token:many-2499").await, 1);
    within(operator.trigger("many-2499", "after"))
        .await
        .unwrap();
    assert_eq!(reason_once_triggered(&tokens[2_499]).await, "after");
    assert_eq!(tokens.iter().filter(|token| token.triggered()).count(), 2);

    assert!(
        within(worker.tokens(Vec::<String>::new()))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        within(worker.tokens(["fine", ""])).await,
        Err(Error::EmptyId)
    ));
    // Nothing was watched for the call that failed.
    assert_eq!(subscribers(&mut raw, "cancel-token:fine").await, 0);
}
