use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{AuthService, TokenPair, refresh_token, service::IssuedRefreshToken};
use crate::{
    db::StoredRefreshToken,
    domain::{ClientContext, TokenHash},
    error::AuthError,
};

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
    /// Rotation: the presented token is consumed and a successor issued in the same session. A
    /// token already consumed is reuse, taken as theft: the whole session is revoked (but see the
    /// grace window in [`Self::retry_within_grace`]).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, input: RefreshInput) -> Result<TokenPair, AuthError> {
        let RefreshInput {
            refresh_token,
            client,
        } = input;
        let presented = presented_hash(&refresh_token)?.ok_or(AuthError::InvalidRefreshToken)?;
        let now = self.clock.now();
        let successor = self.new_refresh_token(client, now)?;
        // The conditional update inside decides races: of N concurrent calls exactly one rotates.
        if let Some(parent) = self
            .store
            .rotate_presented(&presented, &successor.stored, now)
            .await?
        {
            let (session_id, ends_at) = (parent.token_family, parent.session_ends_at);
            return self.pair(&parent.user, session_id, ends_at, successor, now);
        }
        // Not live: consumed or revoked before, past one of its limits, or its user deactivated.
        let presented = self
            .store
            .find_refresh_token(&presented)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        let Some(consumed_at) = presented.revoked_at else {
            return Err(AuthError::InvalidRefreshToken);
        };
        if let Some(pair) = self
            .retry_within_grace(&presented, consumed_at, successor, now)
            .await?
        {
            return Ok(pair);
        }
        Err(self.reuse_detected(&presented, now).await)
    }

    /// A client whose refresh response was lost presents the same token again. Within the grace
    /// window, and once, the immediate parent of the session's current token gets a fresh pair;
    /// the current token is consumed in the same step, so the session never has two live tokens.
    async fn retry_within_grace(
        &self,
        parent: &StoredRefreshToken,
        consumed_at: DateTime<Utc>,
        successor: IssuedRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPair>, AuthError> {
        let grace =
            chrono::Duration::from_std(self.settings.refresh_reuse_grace).unwrap_or_default();
        if grace.is_zero() || now - consumed_at > grace {
            return Ok(None);
        }
        // Exactly one child, still live: the parent of the current token, its retry not yet spent.
        let children = self.store.children_of(parent.id).await?;
        let [(current, true)] = children.as_slice() else {
            return Ok(None);
        };
        if !self
            .store
            .rotate_replacing(*current, parent, &successor.stored, now)
            .await?
        {
            return Ok(None);
        }
        tracing::info!(user_id = %parent.user.id, session_id = %parent.token_family, "refresh retried within the grace window");
        let (session_id, ends_at) = (parent.token_family, parent.session_ends_at);
        self.pair(&parent.user, session_id, ends_at, successor, now)
            .map(Some)
    }

    /// Idempotent and silent (RFC 7009): unknown or revoked tokens answer OK with 0.
    #[tracing::instrument(skip_all)]
    pub async fn revoke(&self, input: RevokeInput) -> Result<u32, AuthError> {
        let RevokeInput {
            refresh_token,
            all_sessions,
        } = input;
        let Some(hash) = presented_hash(&refresh_token)? else {
            return Ok(0);
        };
        let now = self.clock.now();
        if !all_sessions {
            let Some(token) = self.store.find_refresh_token(&hash).await? else {
                return Ok(0);
            };
            let revoked = self.end_session(token.token_family, None, now).await?;
            return Ok(u32::from(revoked > 0));
        }
        // Every session of a user needs a token that still proves one.
        let Some(token) = self.store.find_live_refresh_token(&hash, now).await? else {
            return Ok(0);
        };
        let sessions = self.end_user_sessions(token.user.id, None, now).await?;
        tracing::info!(user_id = %token.user.id, sessions, "all sessions revoked");
        Ok(sessions)
    }

    async fn reuse_detected(&self, token: &StoredRefreshToken, now: DateTime<Utc>) -> AuthError {
        match self.end_session(token.token_family, None, now).await {
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

/// The hash to look a presented token up by; `None` when it cannot be one of ours.
fn presented_hash(token: &SecretString) -> Result<Option<TokenHash>, AuthError> {
    let token = token.expose_secret();
    if token.is_empty() {
        return Err(AuthError::invalid("refresh_token", "is required"));
    }
    Ok(refresh_token::parse(token))
}
