//! Group commit of refresh-token rotations on SQLite.
//!
//! SQLite has one writer at a time. A rotation in a transaction of its own held the write lock
//! across three round trips to its connection's worker thread, and the rotations queued behind it
//! slept in SQLite's busy handler. Here one task takes every rotation waiting and consumes and
//! replaces them all in one transaction of four statements, whatever their number. Each rotation
//! is still decided alone by the conditional update: a token consumed before, or earlier in the
//! same batch, gets `false`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{CaseStatement, Expr},
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{NewRefreshToken, db_error, entities::refresh_tokens, sessions};
use crate::error::AuthError;

/// Rotations one transaction takes at most; bounds its statements' size (11 values per successor).
const MOST_PER_BATCH: usize = 256;

/// Rotations that may wait for the writer before callers wait to hand theirs in.
const MOST_WAITING: usize = 4096;

struct Rotation {
    current: Uuid,
    successor: NewRefreshToken,
    now: DateTime<Utc>,
    outcome: oneshot::Sender<Result<bool, AuthError>>,
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
        let (outcome, decided) = oneshot::channel();
        let rotation = Rotation {
            current,
            successor: successor.clone(),
            now,
            outcome,
        };
        let stopped = || AuthError::internal(anyhow::anyhow!("the rotation writer has stopped"));
        self.queue.send(rotation).await.map_err(|_| stopped())?;
        decided.await.map_err(|_| stopped())?
    }
}

async fn write_rotations(conn: DatabaseConnection, mut waiting: mpsc::Receiver<Rotation>) {
    let mut batch = Vec::with_capacity(MOST_PER_BATCH);
    while waiting.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        match rotate_together(&conn, &batch).await {
            Ok(rotated) => {
                for (rotation, rotated) in batch.drain(..).zip(rotated) {
                    // A caller that went away still had its token rotated, as with a lost reply.
                    let _ = rotation.outcome.send(Ok(rotated));
                }
            }
            // Kept from the lock or the database: trying each alone would wait once more per
            // rotation, with every rotation arriving meanwhile queued behind them.
            Err(AuthError::Unavailable(error)) => {
                tracing::warn!(error = %error, rotations = batch.len(), "batched rotation unavailable");
                for rotation in batch.drain(..) {
                    let unavailable = anyhow::anyhow!("a batch of rotations was unavailable");
                    let _ = rotation
                        .outcome
                        .send(Err(AuthError::Unavailable(unavailable)));
                }
            }
            // One rotation's failure (a successor that cannot be stored, say) must not fail the
            // others.
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    rotations = batch.len(),
                    "batched rotation failed, rotating one by one"
                );
                for rotation in batch.drain(..) {
                    let outcome = sessions::rotate_alone(
                        &conn,
                        rotation.current,
                        &rotation.successor,
                        rotation.now,
                    )
                    .await;
                    let _ = rotation.outcome.send(outcome);
                }
            }
        }
    }
}

