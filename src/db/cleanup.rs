//! Deleting what nobody needs any more, a bounded batch at a time so no statement holds locks for
//! long.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, TryGetableMany, Value,
};

use super::{
    Store, db_error,
    entities::{login_attempts, login_guards, refresh_tokens, revocations},
};
use crate::error::AuthError;

impl Store {
    /// Deletes up to `batch` refresh tokens that expired or were revoked before `before`; returns
    /// how many went.
    pub async fn delete_dead_refresh_tokens(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let dead = Condition::any()
            .add(refresh_tokens::Column::IdleExpiresAt.lt(before))
            .add(refresh_tokens::Column::SessionEndsAt.lt(before))
            .add(refresh_tokens::Column::RevokedAt.lt(before));
        self.delete_batch::<refresh_tokens::Entity, uuid::Uuid>(
            refresh_tokens::Column::Id,
            dead,
            batch,
        )
        .await
    }

    /// Deletes up to `batch` login attempts made before `before`.
    pub async fn delete_old_login_attempts(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let old = Condition::all().add(login_attempts::Column::AttemptedAt.lt(before));
        self.delete_batch::<login_attempts::Entity, uuid::Uuid>(
            login_attempts::Column::Id,
            old,
            batch,
        )
        .await
    }

    /// Deletes up to `batch` guard rows untouched since `before`. They are only mutexes, recreated
    /// on demand; a guard in use is held, and its delete waits and then matches nothing.
    pub async fn delete_idle_login_guards(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let idle = Condition::all().add(login_guards::Column::UpdatedAt.lt(before));
        self.delete_batch::<login_guards::Entity, String>(login_guards::Column::Key, idle, batch)
            .await
    }

    /// Deletes up to `batch` revocations recorded before `before`.
    pub async fn delete_old_revocations(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let old = Condition::all().add(revocations::Column::RecordedAt.lt(before));
        self.delete_batch::<revocations::Entity, uuid::Uuid>(revocations::Column::Id, old, batch)
            .await
    }

    /// Selects at most `batch` keys of rows matching `condition`, then deletes those rows if they
    /// still match. Two short statements: MariaDB refuses LIMIT inside an IN subquery.
    async fn delete_batch<E, K>(
        &self,
        key: E::Column,
        condition: Condition,
        batch: u64,
    ) -> Result<u64, AuthError>
    where
        E: EntityTrait,
        K: TryGetableMany + Into<Value> + Send,
    {
        let keys: Vec<K> = E::find()
            .select_only()
            .column(key)
            .filter(condition.clone())
            .limit(batch)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        if keys.is_empty() {
            return Ok(0);
        }
        let deleted = E::delete_many()
            .filter(key.is_in(keys))
            .filter(condition)
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }
}
