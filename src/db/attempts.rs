//! Login attempts: the audit trail, and the counts the lockout and the throttle read.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait, UpdateMany,
    sea_query::{CommonTableExpression, Expr, ExprTrait, Query, WithClause},
};
use uuid::Uuid;

use super::{
    NewRefreshToken, Store, db_error,
    entities::{login_attempts, login_guards, refresh_tokens},
    sessions,
};
use crate::{
    domain::{Email, LoginAttempt, LoginFailure, RecentAttempt},
    error::AuthError,
};

/// An open transaction holding the guard rows of one email and one client address (on SQLite, the
/// write lock): while it is open, no other attempt for either can be counted or recorded, so counts
/// are exact.
pub struct AttemptGate {
    transaction: DatabaseTransaction,
}

impl Store {
    /// Locks the guard rows of `email` and `ip_address`, always in that order so that two gates
    /// never wait on each other. SQLite needs no guard row: it has one writer, and a transaction
    /// that takes the write lock as it begins keeps every other attempt out until it ends.
    pub async fn open_attempt_gate(
        &self,
        email: &Email,
        ip_address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<AttemptGate, AuthError> {
        if self.conn.get_database_backend() == DbBackend::Sqlite {
            let immediate = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            let transaction = self
                .conn
                .begin_with_options(immediate)
                .await
                .map_err(db_error)?;
            return Ok(AttemptGate { transaction });
        }
        let mut keys = vec![format!("email:{}", email.as_str())];
        keys.extend(ip_address.map(|ip| format!("ip:{ip}")));
        // At most twice: the second time every row exists.
        for _ in 0..2 {
            let transaction = self.conn.begin().await.map_err(db_error)?;
            let mut missing = Vec::new();
            for key in &keys {
                if !lock_guard(&transaction, key, now).await? {
                    missing.push(key);
                }
            }
            if missing.is_empty() {
                return Ok(AttemptGate { transaction });
            }
            transaction.rollback().await.map_err(db_error)?;
            for key in missing {
                create_guard(&self.conn, key, now).await?;
            }
        }
        Err(AuthError::internal(anyhow::anyhow!(
            "login guard rows could not be created"
        )))
    }

    /// Replaces a pending attempt's placeholder with its outcome.
    pub async fn finish_login_attempt(
        &self,
        id: Uuid,
        user_id: Option<Uuid>,
        outcome: Result<(), LoginFailure>,
    ) -> Result<(), AuthError> {
        set_outcome(&self.conn, id, user_id, outcome).await
    }

    /// A successful login: its attempt's outcome and its session's first refresh token, in one
    /// transaction (one commit, and no success on record without its session).
    pub async fn finish_successful_login(
        &self,
        id: Uuid,
        user_id: Uuid,
        first_token: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        if self.conn.get_database_backend() == DbBackend::Postgres {
            return finish_in_one_statement(&self.conn, id, user_id, first_token, now).await;
        }
        let transaction = self.conn.begin().await.map_err(db_error)?;
        set_outcome(&transaction, id, Some(user_id), Ok(())).await?;
        sessions::insert_token(&transaction, first_token, now).await?;
        transaction.commit().await.map_err(db_error)
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

impl AttemptGate {
    /// The latest attempts for `email` since `since` that bear on the lockout, newest first.
    pub async fn recent_login_attempts(
        &self,
        email: &Email,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RecentAttempt>, AuthError> {
        let counted = LoginFailure::COUNTED.map(LoginFailure::as_str);
        let unlock = LoginFailure::AdminUnlock.as_str();
        let rows: Vec<(bool, Option<String>, DateTime<Utc>)> = login_attempts::Entity::find()
            .select_only()
            .column(login_attempts::Column::Success)
            .column(login_attempts::Column::FailureReason)
            .column(login_attempts::Column::AttemptedAt)
            .filter(login_attempts::Column::Email.eq(email.as_str()))
            .filter(login_attempts::Column::AttemptedAt.gt(since))
            .filter(
                Condition::any()
                    .add(login_attempts::Column::Success.eq(true))
                    .add(login_attempts::Column::FailureReason.is_in(counted))
                    .add(login_attempts::Column::FailureReason.eq(unlock)),
            )
            .order_by_desc(login_attempts::Column::AttemptedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.transaction)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(success, reason, at)| RecentAttempt {
                resets: success || reason.as_deref() == Some(unlock),
                at,
            })
            .collect())
    }

    /// The latest counted failures from one client address since `since`, newest first.
    /// Successes reset nothing here: an attacker's own account must not clear the address it
    /// guesses from.
    pub async fn recent_failures_from(
        &self,
        ip_address: &str,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RecentAttempt>, AuthError> {
        let counted = LoginFailure::COUNTED.map(LoginFailure::as_str);
        let times: Vec<DateTime<Utc>> = login_attempts::Entity::find()
            .select_only()
            .column(login_attempts::Column::AttemptedAt)
            .filter(login_attempts::Column::IpAddress.eq(ip_address))
            .filter(login_attempts::Column::AttemptedAt.gt(since))
            .filter(login_attempts::Column::FailureReason.is_in(counted))
            .order_by_desc(login_attempts::Column::AttemptedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.transaction)
            .await
            .map_err(db_error)?;
        Ok(times
            .into_iter()
            .map(|at| RecentAttempt { resets: false, at })
            .collect())
    }

    /// Records the attempt and releases the gate.
    pub async fn record(
        self,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AuthError> {
        let id = insert_attempt(&self.transaction, attempt, now).await?;
        self.transaction.commit().await.map_err(db_error)?;
        Ok(id)
    }
}

/// Takes the row lock on one guard row; false when the row does not exist yet.
async fn lock_guard(
    transaction: &DatabaseTransaction,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let result = login_guards::Entity::update_many()
        .col_expr(
            login_guards::Column::Attempts,
            Expr::col(login_guards::Column::Attempts).add(1),
        )
        .col_expr(login_guards::Column::UpdatedAt, Expr::value(now))
        .filter(login_guards::Column::Key.eq(key))
        .exec(transaction)
        .await
        .map_err(db_error)?;
    Ok(result.rows_affected > 0)
}

/// Creates a guard row in a statement of its own, outside any transaction: creating it inside one
/// lets concurrent first attempts deadlock on InnoDB, or abort the transaction on PostgreSQL.
async fn create_guard(
    db: &DatabaseConnection,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let row = login_guards::ActiveModel {
        key: Set(key.to_owned()),
        attempts: Set(0),
        updated_at: Set(now),
    };
    match login_guards::Entity::insert(row)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(())
        }
        Err(error) => Err(db_error(error)),
    }
}

async fn insert_attempt<C: ConnectionTrait>(
    db: &C,
    attempt: &LoginAttempt,
    now: DateTime<Utc>,
) -> Result<Uuid, AuthError> {
    let id = Uuid::now_v7();
    let model = login_attempts::ActiveModel {
        id: Set(id),
        user_id: Set(attempt.user_id),
        email: Set(attempt.email.as_str().to_owned()),
        ip_address: Set(attempt.client.ip_address.clone()),
        user_agent: Set(attempt.client.user_agent.clone()),
        success: Set(attempt.outcome.is_ok()),
        failure_reason: Set(attempt
            .outcome
            .err()
            .map(|reason| reason.as_str().to_owned())),
        attempted_at: Set(now),
    };
    login_attempts::Entity::insert(model)
        .exec_without_returning(db)
        .await
        .map_err(db_error)?;
    Ok(id)
}

/// PostgreSQL: the outcome's update runs in a CTE of the token's insert, and a statement commits
/// on its own: one round trip where the transaction takes four.
async fn finish_in_one_statement(
    db: &DatabaseConnection,
    id: Uuid,
    user_id: Uuid,
    first_token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let outcome = CommonTableExpression::new()
        .query(outcome_update(id, Some(user_id), Ok(())).into_query())
        .table_name("outcome")
        .to_owned();
    let (columns, values): (Vec<_>, Vec<_>) =
        sessions::token_row(first_token, now).into_iter().unzip();
    let statement = Query::insert()
        .into_table(refresh_tokens::Entity)
        .columns(columns)
        .values(values)
        .map_err(|error| AuthError::internal(anyhow::anyhow!(error)))?
        .with_cte(WithClause::new().cte(outcome).to_owned())
        .to_owned();
    db.execute(&statement).await.map_err(db_error)?;
    Ok(())
}

async fn set_outcome<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    user_id: Option<Uuid>,
    outcome: Result<(), LoginFailure>,
) -> Result<(), AuthError> {
    outcome_update(id, user_id, outcome)
        .exec(db)
        .await
        .map_err(db_error)?;
    Ok(())
}

fn outcome_update(
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
