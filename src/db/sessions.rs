use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, Iterable, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Store, db_error,
    entities::{refresh_tokens, users},
    is_serialization_failure, read_then_write, revocations,
    users::to_user,
};
use crate::{
    domain::{ClientContext, Revocation, SessionInfo, TokenHash, User},
    error::AuthError,
};

/// One try of a revocation, inside the transaction it is given.
type RevokeAttempt<'t, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 't>>;

/// How often a revocation is tried when PostgreSQL reports rotations committing under it.
const REVOKE_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: TokenHash,
    pub token_family: Uuid,
    pub session_started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub client: ClientContext,
    /// The token this one replaces; none for the first of a session.
    pub parent_id: Option<Uuid>,
}

#[derive(Debug)]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub user: User,
    pub token_family: Uuid,
    pub session_started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        let found = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash.as_str()))
            .find_also_related(users::Entity)
            .one(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(found.and_then(|(token, user)| {
            Some(StoredRefreshToken {
                id: token.id,
                user: to_user(user?),
                token_family: token.token_family,
                session_started_at: token.session_started_at,
                expires_at: token.expires_at,
                revoked_at: token.revoked_at,
            })
        }))
    }

    /// The tokens issued in place of `parent`: whether each is still live, by id.
    pub async fn children_of(&self, parent: Uuid) -> Result<Vec<(Uuid, bool)>, AuthError> {
        let children: Vec<(Uuid, Option<DateTime<Utc>>)> = refresh_tokens::Entity::find()
            .select_only()
            .column(refresh_tokens::Column::Id)
            .column(refresh_tokens::Column::RevokedAt)
            .filter(refresh_tokens::Column::ParentId.eq(parent))
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(children
            .into_iter()
            .map(|(id, revoked_at)| (id, revoked_at.is_none()))
            .collect())
    }

    /// Revokes every live token of one session; returns how many there were. With `owner`, only
    /// when the session is that user's: someone else's matches nothing.
    pub async fn revoke_family(
        &self,
        family: Uuid,
        owner: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u64, AuthError> {
        let mut live_tokens = Condition::all()
            .add(refresh_tokens::Column::TokenFamily.eq(family))
            .add(refresh_tokens::Column::RevokedAt.is_null());
        if let Some(user_id) = owner {
            live_tokens = live_tokens.add(refresh_tokens::Column::UserId.eq(user_id));
        }
        self.revoking(|transaction| {
            let live_tokens = live_tokens.clone();
            Box::pin(async move {
                let result = refresh_tokens::Entity::update_many()
                    .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
                    .filter(live_tokens)
                    .exec(transaction)
                    .await?;
                if result.rows_affected > 0 {
                    revocations::record(transaction, Revocation::Session(family), now).await?;
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
        let live_of_user = move || {
            let condition = Condition::all()
                .add(refresh_tokens::Column::UserId.eq(user_id))
                .add(refresh_tokens::Column::RevokedAt.is_null());
            match keep {
                Some(family) => condition.add(refresh_tokens::Column::TokenFamily.ne(family)),
                None => condition,
            }
        };
        let live_families = self
            .revoking(|transaction| {
                Box::pin(async move {
                    let live_families: Vec<Uuid> = refresh_tokens::Entity::find()
                        .select_only()
                        .column(refresh_tokens::Column::TokenFamily)
                        .distinct()
                        .filter(live_of_user())
                        .into_tuple()
                        .all(transaction)
                        .await?;
                    refresh_tokens::Entity::update_many()
                        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
                        .filter(live_of_user())
                        .exec(transaction)
                        .await?;
                    // Recorded even when nothing was live: a deactivation must still reach every
                    // replica.
                    let revocation = Revocation::UserSessions {
                        user_id,
                        kept: keep,
                    };
                    revocations::record(transaction, revocation, now).await?;
                    Ok(live_families.len())
                })
            })
            .await?;
        Ok(u32::try_from(live_families).unwrap_or(u32::MAX))
    }

    /// Runs `revoke` in a transaction that sees every rotation committed before it revoked.
    ///
    /// On PostgreSQL, a READ COMMITTED update that waits for a rotation's row lock skips the row it
    /// waited for and cannot see the successor that rotation inserted, so the session would outlive
    /// its revocation. Under REPEATABLE READ the wait ends in a serialization failure instead, and
    /// the retry's snapshot holds the successor. InnoDB updates read the latest committed rows and
    /// SQLite has one writer at a time, so neither needs this.
    async fn revoking<T>(
        &self,
        revoke: impl for<'t> Fn(&'t DatabaseTransaction) -> RevokeAttempt<'t, T>,
    ) -> Result<T, AuthError> {
        let backend = self.conn.get_database_backend();
        let isolation = (backend == DbBackend::Postgres).then_some(IsolationLevel::RepeatableRead);
        let options = read_then_write(backend, isolation);
        let mut attempts = 1;
        loop {
            let transaction = self
                .conn
                .begin_with_options(options)
                .await
                .map_err(db_error)?;
            let outcome = match revoke(&transaction).await {
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

    /// The user's sessions whose current token is neither revoked nor expired, newest first.
    pub async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, AuthError> {
        // Rotation leaves exactly one unrevoked token per family: its current one.
        let current_tokens = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::UserId.eq(user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(refresh_tokens::Column::ExpiresAt.gt(now))
            .order_by_desc(refresh_tokens::Column::SessionStartedAt)
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(current_tokens
            .into_iter()
            .map(|token| SessionInfo {
                id: token.token_family,
                created_at: token.session_started_at,
                last_refreshed_at: token.created_at,
                expires_at: token.expires_at,
                ip_address: token.ip_address,
                user_agent: token.user_agent,
            })
            .collect())
    }

    /// A session is live while its family has an unrevoked token and its user is active.
    pub async fn is_session_live(&self, family: Uuid, user_id: Uuid) -> Result<bool, AuthError> {
        let live = refresh_tokens::Entity::find()
            .select_only()
            .column(refresh_tokens::Column::Id)
            .inner_join(users::Entity)
            .filter(refresh_tokens::Column::TokenFamily.eq(family))
            .filter(refresh_tokens::Column::UserId.eq(user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(users::Column::IsActive.eq(true))
            .into_tuple::<Uuid>()
            .one(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(live.is_some())
    }
}

pub(super) async fn insert_token<C: ConnectionTrait>(
    db: &C,
    token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    refresh_tokens::Entity::insert(active_model(token, now))
        .exec_without_returning(db)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) fn active_model(
    token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        id: Set(token.id),
        user_id: Set(token.user_id),
        token_hash: Set(token.token_hash.as_str().to_owned()),
        token_family: Set(token.token_family),
        session_started_at: Set(token.session_started_at),
        expires_at: Set(token.expires_at),
        revoked_at: Set(None),
        user_agent: Set(token.client.user_agent.clone()),
        ip_address: Set(token.client.ip_address.clone()),
        created_at: Set(now),
        parent_id: Set(token.parent_id),
    }
}

/// A token's columns and values, for statements that insert it from a query or beside a CTE.
pub(super) fn token_row(
    token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Vec<(refresh_tokens::Column, Expr)> {
    let model = active_model(token, now);
    refresh_tokens::Column::iter()
        .filter_map(|column| {
            let value = model.get(column).into_value()?;
            Some((column, Expr::value(value)))
        })
        .collect()
}
