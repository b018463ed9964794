//! Password guessing is limited per email (the lockout) and per client address (the throttle).
//! Each attempt is counted and recorded behind a gate that serialises attempts for the same email
//! or address, and counts as a failure until its outcome replaces it: parallel guesses therefore
//! see each other, and none slips past a limit.

use chrono::{DateTime, Utc};
use tracing::Instrument;
use uuid::Uuid;

use super::AuthService;
use crate::{
    db::AttemptGate,
    domain::{ClientContext, Email, LoginAttempt, LoginFailure},
    error::AuthError,
};

impl AuthService {
    /// Records the attempt as pending, or refuses it (recording why) when the email is locked or
    /// the address throttled. The caller records the outcome with `finish_login_attempt`.
    pub(super) async fn begin_guarded_attempt(
        &self,
        email: &Email,
        client: &ClientContext,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AuthError> {
        let gate = self
            .store
            .open_attempt_gate(email, client.ip_address.as_deref(), now)
            .await?;
        let refusal = self.refusal(&gate, email, client, now).await?;
        let outcome = match &refusal {
            Some((reason, _)) => Err(*reason),
            None => Err(LoginFailure::Pending),
        };
        let attempt = LoginAttempt {
            user_id: None,
            email: email.clone(),
            client: client.clone(),
            outcome,
        };
        let id = gate.record(&attempt, now).await?;
        match refusal {
            Some((_, error)) => Err(error),
            None => Ok(id),
        }
    }

    async fn refusal(
        &self,
        gate: &AttemptGate,
        email: &Email,
        client: &ClientContext,
        now: DateTime<Utc>,
    ) -> Result<Option<(LoginFailure, AuthError)>, AuthError> {
        let (lockout, throttle) = (self.settings.lockout, self.settings.ip_throttle);
        let address = client
            .ip_address
            .as_deref()
            .map(|ip_address| (ip_address, throttle.lookback(now)));
        let recent = gate
            .recent_attempts(email, lockout.lookback(now), address)
            .await?;
        if let Some(retry_after) = lockout.retry_after(&recent.for_email, now) {
            return Ok(Some((
                LoginFailure::AccountLocked,
                AuthError::AccountLocked { retry_after },
            )));
        }
        Ok(throttle
            .retry_after(&recent.from_address, now)
            .map(|retry_after| {
                (
                    LoginFailure::SourceThrottled,
                    AuthError::SourceThrottled { retry_after },
                )
            }))
    }

    /// Passes `result` on; when it is an error, the attempt ends without a verdict (its password
    /// unchecked, or its session never started) and is recorded as not checked instead of staying
    /// pending, which counts as a failure.
    pub(super) async fn mark_unchecked_on_error<T>(
        &self,
        attempt: Uuid,
        result: Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        if result.is_err() {
            let recorded = self
                .store
                .finish_login_attempt(attempt, None, Err(LoginFailure::NotChecked))
                .await;
            if let Err(error) = recorded {
                tracing::warn!(error = %error, "could not record an unchecked login attempt");
            }
        }
        result
    }
}

/// Runs a call that records a login attempt on a task of its own, so that it reaches its verdict
/// even when its caller goes away: tonic drops a call whose client cancels or whose deadline
/// passes, and an attempt left pending counts as a failure for the whole window (a few timed-out
/// logins with the right password would lock the account). A verdict the client never hears is
/// the same as an answer lost on its way back.
pub(super) async fn run_to_verdict<T: Send + 'static>(
    call: impl Future<Output = Result<T, AuthError>> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::spawn(call.in_current_span())
        .await
        .map_err(|error| {
            AuthError::internal(anyhow::anyhow!("a guarded call's task failed: {error}"))
        })?
}
