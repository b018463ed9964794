use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{Store, db_error, entities::login_attempts};
use crate::{
    domain::{Email, LoginAttempt, LoginFailure, RecentAttempt},
    error::AuthError,
};

impl Store {
    pub async fn record_login_attempt(
        &self,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let model = login_attempts::ActiveModel {
            id: Set(Uuid::now_v7()),
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
            .exec_without_returning(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(())
    }

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
            .all(&self.conn)
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
}
