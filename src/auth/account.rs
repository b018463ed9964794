//! Self-service: what a signed-in user may do with their own account and sessions.

use std::sync::Arc;

use secrecy::SecretString;
use uuid::Uuid;

use super::{AccessClaims, AuthService, guard::run_to_verdict};
use crate::{
    domain::{
        ClientContext, LoginFailure, LoginPassword, NewPassword, SessionInfo, User,
        password_rules::PasswordContext,
    },
    error::AuthError,
};

#[derive(Debug)]
pub struct ChangePasswordInput {
    pub current_password: LoginPassword,
    pub new_password: SecretString,
    pub client: ClientContext,
}

impl AuthService {
    pub async fn get_me(&self, caller: &AccessClaims) -> Result<User, AuthError> {
        // The session was live a moment ago; a user deleted since is an invalid token, not a 404.
        let account = self.store.find_credentials(caller.user_id).await?;
        account
            .map(|account| account.user)
            .ok_or(AuthError::InvalidAccessToken)
    }

    pub async fn list_sessions(
        &self,
        caller: &AccessClaims,
    ) -> Result<Vec<SessionInfo>, AuthError> {
        self.store
            .live_sessions(caller.user_id, self.clock.now())
            .await
    }

    /// Another user's session, an ended one, and one that never existed are all NOT_FOUND.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_session(
        &self,
        caller: &AccessClaims,
        session_id: Uuid,
    ) -> Result<(), AuthError> {
        let revoked = self
            .end_session(session_id, Some(caller.user_id), self.clock.now())
            .await?;
        if revoked == 0 {
            return Err(AuthError::NotFound);
        }
        tracing::info!(user_id = %caller.user_id, %session_id, "session revoked by its owner");
        Ok(())
    }

    /// Returns how many other sessions were ended.
    pub async fn change_password(
        self: &Arc<Self>,
        caller: &AccessClaims,
        input: ChangePasswordInput,
    ) -> Result<u32, AuthError> {
        let (service, caller) = (Arc::clone(self), caller.clone());
        run_to_verdict(async move { service.attempt_password_change(&caller, input).await }).await
    }

    #[tracing::instrument(name = "change_password", skip_all)]
    async fn attempt_password_change(
        &self,
        caller: &AccessClaims,
        input: ChangePasswordInput,
    ) -> Result<u32, AuthError> {
        let ChangePasswordInput {
            current_password,
            new_password,
            client,
        } = input;
        let account = self
            .store
            .find_credentials(caller.user_id)
            .await?
            .ok_or(AuthError::InvalidAccessToken)?;
        let (user_id, email) = (account.user.id, &account.user.email);
        // Judged before anything is verified or counted: a bad new password costs no guess.
        let context = PasswordContext::new(email.as_str(), account.user.username.as_deref());
        let policy = self.settings.password_policy;
        let new_password =
            NewPassword::parse_field("new_password", new_password, policy, &context)?;
        let now = self.clock.now();
        let attempt = self.begin_guarded_attempt(email, &client, now).await?;
        let checked = self
            .hasher
            .verify(
                current_password.into_secret(),
                account.password_hash.clone(),
            )
            .await;
        let verification = self.mark_unchecked_on_error(attempt, checked).await?;
        // Proving the password resets the lockout as a login would; a wrong one counts like one.
        let outcome = if verification.matches {
            Ok(())
        } else {
            Err(LoginFailure::WrongPassword)
        };
        self.store
            .finish_login_attempt(attempt, Some(user_id), outcome)
            .await?;
        if outcome.is_err() {
            return Err(AuthError::WrongPassword);
        }
        let hash = self.hasher.hash(new_password.into_secret()).await?;
        self.store.update_password_hash(user_id, hash, now).await?;
        let revoked = self
            .end_user_sessions(user_id, Some(caller.session_id), now)
            .await?;
        tracing::info!(%user_id, other_sessions_revoked = revoked, "password changed");
        Ok(revoked)
    }
}
