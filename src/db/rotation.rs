//! Refresh-token rotation: a parent consumed and its successor stored, both or neither, in the
//! fewest round trips each database allows. PostgreSQL rotates in single statements
//! (`postgres_rotation`), SQLite in batches from its one writer (`group_commit`), MariaDB in a
//! transaction per rotation.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    NewRefreshToken, Store, db_error, entities::refresh_tokens, postgres_rotation,
    sessions::insert_token,
};
use crate::{
    domain::{ClientContext, TokenHash, User},
    error::AuthError,
};

/// A successor whose session is not known yet: the store finds its parent by the presented hash.
#[derive(Debug, Clone)]
pub struct SuccessorDraft {
    pub id: Uuid,
    pub token_hash: TokenHash,
    pub client: ClientContext,
    /// When it expires unless the session ends first.
    pub idle_limit: DateTime<Utc>,
    /// How long after its start a session ends.
    pub session_lifetime: chrono::Duration,
}

impl SuccessorDraft {
    /// The successor of `parent`, in its session, expiring at its idle limit or the session's
    /// end, whichever comes first.
    pub(super) fn succeeding(&self, parent: &refresh_tokens::Model) -> NewRefreshToken {
        let session_end = parent
            .session_started_at
            .checked_add_signed(self.session_lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        NewRefreshToken {
            id: self.id,
            user_id: parent.user_id,
            token_hash: self.token_hash.clone(),
            token_family: parent.token_family,
            session_started_at: parent.session_started_at,
            expires_at: self.idle_limit.min(session_end),
            client: self.client.clone(),
            parent_id: Some(parent.id),
        }
    }
}

/// A parent consumed and its successor stored.
#[derive(Debug)]
pub struct RotatedSession {
    pub user: User,
    pub token_family: Uuid,
    pub successor_expires_at: DateTime<Utc>,
}

impl Store {
    /// The common refresh in one step: finds the presented token, consumes it if it is live and
    /// its user active, and stores `successor` in its session. One statement on PostgreSQL; on
    /// SQLite, part of the writer's next batch. `None` when it was not live, and always on
    /// MariaDB: the caller then takes the long way.
    pub async fn rotate_live_token(
        &self,
        presented: &TokenHash,
        successor: &SuccessorDraft,
        now: DateTime<Utc>,
    ) -> Result<Option<RotatedSession>, AuthError> {
        if let Some(writer) = &self.rotation_writer {
            return writer.rotate_presented(presented, successor, now).await;
        }
        match self.conn.get_database_backend() {
            DbBackend::Postgres => {
                postgres_rotation::rotate_live_by_hash(&self.conn, presented, successor, now).await
            }
            _ => Ok(None),
        }
    }

    /// Consumes `current` and stores `successor`, both or neither: in one statement on PostgreSQL,
    /// in a transaction shared with the other rotations waiting on SQLite, in a transaction of its
    /// own on MariaDB. The update only matches a token nobody has consumed yet, so of concurrent
    /// rotations exactly one gets `true`; the others wait on its row lock (or SQLite's single
    /// writer) and then match nothing.
    pub async fn rotate_refresh_token(
        &self,
        current: Uuid,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        if let Some(writer) = &self.rotation_writer {
            return writer.rotate(current, successor, now).await;
        }
        match self.conn.get_database_backend() {
            DbBackend::Postgres => {
                postgres_rotation::rotate_in_one_statement(&self.conn, current, successor, now)
                    .await
            }
            _ => {
                self.rotate_refresh_token_in_transaction(current, successor, now)
                    .await
            }
        }
    }

    /// The textbook rotation, in a transaction of its own on any database: MariaDB's rotation, and
    /// the yardstick the load bench holds Refresh against.
    pub async fn rotate_refresh_token_in_transaction(
        &self,
        current: Uuid,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        rotate_alone(&self.conn, current, successor, now).await
    }
}

/// One rotation in a transaction of its own.
pub(super) async fn rotate_alone(
    db: &DatabaseConnection,
    current: Uuid,
    successor: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let transaction = db.begin().await.map_err(db_error)?;
    let consumed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(current))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&transaction)
        .await
        .map_err(db_error)?;
    if consumed.rows_affected != 1 {
        transaction.rollback().await.map_err(db_error)?;
        return Ok(false);
    }
    insert_token(&transaction, successor, now).await?;
    transaction.commit().await.map_err(db_error)?;
    Ok(true)
}
