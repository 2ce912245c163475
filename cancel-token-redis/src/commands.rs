//! The command connection: one multiplexed connection, replaced when it is lost.
//!
//! Invariant R4: a command either returns within the time bound or fails with a typed
//! [`Error`]. A connection that failed (closed, reset, silent past the bound) is forgotten, and
//! the next command opens a new one; a command that finds its connection already lost is sent
//! once more on a fresh one, within the same bound. Every command sent here is idempotent
//! (`GET`, `MGET`, `SET ... NX` then `PUBLISH`, `PING`), so sending it twice is harmless.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, FromRedisValue, RedisError};

use crate::error::Error;

/// The command connection of one `RemoteTokens` and its clones (R4).
pub(crate) struct Commands {
    client: Client,
    timeout: Duration,
    current: Mutex<Slot>,
}

/// The connection in use, and its generation: only the connection that failed is forgotten,
/// never a newer one another command opened meanwhile.
#[derive(Default)]
struct Slot {
    generation: u64,
    connection: Option<MultiplexedConnection>,
}

impl Commands {
    /// Opens the first connection and checks that it answers `PING`: both are "connecting" in
    /// an error, since a refused connection is only found out here.
    pub(crate) async fn connect(client: Client, timeout: Duration) -> Result<Commands, Error> {
        let commands = Commands {
            client,
            timeout,
            current: Mutex::default(),
        };
        commands
            .query::<()>("connecting", &redis::cmd("PING"))
            .await?;
        Ok(commands)
    }

    /// Runs `command` (R4): within the bound, on the current connection or a new one.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        during: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, Error> {
        self.bounded(during, Request::One(command)).await
    }

    /// Runs `pipeline` (R4), as [`Commands::query`].
    pub(crate) async fn pipeline<T: FromRedisValue>(
        &self,
        during: &'static str,
        pipeline: &redis::Pipeline,
    ) -> Result<T, Error> {
        self.bounded(during, Request::Pipeline(pipeline)).await
    }

    async fn bounded<T: FromRedisValue>(
        &self,
        during: &'static str,
        request: Request<'_>,
    ) -> Result<T, Error> {
        let attempts = async {
            let (generation, mut connection, fresh) = self.connection().await?;
            match request.send(&mut connection).await {
                Err(error) if lost(&error) => {
                    self.forget(generation);
                    if fresh {
                        return Err(error);
                    }
                    // R4: the connection died since its last use (Redis restarted, ...): once
                    // more on a new one.
                    let (generation, mut connection, _) = self.connection().await?;
                    let result = request.send(&mut connection).await;
                    if result.as_ref().is_err_and(lost) {
                        self.forget(generation);
                    }
                    result
                }
                result => result,
            }
        };
        match tokio::time::timeout(self.timeout, attempts).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(Error::Redis {
                during,
                source: Box::new(source),
            }),
            Err(_elapsed) => {
                // Silent past the bound: the connection may be half dead; the next command
                // opens a new one (R4).
                self.forget_any();
                Err(Error::Timeout {
                    during,
                    after: self.timeout,
                })
            }
        }
    }

    /// The current connection, or a new one; `true` when it is new.
    async fn connection(&self) -> redis::RedisResult<(u64, MultiplexedConnection, bool)> {
        {
            let slot = self.lock();
            if let Some(connection) = &slot.connection {
                return Ok((slot.generation, connection.clone(), false));
            }
        }
        // The bound is the caller's (`bounded`), over connecting and the command; the client's
        // own defaults (1 s to connect, 500 ms per response) would fail commands queued behind a
        // burst, and report a silent server as an I/O error rather than a timeout.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(None)
            .set_response_timeout(None);
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut slot = self.lock();
        slot.generation += 1;
        slot.connection = Some(connection.clone());
        Ok((slot.generation, connection, true))
    }

    fn forget(&self, generation: u64) {
        let mut slot = self.lock();
        if slot.generation == generation {
            slot.connection = None;
        }
    }

    fn forget_any(&self) {
        self.lock().connection = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A command or a pipeline of them.
#[derive(Clone, Copy)]
enum Request<'a> {
    One(&'a redis::Cmd),
    Pipeline(&'a redis::Pipeline),
}

impl Request<'_> {
    async fn send<T: FromRedisValue>(
        self,
        connection: &mut MultiplexedConnection,
    ) -> redis::RedisResult<T> {
        match self {
            Request::One(command) => command.query_async(connection).await,
            Request::Pipeline(pipeline) => pipeline.query_async(connection).await,
        }
    }
}

/// Whether `error` means the connection is gone (rather than Redis refusing one command).
pub(crate) fn lost(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}
