//! Revoking sessions: every unconsumed token of a session marked revoked, and the revocation
//! recorded for the other replicas, in one transaction that sees every rotation committed before.

use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Store, db_error,
    dialect::{Dialect, TransactionPurpose, is_serialization_failure},
    entities::refresh_tokens,
    revocation_log,
};
use crate::{domain::Revocation, error::AuthError};

/// One try of a revocation, inside the transaction it is given.
pub(super) type RevokeAttempt<'t, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 't>>;

/// How often a revocation is tried when PostgreSQL reports rotations committing under it.
const REVOKE_ATTEMPTS: u32 = 5;

impl Store {
    /// Revokes every unconsumed token of one session; returns how many there were. With `owner`,
    /// only when the session is that user's: someone else's matches nothing.
    pub async fn revoke_family(
        &self,
        family: Uuid,
        owner: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u64, AuthError> {
        let mut unconsumed = Condition::all()
            .add(refresh_tokens::Column::TokenFamily.eq(family))
            .add(refresh_tokens::Column::RevokedAt.is_null());
        if let Some(user_id) = owner {
            unconsumed = unconsumed.add(refresh_tokens::Column::UserId.eq(user_id));
        }
        self.revoking(|transaction, dialect| {
            let unconsumed = unconsumed.clone();
            Box::pin(async move {
                let result = refresh_tokens::Entity::update_many()
                    .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
                    .filter(unconsumed)
                    .exec(transaction)
                    .await?;
                if result.rows_affected > 0 {
                    let revocation = Revocation::Session(family);
                    revocation_log::record(dialect, transaction, revocation, now).await?;
                }
                Ok(result.rows_affected)
            })
        })
        .await
    }

    /// Revokes every session of a user but `keep`; returns how many sessions were live.
    pub async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u32, AuthError> {
        let sessions = self
            .revoking(|transaction, dialect| {
                Box::pin(revoke_sessions_of_user(
                    dialect,
                    transaction,
                    user_id,
                    keep,
                    now,
                ))
            })
            .await?;
        Ok(u32::try_from(sessions).unwrap_or(u32::MAX))
    }

    /// Runs `revoke` in a transaction that sees every rotation committed before it revoked.
    ///
    /// On PostgreSQL, a READ COMMITTED update that waits for a rotation's row lock skips the row it
    /// waited for and cannot see the successor that rotation inserted, so the session would outlive
    /// its revocation. Under REPEATABLE READ the wait ends in a serialization failure instead, and
    /// the retry's snapshot holds the successor (see `TransactionPurpose::Revoke`).
    pub(super) async fn revoking<T>(
        &self,
        revoke: impl for<'t> Fn(&'t DatabaseTransaction, &'t Dialect) -> RevokeAttempt<'t, T>,
    ) -> Result<T, AuthError> {
        let options = self.dialect.transaction(TransactionPurpose::Revoke);
        let mut attempts = 1;
        loop {
            let transaction = self
                .conn
                .begin_with_options(options)
                .await
                .map_err(db_error)?;
            let outcome = match revoke(&transaction, &self.dialect).await {
                Ok(value) => transaction.commit().await.map(|()| value),
                Err(error) => Err(error),
            };
            match outcome {
                // Each retry needs yet another rotation of the same session to commit meanwhile.
                Err(error) if is_serialization_failure(&error) && attempts < REVOKE_ATTEMPTS => {
                    attempts += 1;
                }
                outcome => return outcome.map_err(db_error),
            }
        }
    }
}

/// Revokes every session of `user_id` but `keep` inside `transaction`, and records it even when
/// nothing was live (a deactivation must still reach every replica); returns how many were live.
pub(super) async fn revoke_sessions_of_user(
    dialect: &Dialect,
    transaction: &DatabaseTransaction,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let unconsumed = || {
        let condition = Condition::all()
            .add(refresh_tokens::Column::UserId.eq(user_id))
            .add(refresh_tokens::Column::RevokedAt.is_null());
        match keep {
            Some(family) => condition.add(refresh_tokens::Column::TokenFamily.ne(family)),
            None => condition,
        }
    };
    let live_families: Vec<Uuid> = refresh_tokens::Entity::find()
        .select_only()
        .column(refresh_tokens::Column::TokenFamily)
        .distinct()
        .filter(unconsumed())
        .into_tuple()
        .all(transaction)
        .await?;
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(unconsumed())
        .exec(transaction)
        .await?;
    let revocation = Revocation::UserSessions {
        user_id,
        kept: keep,
    };
    revocation_log::record(dialect, transaction, revocation, now).await?;
    Ok(live_families.len())
}
