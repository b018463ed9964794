use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{AuthService, TokenPair, refresh_token, service::SessionSpan};
use crate::{db::StoredRefreshToken, domain::ClientContext, error::AuthError};

#[derive(Debug)]
pub struct RefreshInput {
    pub refresh_token: SecretString,
    pub client: ClientContext,
}

#[derive(Debug)]
pub struct RevokeInput {
    pub refresh_token: SecretString,
    pub all_sessions: bool,
}

impl AuthService {
    /// Rotation: the presented token is consumed and a successor issued in the same family. A token
    /// already consumed is reuse, taken as theft: the whole family is revoked.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, input: RefreshInput) -> Result<TokenPair, AuthError> {
        let RefreshInput {
            refresh_token,
            client,
        } = input;
        let current = self
            .find_presented(&refresh_token)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        let now = self.clock.now();
        if current.revoked_at.is_some() {
            return Err(self.reuse_detected(&current, now).await);
        }
        if current.expires_at <= now || !current.user.is_active {
            return Err(AuthError::InvalidRefreshToken);
        }
        let session = SessionSpan {
            id: current.token_family,
            started_at: current.session_started_at,
        };
        let (token, successor) = self.new_refresh_token(&current.user, session, client, now)?;
        // The conditional update inside decides races: of N concurrent calls exactly one rotates.
        if !self
            .store
            .rotate_refresh_token(current.id, &successor, now)
            .await?
        {
            return Err(self.reuse_detected(&current, now).await);
        }
        self.pair(&current.user, token, &successor, now)
    }

    /// Idempotent and silent (RFC 7009): unknown or revoked tokens answer OK with 0.
    #[tracing::instrument(skip_all)]
    pub async fn revoke(&self, input: RevokeInput) -> Result<u32, AuthError> {
        let RevokeInput {
            refresh_token,
            all_sessions,
        } = input;
        let Some(token) = self.find_presented(&refresh_token).await? else {
            return Ok(0);
        };
        let now = self.clock.now();
        if !all_sessions {
            let revoked = self
                .store
                .revoke_family(token.token_family, None, now)
                .await?;
            return Ok(u32::from(revoked > 0));
        }
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Ok(0);
        }
        let sessions = self
            .store
            .revoke_user_sessions(token.user.id, None, now)
            .await?;
        tracing::info!(user_id = %token.user.id, sessions, "all sessions revoked");
        Ok(sessions)
    }

    async fn find_presented(
        &self,
        token: &SecretString,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        let token = token.expose_secret();
        if token.is_empty() {
            return Err(AuthError::invalid("refresh_token", "is required"));
        }
        match refresh_token::parse(token) {
            Some(hash) => self.store.find_refresh_token(&hash).await,
            None => Ok(None),
        }
    }

    async fn reuse_detected(&self, token: &StoredRefreshToken, now: DateTime<Utc>) -> AuthError {
        match self
            .store
            .revoke_family(token.token_family, None, now)
            .await
        {
            Ok(0) => AuthError::InvalidRefreshToken,
            Ok(_) => {
                tracing::warn!(
                    user_id = %token.user.id,
                    session_id = %token.token_family,
                    "refresh token reuse detected: session revoked"
                );
                AuthError::InvalidRefreshToken
            }
            Err(error) => error,
        }
    }
}