/// Whether each rotation of `batch` took place, in its order.
async fn rotate_together(
    conn: &DatabaseConnection,
    batch: &[Rotation],
) -> Result<Vec<bool>, AuthError> {
    // Of several rotations of one token, only the first can win, as if they came one by one.
    let mut seen = HashSet::with_capacity(batch.len());
    let contenders: Vec<&Rotation> = batch
        .iter()
        .filter(|rotation| seen.insert(rotation.current))
        .collect();
    let revoked_at = contenders
        .iter()
        .fold(CaseStatement::new(), |case, rotation| {
            case.case(
                refresh_tokens::Column::Id.eq(rotation.current),
                Expr::value(rotation.now),
            )
        });
    let transaction = conn.begin().await.map_err(db_error)?;
    let consumed: HashSet<Uuid> = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, revoked_at.into())
        .filter(
            refresh_tokens::Column::Id.is_in(contenders.iter().map(|rotation| rotation.current)),
        )
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec_with_returning(&transaction)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|token| token.id)
        .collect();
    let winners: Vec<&Rotation> = contenders
        .into_iter()
        .filter(|rotation| consumed.contains(&rotation.current))
        .collect();
    if !winners.is_empty() {
        let successors = winners
            .iter()
            .map(|rotation| sessions::active_model(&rotation.successor, rotation.now));
        refresh_tokens::Entity::insert_many(successors)
            .exec_without_returning(&transaction)
            .await
            .map_err(db_error)?;
    }
    transaction.commit().await.map_err(db_error)?;
    let mut settled = HashSet::with_capacity(winners.len());
    Ok(batch
        .iter()
        .map(|rotation| consumed.contains(&rotation.current) && settled.insert(rotation.current))
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database};
    use tempfile::TempDir;

    use super::*;
    use crate::{
        db::{NewUser, Store},
        domain::{ClientContext, Email, Role, TokenHash},
    };

    fn token(user_id: Uuid, hash_byte: u8, parent_id: Option<Uuid>) -> NewRefreshToken {
        let now = Utc::now();
        NewRefreshToken {
            id: Uuid::now_v7(),
            user_id,
            token_hash: TokenHash::from_digest(&[hash_byte; 32]),
            token_family: Uuid::new_v4(),
            session_started_at: now,
            expires_at: now + chrono::Duration::days(7),
            client: ClientContext::default(),
            parent_id,
        }
    }

    /// A migrated SQLite file with one user and three sessions, whose first tokens have the hashes
    /// 1, 2 and 3 (see [`token`]).
    struct ThreeSessions {
        _dir: TempDir,
        url: String,
        store: Store,
        user_id: Uuid,
        firsts: Vec<NewRefreshToken>,
    }

    impl ThreeSessions {
        async fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display());
            let store = Store::connect(&url, None).await.unwrap();
            Migrator::up(store.connection(), None).await.unwrap();
            let new_user = NewUser {
                email: Email::parse("ada@example.com").unwrap(),
                username: None,
                full_name: None,
                password_hash: "not a real hash".into(),
                role: Role::User,
            };
            let user = store.insert_user(new_user, Utc::now()).await.unwrap();
            let firsts: Vec<NewRefreshToken> = (1..=3).map(|n| token(user.id, n, None)).collect();
            for first in &firsts {
                sessions::insert_token(store.connection(), first, Utc::now())
                    .await
                    .unwrap();
            }
            Self {
                _dir: dir,
                url,
                store,
                user_id: user.id,
                firsts,
            }
        }

        fn successor(&self, session: usize, hash_byte: u8) -> NewRefreshToken {
            token(self.user_id, hash_byte, Some(self.firsts[session].id))
        }

        fn writer(&self) -> RotationWriter {
            self.store.rotation_writer.clone().unwrap()
        }
    }

    /// A batch whose insert fails is retried one rotation at a time: the rotation that cannot be
    /// stored fails, and only it.
    #[tokio::test]
    async fn a_rotation_that_fails_fails_alone() {
        let sessions = ThreeSessions::new().await;
        let now = Utc::now();
        // The second successor reuses the first session's token hash, which is unique.
        let successors = [
            sessions.successor(0, 11),
            sessions.successor(1, 1),
            sessions.successor(2, 13),
        ];
        let writer = sessions.writer();
        let firsts = &sessions.firsts;
        // On this test's single-threaded runtime the writer only runs once all three wait.
        let (first, second, third) = tokio::join!(
            writer.rotate(firsts[0].id, &successors[0], now),
            writer.rotate(firsts[1].id, &successors[1], now),
            writer.rotate(firsts[2].id, &successors[2], now),
        );
        assert!(first.unwrap());
        assert!(second.is_err());
        assert!(third.unwrap());
        assert!(
            writer
                .rotate(firsts[1].id, &sessions.successor(1, 12), now)
                .await
                .unwrap(),
            "the failed rotation consumed nothing"
        );
    }

    /// A batch that gave up waiting for SQLite's lock answers every rotation in it UNAVAILABLE at
    /// once. Retrying each alone would queue them behind the same lock, one busy timeout each, and
    /// every rotation arriving meanwhile behind them.
    #[tokio::test]
    async fn a_batch_kept_from_the_lock_is_unavailable_at_once() {
        let sessions = ThreeSessions::new().await;
        let other_process = Database::connect(&sessions.url).await.unwrap();
        let mut holding_the_lock = Some(other_process.begin().await.unwrap());
        holding_the_lock
            .as_ref()
            .unwrap()
            .execute_unprepared("UPDATE users SET full_name = 'someone else writing'")
            .await
            .unwrap();
        let writer = sessions.writer();
        let rotations: Vec<_> = (0..3)
            .map(|session| {
                let writer = writer.clone();
                let current = sessions.firsts[session].id;
                let successor = sessions.successor(session, 11 + session as u8);
                tokio::spawn(async move { writer.rotate(current, &successor, Utc::now()).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for (n, rotation) in rotations.into_iter().enumerate() {
            outcomes.push(rotation.await.unwrap());
            if let (0, Some(lock)) = (n, holding_the_lock.take()) {
                // Whatever is still waiting now would get the lock.
                lock.rollback().await.unwrap();
            }
        }
        for outcome in outcomes {
            assert!(
                matches!(outcome, Err(AuthError::Unavailable(_))),
                "{outcome:?}"
            );
        }
    }
}
