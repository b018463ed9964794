//! Deleting what nobody needs any more, a bounded batch at a time so no statement holds locks for
//! long.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{
    Store, db_error,
    entities::{login_attempts, login_guards, refresh_tokens},
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
            .add(refresh_tokens::Column::ExpiresAt.lt(before))
            .add(refresh_tokens::Column::RevokedAt.lt(before));
        let ids: Vec<Uuid> = refresh_tokens::Entity::find()
            .select_only()
            .column(refresh_tokens::Column::Id)
            .filter(dead)
            .limit(batch)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let deleted = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::Id.is_in(ids))
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }

    /// Deletes up to `batch` login attempts made before `before`.
    pub async fn delete_old_login_attempts(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let ids: Vec<Uuid> = login_attempts::Entity::find()
            .select_only()
            .column(login_attempts::Column::Id)
            .filter(login_attempts::Column::AttemptedAt.lt(before))
            .limit(batch)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let deleted = login_attempts::Entity::delete_many()
            .filter(login_attempts::Column::Id.is_in(ids))
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }

    /// Deletes up to `batch` guard rows untouched since `before`. They are only mutexes, recreated
    /// on demand; a guard in use is held, and its delete waits and then matches nothing.
    pub async fn delete_idle_login_guards(
        &self,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, AuthError> {
        let keys: Vec<String> = login_guards::Entity::find()
            .select_only()
            .column(login_guards::Column::Key)
            .filter(login_guards::Column::UpdatedAt.lt(before))
            .limit(batch)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        if keys.is_empty() {
            return Ok(0);
        }
        let deleted = login_guards::Entity::delete_many()
            .filter(login_guards::Column::Key.is_in(keys))
            .filter(login_guards::Column::UpdatedAt.lt(before))
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }
}
