//! The consumer's side effect: one record per message (`record`), on disk before the ack, in
//! `--processed` or, for a job cancelled through `--cancel-redis`, in `--cancelled`.
//!
//! The order "append, fsync, then ack" is what makes the consumer at-least-once: a message is
//! acknowledged only once its record is durable, so a crash can duplicate a record (written, not
//! yet acked, redelivered) but never lose one. A graceful stop finishes that sequence, so it
//! duplicates nothing either.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An append-only output file (`--processed`, `--cancelled`).
#[derive(Debug, Clone)]
pub struct OutputFile {
    file: Arc<File>,
    path: Arc<PathBuf>,
}

impl OutputFile {
    /// Opens (creating if needed) for appending. Called before connecting, so that an unwritable
    /// path is a usage error at once, not a failure on the first message.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Arc::new(file),
            path: Arc::new(path.to_owned()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether both are the same file on disk (however their paths are spelled): the consumer
    /// refuses to write its processed and cancelled records to one file.
    pub fn is_same_file(&self, other: &OutputFile) -> io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let (mine, theirs) = (self.file.metadata()?, other.file.metadata()?);
        Ok(mine.dev() == theirs.dev() && mine.ino() == theirs.ino())
    }

    /// Appends `record` (one line of printable ASCII, `record::encode`) and a newline in one
    /// `write` (O_APPEND: a line is never torn by a kill between two writes), then `fsync`s the
    /// data; returns once both are done.
    ///
    /// Runs on tokio's blocking pool: an fsync can take milliseconds, during which the runtime
    /// must keep serving the connection (heartbeats, the signal-driven stop).
    pub async fn append(&self, record: &str) -> io::Result<()> {
        let mut line = String::with_capacity(record.len() + 1);
        line.push_str(record);
        line.push('\n');
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || {
            (&*file).write_all(line.as_bytes())?;
            file.sync_data()
        })
        .await
        .map_err(io::Error::other)?
    }
}
