//! The revocation log the replicas follow, written in the transaction that revokes, so a revocation
//! and its record commit together or not at all.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{RevocationListener, Store, db_error, dialect::Dialect, entities::revocations};
use crate::{domain::Revocation, error::AuthError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedRevocation {
    pub id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub revocation: Revocation,
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

    /// Wakes its holder whenever a revocation commits, where the database can say so; `None`
    /// elsewhere (followers poll).
    pub async fn revocation_listener(&self) -> Result<Option<RevocationListener>, AuthError> {
        self.dialect.revocation_listener(&self.conn).await
    }
}

/// Records `revocation` inside the transaction that makes it, and announces it to the other
/// replicas when that transaction commits, where the database can.
pub(super) async fn record(
    dialect: &Dialect,
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
    dialect.announce_revocation(transaction).await
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
