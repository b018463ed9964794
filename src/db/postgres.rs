//! What PostgreSQL does its own way: data-modifying CTEs make a rotation, and a login's finish, one
//! statement and one round trip where a transaction takes four; a NOTIFY sent by the revoking
//! transaction wakes the other replicas when it commits.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, FromQueryResult,
    QueryResult, QueryTrait,
    sea_query::{Alias, CommonTableExpression, Expr, ExprTrait, Query, WithClause},
    sqlx::{
        self,
        postgres::{PgListener, PgPoolOptions},
    },
};
use uuid::Uuid;

use super::{
    attempts::outcome_update,
    db_error,
    entities::{refresh_tokens, users},
    tokens::{Lineage, NewRefreshToken, NewSession, StoredRefreshToken, live, token_row},
    users::to_user,
};
use crate::{domain::TokenHash, error::AuthError};

use refresh_tokens::Column;

const REVOCATION_CHANNEL: &str = "auth_revocations";

/// Consumes the live token with the `presented` hash and stores `successor` in its session, in one
/// statement: an `UPDATE ... RETURNING` that consumes, an `INSERT ... SELECT` of the successor from
/// what it returned, and a select of the consumed token's user.
pub(super) async fn rotate_presented(
    conn: &DatabaseConnection,
    presented: &TokenHash,
    successor: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<Option<StoredRefreshToken>, AuthError> {
    const CONSUMED: &str = "consumed";
    let consume = Query::update()
        .table(refresh_tokens::Entity)
        .value(Column::RevokedAt, now)
        .and_where(Column::TokenHash.eq(presented.as_str()))
        .cond_where(live(now))
        .returning_all()
        .to_owned();
    let (columns, values): (Vec<Column>, Vec<Expr>) =
        token_row(successor, &Lineage::ReplacesConsumed(CONSUMED), now)
            .into_iter()
            .unzip();
    let insert_successor = Query::insert()
        .into_table(refresh_tokens::Entity)
        .columns(columns)
        .select_from(Query::select().exprs(values).from(CONSUMED).to_owned())
        .map_err(|error| AuthError::internal(anyhow::anyhow!(error)))?
        .to_owned();
    let consumed = || Alias::new(CONSUMED);
    let consumed_with_user = Query::select()
        .expr_as(Expr::col((consumed(), Column::Id)), Alias::new("token_id"))
        .columns([
            (consumed(), Column::TokenFamily),
            (consumed(), Column::SessionStartedAt),
            (consumed(), Column::SessionEndsAt),
        ])
        .column((users::Entity, sea_orm::sea_query::Asterisk))
        .from(CONSUMED)
        .inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((consumed(), Column::UserId)),
        )
        .to_owned();
    let statement = WithClause::new()
        .cte(cte(CONSUMED, consume))
        .cte(cte("successor", insert_successor))
        .to_owned()
        .query(consumed_with_user);
    let row = conn.query_one(&statement).await.map_err(db_error)?;
    row.map(|row| consumed_token(&row, now))
        .transpose()
        .map_err(db_error)
}

fn cte(
    name: &str,
    query: impl Into<sea_orm::sea_query::SubQueryStatement>,
) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(Alias::new(name))
        .to_owned()
}

fn consumed_token(row: &QueryResult, now: DateTime<Utc>) -> Result<StoredRefreshToken, DbErr> {
    Ok(StoredRefreshToken {
        id: row.try_get("", "token_id")?,
        user: to_user(users::Model::from_query_result(row, "")?),
        token_family: row.try_get("", "token_family")?,
        session_started_at: row.try_get("", "session_started_at")?,
        session_ends_at: row.try_get("", "session_ends_at")?,
        revoked_at: Some(now),
    })
}

/// A successful login's outcome and its session's first token in one statement: the outcome's
/// update runs in a CTE of the token's insert.
pub(super) async fn finish_successful_login(
    conn: &DatabaseConnection,
    attempt: Uuid,
    session: &NewSession,
    first_token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let outcome = outcome_update(attempt, Some(session.user_id), Ok(())).into_query();
    let (columns, values): (Vec<Column>, Vec<Expr>) =
        token_row(first_token, &Lineage::Starts(session), now)
            .into_iter()
            .unzip();
    let statement = Query::insert()
        .into_table(refresh_tokens::Entity)
        .columns(columns)
        .values(values)
        .map_err(|error| AuthError::internal(anyhow::anyhow!(error)))?
        .with_cte(WithClause::new().cte(cte("outcome", outcome)).to_owned())
        .to_owned();
    conn.execute(&statement).await.map_err(db_error)?;
    Ok(())
}

/// Sent inside the revoking transaction; delivered to every listener when it commits.
pub(super) async fn announce_revocation(transaction: &DatabaseTransaction) -> Result<(), DbErr> {
    transaction
        .execute_unprepared(&format!("NOTIFY {REVOCATION_CHANNEL}"))
        .await
        .map(|_| ())
}

/// Woken by every revocation committed on the database, by any replica.
pub struct RevocationListener {
    listener: PgListener,
}

pub enum Wakeup {
    Revoked,
    /// The connection was lost and is being remade; notifications meanwhile are gone.
    Reconnected,
}

impl RevocationListener {
    /// On a pool of its own, so the listening connection is never one the queries need.
    pub(super) async fn connect(conn: &DatabaseConnection) -> Result<Self, AuthError> {
        let options = (*conn.get_postgres_connection_pool().connect_options()).clone();
        let unavailable = |error: sqlx::Error| AuthError::Unavailable(error.into());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(unavailable)?;
        listener
            .listen(REVOCATION_CHANNEL)
            .await
            .map_err(unavailable)?;
        Ok(Self { listener })
    }

    pub async fn next(&mut self) -> Result<Wakeup, AuthError> {
        match self.listener.try_recv().await {
            Ok(Some(_)) => Ok(Wakeup::Revoked),
            Ok(None) => Ok(Wakeup::Reconnected),
            Err(error) => Err(AuthError::Unavailable(error.into())),
        }
    }
}
