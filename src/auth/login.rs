use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::{AuthService, TokenPair, guard::run_to_verdict};
use crate::{
    db::StoredCredentials,
    domain::{ClientContext, Email, LoginFailure, LoginPassword, User},
    error::AuthError,
};

#[derive(Debug)]
pub struct LoginInput {
    pub email: Email,
    pub password: LoginPassword,
    pub client: ClientContext,
}

impl AuthService {
    /// Unknown email and wrong password are indistinguishable: same error, and the same argon2 work
    /// (a dummy hash stands in for a missing one).
    pub async fn login(
        self: &Arc<Self>,
        input: LoginInput,
    ) -> Result<(User, TokenPair), AuthError> {
        let service = Arc::clone(self);
        run_to_verdict(async move { service.attempt_login(input).await }).await
    }

    #[tracing::instrument(name = "login", skip_all)]
    async fn attempt_login(&self, input: LoginInput) -> Result<(User, TokenPair), AuthError> {
        let LoginInput {
            email,
            password,
            client,
        } = input;
        let now = self.clock.now();
        let attempt = self.begin_guarded_attempt(&email, &client, now).await?;
        let password = password.into_secret();
        let account = self
            .mark_unchecked_on_error(attempt, self.store.find_credentials_by_email(&email).await)
            .await?;
        let stored_hash = account
            .as_ref()
            .and_then(|account| account.password_hash.clone());
        let verification = self
            .mark_unchecked_on_error(
                attempt,
                self.hasher.verify(password.clone(), stored_hash).await,
            )
            .await?;
        let outcome = match &account {
            None => Err(LoginFailure::UnknownEmail),
            Some(StoredCredentials {
                password_hash: None,
                ..
            }) => Err(LoginFailure::NoPassword),
            Some(_) if !verification.matches => Err(LoginFailure::WrongPassword),
            Some(StoredCredentials { user, .. }) if !user.is_active => {
                Err(LoginFailure::AccountDisabled)
            }
            Some(_) => Ok(()),
        };
        let (user, verified_hash) = match (outcome, account) {
            (Ok(()), Some(account)) => (account.user, account.password_hash),
            (failure, account) => {
                let user_id = account.map(|account| account.user.id);
                self.store
                    .finish_login_attempt(attempt, user_id, failure)
                    .await?;
                return Err(match failure {
                    Err(LoginFailure::AccountDisabled) => AuthError::AccountDisabled,
                    _ => AuthError::InvalidCredentials,
                });
            }
        };
        let session = self.new_session(user.id, now);
        let issued = self.new_refresh_token(client, now);
        let issued = self.mark_unchecked_on_error(attempt, issued).await?;
        let started = self
            .store
            .finish_successful_login(attempt, &session, &issued.stored, now)
            .await;
        self.mark_unchecked_on_error(attempt, started).await?;
        self.confirm_unchanged(&user, verified_hash.as_deref(), session.id, now)
            .await?;
        if let Some(verified_hash) = verified_hash.filter(|_| verification.needs_rehash) {
            self.upgrade_hash(user.id, &verified_hash, password).await;
        }
        let tokens = self.pair(&user, session.id, session.ends_at, issued, now)?;
        Ok((user, tokens))
    }

    /// The credentials were read before the hash ran, which can take a while in the hashing
    /// queue. A password change or a deactivation that committed since then revoked every session
    /// it could see, but not this one, stored after it: so the account is read again now, and if
    /// it changed, the session ends here and its tokens are never handed out. The attempt stays on
    /// record as a success: the password was right when it was checked.
    async fn confirm_unchanged(
        &self,
        user: &User,
        verified_hash: Option<&str>,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let current = self.store.find_credentials(user.id).await?;
        let refusal = match current {
            Some(account) if account.password_hash.as_deref() != verified_hash => {
                AuthError::InvalidCredentials
            }
            Some(account) if !account.user.is_active => AuthError::AccountDisabled,
            Some(_) => return Ok(()),
            None => AuthError::InvalidCredentials,
        };
        tracing::info!(user_id = %user.id, "account changed during the login; session ended");
        self.end_session(session_id, Some(user.id), now).await?;
        Err(refusal)
    }

    /// Best effort: the login already succeeded, so a failure here is only logged.
    async fn upgrade_hash(&self, user_id: Uuid, verified_hash: &str, password: SecretString) {
        let result = match self.hasher.hash(password).await {
            Ok(hash) => {
                let now = self.clock.now();
                self.store
                    .upgrade_password_hash(user_id, verified_hash, hash, now)
                    .await
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(true) => {
                tracing::info!(%user_id, "password hash upgraded to the current parameters")
            }
            Ok(false) => tracing::info!(%user_id, "password changed meanwhile; hash not upgraded"),
            Err(error) => tracing::warn!(%user_id, error = %error, "password hash upgrade failed"),
        }
    }
}
