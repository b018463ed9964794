//! Group commit of refresh-token rotations on SQLite.
//!
//! SQLite has one writer at a time. A rotation in a transaction of its own held the write lock
//! across three round trips to its connection's worker thread, and the rotations queued behind it
//! slept in SQLite's busy handler; a refresh also looked its token up first, one read at a time on
//! the pool's other connection. Here one task takes every rotation waiting, whether its token is
//! known by id or only by the hash a client presented, and consumes and replaces them all in one
//! transaction of at most four statements besides BEGIN and COMMIT, whatever their number (see
//! `batch`). Each rotation is
//! still decided alone by a conditional update: a token consumed before, or earlier in the same
//! batch, is not consumed again.

mod batch;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{NewRefreshToken, RotatedSession, SuccessorDraft, rotation};
use crate::{domain::TokenHash, error::AuthError};

/// Rotations one transaction takes at most; bounds its statements' size (11 values per successor).
const MOST_PER_BATCH: usize = 256;

/// Rotations that may wait for the writer before callers wait to hand theirs in.
const MOST_WAITING: usize = 4096;

type Reply<T> = oneshot::Sender<Result<T, AuthError>>;

/// The long way's rotation: a token already looked up, replaced if still unconsumed.
struct KnownRotation {
    current: Uuid,
    successor: NewRefreshToken,
    now: DateTime<Utc>,
    reply: Reply<bool>,
}

/// The common refresh: whatever live token has the presented hash, replaced.
struct PresentedRotation {
    presented: TokenHash,
    successor: SuccessorDraft,
    now: DateTime<Utc>,
    reply: Reply<Option<RotatedSession>>,
}

enum Rotation {
    Known(KnownRotation),
    Presented(PresentedRotation),
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

    /// Whether `current` was still unconsumed, and is now replaced by `successor`.
    pub(super) async fn rotate(
        &self,
        current: Uuid,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        self.submit(|reply| {
            Rotation::Known(KnownRotation {
                current,
                successor: successor.clone(),
                now,
                reply,
            })
        })
        .await
    }

    /// The session of the token with the `presented` hash, when that token was live and is now
    /// replaced by `successor`; `None` leaves it untouched.
    pub(super) async fn rotate_presented(
        &self,
        presented: &TokenHash,
        successor: &SuccessorDraft,
        now: DateTime<Utc>,
    ) -> Result<Option<RotatedSession>, AuthError> {
        self.submit(|reply| {
            Rotation::Presented(PresentedRotation {
                presented: presented.clone(),
                successor: successor.clone(),
                now,
                reply,
            })
        })
        .await
    }

    async fn submit<T>(&self, rotation: impl FnOnce(Reply<T>) -> Rotation) -> Result<T, AuthError> {
        let (reply, decided) = oneshot::channel();
        let stopped = || AuthError::internal(anyhow::anyhow!("the rotation writer has stopped"));
        self.queue
            .send(rotation(reply))
            .await
            .map_err(|_| stopped())?;
        decided.await.map_err(|_| stopped())?
    }
}

async fn write_rotations(conn: DatabaseConnection, mut waiting: mpsc::Receiver<Rotation>) {
    let mut arrived = Vec::with_capacity(MOST_PER_BATCH);
    while waiting.recv_many(&mut arrived, MOST_PER_BATCH).await > 0 {
        let mut known = Vec::new();
        let mut presented = Vec::new();
        for rotation in arrived.drain(..) {
            match rotation {
                Rotation::Known(rotation) => known.push(rotation),
                Rotation::Presented(rotation) => presented.push(rotation),
            }
        }
        commit(&conn, known, presented).await;
    }
}

/// Commits one batch and answers each of its rotations. A caller that went away still had its
/// token rotated, as with a lost reply.
async fn commit(
    conn: &DatabaseConnection,
    known: Vec<KnownRotation>,
    presented: Vec<PresentedRotation>,
) {
    match batch::rotate_together(conn, &known, &presented).await {
        Ok(outcomes) => {
            for (rotation, rotated) in known.into_iter().zip(outcomes.known) {
                let _ = rotation.reply.send(Ok(rotated));
            }
            for (rotation, rotated) in presented.into_iter().zip(outcomes.presented) {
                let _ = rotation.reply.send(Ok(rotated));
            }
        }
        // Kept from the lock or the database: trying each alone would wait once more per
        // rotation, with every rotation arriving meanwhile queued behind them.
        Err(AuthError::Unavailable(error)) => {
            let rotations = known.len() + presented.len();
            tracing::warn!(error = %error, rotations, "batched rotation unavailable");
            let unavailable =
                || AuthError::Unavailable(anyhow::anyhow!("a batch of rotations was unavailable"));
            for rotation in known {
                let _ = rotation.reply.send(Err(unavailable()));
            }
            for rotation in presented {
                let _ = rotation.reply.send(Err(unavailable()));
            }
        }
        // One rotation's failure (a successor that cannot be stored, say) must not fail the
        // others.
        Err(error) => {
            let rotations = known.len() + presented.len();
            tracing::warn!(error = %error, rotations, "batched rotation failed, rotating one by one");
            for rotation in known {
                let outcome = rotation::rotate_alone(
                    conn,
                    rotation.current,
                    &rotation.successor,
                    rotation.now,
                )
                .await;
                let _ = rotation.reply.send(outcome);
            }
            for rotation in presented {
                let alone = std::slice::from_ref(&rotation);
                let outcome = batch::rotate_together(conn, &[], alone)
                    .await
                    .map(|outcomes| outcomes.presented.into_iter().flatten().next());
                let _ = rotation.reply.send(outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests;
