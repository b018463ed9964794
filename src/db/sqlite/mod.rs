//! SQLite's own: its connection settings, and group commit of rotations.
//!
//! SQLite has one writer at a time. A rotation in a transaction of its own held the write lock
//! across several round trips to its connection's worker thread, while the rotations queued behind
//! it slept in SQLite's busy handler. Here one task takes every rotation waiting and consumes and
//! replaces them all in one transaction of at most three statements besides BEGIN and COMMIT,
//! whatever their number (see `batch`). Each rotation is still decided alone by a conditional
//! update: a token consumed before, or earlier in the same batch, is not consumed again.

mod batch;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectOptions, DatabaseConnection,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::{mpsc, oneshot};

use super::tokens::{NewRefreshToken, StoredRefreshToken};
use crate::{domain::TokenHash, error::AuthError};

/// How long a writer waits for the lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One writer at a time; more connections only queue more writers in its busy handler, which
/// sleeps in steps of up to 100 ms. Measured in docs/PERFORMANCE.md (Refresh p99 at 8 callers:
/// 16 ms with 2, 39 ms with 5, 82 ms with 10), and ValidateToken is served from memory.
pub(super) const CONNECTIONS: u32 = 2;

/// Rotations one transaction takes at most; bounds its statements' size (12 values per successor).
const MOST_PER_BATCH: usize = 256;

/// Rotations that may wait for the writer before callers wait to hand theirs in.
const MOST_WAITING: usize = 4096;

pub(super) fn configure(options: &mut ConnectOptions) {
    options.map_sqlx_sqlite_opts(|options: SqliteConnectOptions| {
        options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
    });
}

/// The common refresh: whatever live token has the presented hash, replaced.
struct Rotation {
    presented: TokenHash,
    successor: NewRefreshToken,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<Option<StoredRefreshToken>, AuthError>>,
}

/// Hands rotations to the writer task; the task ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub(super) struct RotationWriter {
    queue: mpsc::Sender<Rotation>,
}

impl RotationWriter {
    pub(super) fn spawn(conn: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(MOST_WAITING);
        tokio::spawn(write_rotations(conn, waiting));
        Self { queue }
    }

    /// The token with the `presented` hash, when it was live and is now replaced by `successor`;
    /// `None` leaves it untouched.
    pub(super) async fn rotate(
        &self,
        presented: &TokenHash,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        let (reply, decided) = oneshot::channel();
        let stopped = || AuthError::internal(anyhow::anyhow!("the rotation writer has stopped"));
        let rotation = Rotation {
            presented: presented.clone(),
            successor: successor.clone(),
            now,
            reply,
        };
        self.queue.send(rotation).await.map_err(|_| stopped())?;
        decided.await.map_err(|_| stopped())?
    }
}

async fn write_rotations(conn: DatabaseConnection, mut waiting: mpsc::Receiver<Rotation>) {
    let mut arrived = Vec::with_capacity(MOST_PER_BATCH);
    while waiting.recv_many(&mut arrived, MOST_PER_BATCH).await > 0 {
        commit(&conn, std::mem::take(&mut arrived)).await;
    }
}

/// Commits one batch and answers each of its rotations. A caller that went away still had its
/// token rotated, as with a lost reply.
async fn commit(conn: &DatabaseConnection, rotations: Vec<Rotation>) {
    match batch::rotate_together(conn, &rotations).await {
        Ok(outcomes) => {
            for (rotation, rotated) in rotations.into_iter().zip(outcomes) {
                let _ = rotation.reply.send(Ok(rotated));
            }
        }
        // Kept from the lock or the database: trying each alone would wait once more per
        // rotation, with every rotation arriving meanwhile queued behind them.
        Err(AuthError::Unavailable(error)) => {
            tracing::warn!(error = %error, rotations = rotations.len(), "batched rotation unavailable");
            for rotation in rotations {
                let unavailable = anyhow::anyhow!("a batch of rotations was unavailable");
                let _ = rotation
                    .reply
                    .send(Err(AuthError::Unavailable(unavailable)));
            }
        }
        // One rotation's failure (a successor that cannot be stored, say) must not fail the
        // others.
        Err(error) => {
            tracing::warn!(error = %error, rotations = rotations.len(), "batched rotation failed, rotating one by one");
            for rotation in rotations {
                let alone = std::slice::from_ref(&rotation);
                let outcome = batch::rotate_together(conn, alone)
                    .await
                    .map(|outcomes| outcomes.into_iter().flatten().next());
                let _ = rotation.reply.send(outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests;
