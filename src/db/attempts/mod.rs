//! Login attempts: the audit trail, and the counts the lockout and the throttle read. An attempt is
//! recorded behind the gate (`gate`) and its outcome set when it is known (`outcome`).

mod gate;
mod outcome;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

pub(super) use gate::lock_guard_rows;
pub use gate::{AttemptGate, RecentAttempts};
pub(super) use outcome::{finish_successful_login_in_transaction, outcome_update};

use super::{db_error, entities::login_attempts};
use crate::{domain::LoginAttempt, error::AuthError};

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
