//! `--cancel-redis URL --cancelled FILE`: a job cancelled by its id, wherever it runs.
//!
//! A message's job id is its record (`record::encode` of the body: the body itself for the ids
//! one would normally choose). Before the job starts, the consumer asks `cancel-token-redis` for
//! the id's token and keeps it for the job's work, so a job cancelled before it is taken (even
//! before it was published: the token is born triggered) or during its work stops early. Its
//! record then goes to `--cancelled` instead of `--processed`, and the message is acked: every
//! id ends up in exactly one of the two files.
//!
//! The job's token is the remote token alone, on purpose: the shutdown token is not one of its
//! parents, so a SIGTERM still lets the job in hand finish (graceful shutdown is unchanged);
//! only a remote cancel cuts its work short.

use cancel_token::CancelToken;
use cancel_token_redis::RemoteTokens;
use tracing::warn;

use crate::connect::Backoff;
use crate::output::OutputFile;

/// The Redis the consumer watches job ids in, and where cancelled jobs are recorded.
#[derive(Debug)]
pub struct JobCancel {
    remote: RemoteTokens,
    cancelled: OutputFile,
}

impl JobCancel {
    pub fn new(remote: RemoteTokens, cancelled: OutputFile) -> Self {
        Self { remote, cancelled }
    }

    /// Where cancelled jobs' records go (`--cancelled`).
    pub fn cancelled(&self) -> &OutputFile {
        &self.cancelled
    }

    /// The token of job `id`, watched from now on (born triggered if the job was cancelled
    /// before). When Redis cannot be asked, the job does not start: the attempt is logged and
    /// retried with backoff, and `None` once `shutdown` triggers during the retries (the caller
    /// then leaves the message unacked, for the broker to deliver again). Dropping the token
    /// stops watching the id.
    pub async fn watch(&self, id: &str, shutdown: &CancelToken) -> Option<CancelToken> {
        let mut backoff = Backoff::new();
        loop {
            match self.remote.token(id).await {
                Ok(token) => return Some(token),
                Err(error) => warn!(
                    id,
                    %error,
                    retry_in = ?backoff.delay(),
                    "cannot watch the job's remote token; the job waits"
                ),
            }
            if !backoff.sleep(shutdown).await {
                return None;
            }
        }
    }
}
