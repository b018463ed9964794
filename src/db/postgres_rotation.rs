//! PostgreSQL rotates in single statements: a data-modifying CTE consumes the parent and inserts
//! its successor in one round trip, atomically, where a transaction needs four.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, QueryResult,
    Statement,
    sea_query::{CommonTableExpression, Expr, Query, WithClause},
};
use uuid::Uuid;

use super::{
    NewRefreshToken, RotatedSession, SuccessorDraft, db_error,
    entities::{refresh_tokens, users},
    sessions::token_row,
    users::to_user,
};
use crate::{domain::TokenHash, error::AuthError};

/// Written out rather than built: a PostgreSQL-only statement reads best as PostgreSQL. The parent
/// is consumed only while live, unexpired and its user active; otherwise nothing is written and
/// the caller looks closer (reuse, grace, expiry). `$1` is now, `$2` the presented hash.
const ROTATE_LIVE_BY_HASH: &str = r#"
WITH consumed AS (
    UPDATE refresh_tokens AS parent
    SET revoked_at = $1
    FROM users
    WHERE parent.token_hash = $2
      AND parent.revoked_at IS NULL
      AND parent.expires_at > $1
      AND users.id = parent.user_id
      AND users.is_active
    RETURNING parent.id AS parent_id, parent.token_family, parent.session_started_at, users.*
), successor AS (
    INSERT INTO refresh_tokens (id, user_id, token_hash, token_family, session_started_at,
                                expires_at, user_agent, ip_address, created_at, parent_id)
    SELECT $3, consumed.id, $4, consumed.token_family, consumed.session_started_at,
           LEAST($5, consumed.session_started_at + $6 * INTERVAL '1 microsecond'),
           $7, $8, $1, consumed.parent_id
    FROM consumed
    RETURNING expires_at
)
SELECT consumed.*, successor.expires_at AS successor_expires_at FROM consumed, successor
"#;

/// Finds the presented token, consumes it if it is live and its user active, and stores
/// `successor` in its session, in one round trip. `None` when it was not live.
pub(super) async fn rotate_live_by_hash(
    db: &DatabaseConnection,
    presented: &TokenHash,
    successor: &SuccessorDraft,
    now: DateTime<Utc>,
) -> Result<Option<RotatedSession>, AuthError> {
    let session_lifetime_us = successor
        .session_lifetime
        .num_microseconds()
        .ok_or_else(|| AuthError::internal(anyhow::anyhow!("session lifetime overflows")))?;
    let values = [
        now.into(),
        presented.as_str().into(),
        successor.id.into(),
        successor.token_hash.as_str().into(),
        successor.idle_limit.into(),
        session_lifetime_us.into(),
        successor.client.user_agent.clone().into(),
        successor.client.ip_address.clone().into(),
    ];
    let statement =
        Statement::from_sql_and_values(DbBackend::Postgres, ROTATE_LIVE_BY_HASH, values);
    let row = db.query_one_raw(statement).await.map_err(db_error)?;
    row.map(|row| rotated_session(&row))
        .transpose()
        .map_err(db_error)
}

fn rotated_session(row: &QueryResult) -> Result<RotatedSession, sea_orm::DbErr> {
    Ok(RotatedSession {
        user: to_user(users::Model::from_query_result(row, "")?),
        token_family: row.try_get("", "token_family")?,
        successor_expires_at: row.try_get("", "successor_expires_at")?,
    })
}

/// Consumes `current` and stores `successor`. The successor is inserted only if the update
/// consumed `current`.
pub(super) async fn rotate_in_one_statement(
    db: &DatabaseConnection,
    current: Uuid,
    successor: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    use refresh_tokens::Column;
    const CONSUMED: &str = "consumed";
    let consume = Query::update()
        .table(refresh_tokens::Entity)
        .value(Column::RevokedAt, now)
        .and_where(Column::Id.eq(current))
        .and_where(Column::RevokedAt.is_null())
        .returning_col(Column::Id)
        .to_owned();
    let consumed = CommonTableExpression::new()
        .query(consume)
        .table_name(CONSUMED)
        .to_owned();
    let (columns, values): (Vec<Column>, Vec<Expr>) = token_row(successor, now).into_iter().unzip();
    let successor_if_consumed = Query::select().exprs(values).from(CONSUMED).to_owned();
    let rotation = Query::insert()
        .into_table(refresh_tokens::Entity)
        .columns(columns)
        .select_from(successor_if_consumed)
        .map_err(|error| AuthError::internal(anyhow::anyhow!(error)))?
        .with_cte(WithClause::new().cte(consumed).to_owned())
        .to_owned();
    let inserted = db.execute(&rotation).await.map_err(db_error)?;
    Ok(inserted.rows_affected() == 1)
}
