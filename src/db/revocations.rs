//! The revocation log the replicas follow, written in the transaction that revokes. On PostgreSQL
//! the same transaction sends a NOTIFY, delivered when it commits, so followers need not wait for
//! their next poll.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter,
    sqlx::{
        self,
        postgres::{PgListener, PgPoolOptions},
    },
};
use uuid::Uuid;

use super::{Store, db_error, entities::revocations};
use crate::{domain::Revocation, error::AuthError};

const CHANNEL: &str = "auth_revocations";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedRevocation {
    pub id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub revocation: Revocation,
}

/// Woken by every revocation committed on the PostgreSQL database, by any replica.
pub struct RevocationListener {
    listener: PgListener,
}

pub enum Wakeup {
    Revoked,
    /// The connection was lost and is being remade; notifications meanwhile are gone.
    Reconnected,
}

impl RevocationListener {
    pub async fn next(&mut self) -> Result<Wakeup, AuthError> {
        match self.listener.try_recv().await {
            Ok(Some(_)) => Ok(Wakeup::Revoked),
            Ok(None) => Ok(Wakeup::Reconnected),
            Err(error) => Err(AuthError::Unavailable(error.into())),
        }
    }
}

impl Store {
    /// Revocations recorded at or after `since`.
    pub async fn revocations_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<RecordedRevocation>, AuthError> {
        let rows = revocations::Entity::find()
            .filter(revocations::Column::RecordedAt.gte(since))
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().filter_map(to_recorded).collect())
    }

    /// A listener on its own connection, on PostgreSQL; none elsewhere.
    pub async fn revocation_listener(&self) -> Result<Option<RevocationListener>, AuthError> {
        if self.conn.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(None);
        }
        let options = (*self.conn.get_postgres_connection_pool().connect_options()).clone();
        let unavailable = |error: sqlx::Error| AuthError::Unavailable(error.into());
        // A pool of its own, so the listening connection is never one the queries need.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(unavailable)?;
        listener.listen(CHANNEL).await.map_err(unavailable)?;
        Ok(Some(RevocationListener { listener }))
    }
}

/// Records `revocation` inside the transaction that makes it.
pub(super) async fn record(
    transaction: &DatabaseTransaction,
    revocation: Revocation,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (scope, subject_id, kept_session_id) = match revocation {
        Revocation::Session(session_id) => ("session", session_id, None),
        Revocation::UserSessions { user_id, kept } => ("user", user_id, kept),
    };
    let row = revocations::ActiveModel {
        id: Set(Uuid::now_v7()),
        scope: Set(scope.to_owned()),
        subject_id: Set(subject_id),
        kept_session_id: Set(kept_session_id),
        recorded_at: Set(now),
    };
    revocations::Entity::insert(row)
        .exec_without_returning(transaction)
        .await?;
    if transaction.get_database_backend() == DatabaseBackend::Postgres {
        transaction
            .execute_unprepared(&format!("NOTIFY {CHANNEL}"))
            .await?;
    }
    Ok(())
}

fn to_recorded(row: revocations::Model) -> Option<RecordedRevocation> {
    let revocation = match row.scope.as_str() {
        "session" => Revocation::Session(row.subject_id),
        "user" => Revocation::UserSessions {
            user_id: row.subject_id,
            kept: row.kept_session_id,
        },
        other => {
            tracing::warn!(
                scope = other,
                "a revocation of an unknown scope was ignored"
            );
            return None;
        }
    };
    Some(RecordedRevocation {
        id: row.id,
        recorded_at: row.recorded_at,
        revocation,
    })
}
