//! The test's side of `--cancel-redis`: a real redis-server of its own (started on a free port of
//! 127.0.0.1 by cancel-token-redis's test support, killed when dropped) and a client that cancels
//! jobs by id through the library's public API, as an operator's program would.

use cancel_token_redis::RemoteTokens;

#[path = "../../cancel-token-redis/tests/support/mod.rs"]
mod server;

use super::HANG_GUARD;

pub struct Redis {
    // Dropped in this order: the client, its runtime, then the server.
    remote: RemoteTokens,
    // One worker, so the client's connections are served while the test thread blocks.
    runtime: tokio::runtime::Runtime,
    /// `None` once [`Redis::stop_server`] has killed it.
    server: Option<server::RedisServer>,
    url: String,
}

impl Redis {
    /// Starts a redis-server (failing the test, saying how to install it, when it is missing)
    /// and connects to it.
    pub fn start() -> Self {
        let server = server::RedisServer::start();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let remote = runtime
            .block_on(RemoteTokens::connect(&server.url()))
            .unwrap_or_else(|error| panic!("connecting to {}: {error}", server.url()));
        Self {
            remote,
            runtime,
            url: server.url(),
            server: Some(server),
        }
    }

    /// For `--cancel-redis`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Kills the redis-server: from now on nobody can watch or cancel a job.
    pub fn stop_server(&mut self) {
        self.server = None;
    }

    /// Cancels job `id` everywhere (`RemoteTokens::trigger`).
    pub fn cancel(&self, id: &str) {
        let trigger = self.remote.trigger(id, "cancelled by the test");
        self.runtime
            .block_on(async { tokio::time::timeout(HANG_GUARD, trigger).await })
            .unwrap_or_else(|_| panic!("triggering {id} hung for {HANG_GUARD:?}"))
            .unwrap_or_else(|error| panic!("triggering {id}: {error}"));
    }
}
