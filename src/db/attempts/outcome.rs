//! An attempt's outcome, set once it is known; a success in the same step as its session's first
//! token.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, UpdateMany,
    sea_query::Expr,
};
use uuid::Uuid;

use super::insert_attempt;
use crate::{
    db::{
        Store, db_error,
        entities::login_attempts,
        tokens::{Lineage, NewRefreshToken, NewSession, insert_tokens, token_row},
    },
    domain::{LoginAttempt, LoginFailure},
    error::AuthError,
};

impl Store {
    /// Replaces a pending attempt's placeholder with its outcome.
    pub async fn finish_login_attempt(
        &self,
        id: Uuid,
        user_id: Option<Uuid>,
        outcome: Result<(), LoginFailure>,
    ) -> Result<(), AuthError> {
        outcome_update(id, user_id, outcome)
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// A successful login: its attempt's outcome and its session's first token, both or neither
    /// (no success on record without its session).
    pub async fn finish_successful_login(
        &self,
        attempt: Uuid,
        session: &NewSession,
        first_token: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        self.dialect
            .finish_successful_login(&self.conn, attempt, session, first_token, now)
            .await
    }

    /// Records an attempt outside any gate (an admin's unlock).
    pub async fn record_login_attempt(
        &self,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AuthError> {
        insert_attempt(&self.conn, attempt, now).await
    }
}

/// The portable way: the outcome and the token in a transaction.
pub(in crate::db) async fn finish_successful_login_in_transaction(
    conn: &DatabaseConnection,
    attempt: Uuid,
    session: &NewSession,
    first_token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let transaction = conn.begin().await.map_err(db_error)?;
    outcome_update(attempt, Some(session.user_id), Ok(()))
        .exec(&transaction)
        .await
        .map_err(db_error)?;
    let row = token_row(first_token, &Lineage::Starts(session), now);
    insert_tokens(&transaction, [row]).await?;
    transaction.commit().await.map_err(db_error)
}

pub(in crate::db) fn outcome_update(
    id: Uuid,
    user_id: Option<Uuid>,
    outcome: Result<(), LoginFailure>,
) -> UpdateMany<login_attempts::Entity> {
    login_attempts::Entity::update_many()
        .col_expr(login_attempts::Column::UserId, Expr::value(user_id))
        .col_expr(
            login_attempts::Column::Success,
            Expr::value(outcome.is_ok()),
        )
        .col_expr(
            login_attempts::Column::FailureReason,
            Expr::value(outcome.err().map(LoginFailure::as_str)),
        )
        .filter(login_attempts::Column::Id.eq(id))
}
