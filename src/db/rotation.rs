//! Rotation: a live token consumed and its successor stored in its session, both or neither. The
//! conditional update decides races: of concurrent rotations of one token, exactly one consumes
//! it. How the presented token is found and consumed differs per database (`Dialect`); the portable
//! way, MariaDB's, is written here.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Store, db_error,
    entities::refresh_tokens,
    tokens::{
        Lineage, NewRefreshToken, StoredRefreshToken, find_token, insert_tokens, live, token_row,
    },
};
use crate::{domain::TokenHash, error::AuthError};

impl Store {
    /// The common refresh: consumes the live token with the `presented` hash and stores `successor`
    /// in its session. Returns the consumed token, with its user; `None` when no live token has that
    /// hash, which leaves everything as it was.
    pub async fn rotate_presented(
        &self,
        presented: &TokenHash,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        self.dialect
            .rotate_presented(&self.conn, presented, successor, now)
            .await
    }

    /// Consumes `current` if it is live and stores `successor` in `parent`'s session, in one
    /// transaction on every database: the retry within the grace window, where `current` is the
    /// live token that replaced `parent`; and the yardstick the load bench holds Refresh against.
    pub async fn rotate_replacing(
        &self,
        current: Uuid,
        parent: &StoredRefreshToken,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        replace(&self.conn, current, parent, successor, now).await
    }
}

/// Rotation of a presented token the portable way, MariaDB's: the token looked up, then consumed
/// by id and replaced in a transaction. Consuming by id rather than by hash matters on InnoDB: an
/// update whose plan might scan a range of an index locks that range, and concurrent rotations'
/// inserts then deadlock on it; a primary key lookup locks one row.
pub(super) async fn rotate_presented_in_transaction(
    conn: &DatabaseConnection,
    presented: &TokenHash,
    successor: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<Option<StoredRefreshToken>, AuthError> {
    let Some(mut parent) = find_token(conn, presented, live(now)).await? else {
        return Ok(None);
    };
    if !replace(conn, parent.id, &parent, successor, now).await? {
        return Ok(None);
    }
    parent.revoked_at = Some(now);
    Ok(Some(parent))
}

async fn replace(
    conn: &DatabaseConnection,
    current: Uuid,
    parent: &StoredRefreshToken,
    successor: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let transaction = conn.begin().await.map_err(db_error)?;
    let consumed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(current))
        .filter(live(now))
        .exec(&transaction)
        .await
        .map_err(db_error)?;
    if consumed.rows_affected != 1 {
        transaction.rollback().await.map_err(db_error)?;
        return Ok(false);
    }
    let row = token_row(successor, &Lineage::Replaces(parent), now);
    insert_tokens(&transaction, [row]).await?;
    transaction.commit().await.map_err(db_error)?;
    Ok(true)
}
