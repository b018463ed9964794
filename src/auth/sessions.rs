use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{AuthService, TokenPair, refresh_token, service::SessionSpan};
use crate::{
    db::{StoredRefreshToken, SuccessorDraft},
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
    /// Rotation: the presented token is consumed and a successor issued in the same family. A token
    /// already consumed is reuse, taken as theft: the whole family is revoked (but see the grace
    /// window in [`Self::retry_within_grace`]).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, input: RefreshInput) -> Result<TokenPair, AuthError> {
        let RefreshInput {
            refresh_token,
            client,
        } = input;
        let presented = presented_hash(&refresh_token)?.ok_or(AuthError::InvalidRefreshToken)?;
        let now = self.clock.now();
        if let Some(pair) = self.rotate_if_live(&presented, &client, now).await? {
            return Ok(pair);
        }
        let presented = self
            .store
            .find_refresh_token(&presented)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        if let Some(rotated_at) = presented.revoked_at {
            if let Some(pair) = self
                .retry_within_grace(&presented, rotated_at, client, now)
                .await?
            {
                return Ok(pair);
            }
            return Err(self.reuse_detected(&presented, now).await);
        }
        if presented.expires_at <= now || !presented.user.is_active {
            return Err(AuthError::InvalidRefreshToken);
        }
        // The conditional update inside decides races: of N concurrent calls exactly one rotates.
        match self.rotate(&presented, presented.id, client, now).await? {
            Some(pair) => Ok(pair),
            None => Err(self.reuse_detected(&presented, now).await),
        }
    }

    /// The common case, where the store can take it in one step: a live token of an active user,
    /// rotated. `None` leaves the presented token untouched, for the long way to look at.
    async fn rotate_if_live(
        &self,
        presented: &TokenHash,
        client: &ClientContext,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPair>, AuthError> {
        let (token, token_hash) = refresh_token::generate()?;
        let successor = SuccessorDraft {
            id: Uuid::now_v7(),
            token_hash,
            client: client.clone(),
            idle_limit: self.idle_limit(now),
            session_lifetime: self.session_lifetime(),
        };
        let Some(rotated) = self
            .store
            .rotate_live_token(presented, &successor, now)
            .await?
        else {
            return Ok(None);
        };
        let session = rotated.token_family;
        self.pair(
            &rotated.user,
            token,
            session,
            rotated.successor_expires_at,
            now,
        )
        .map(Some)
    }

    /// A client whose refresh response was lost presents the same token again. Within the grace
    /// window, and once, the immediate parent of the session's current token gets a fresh pair;
    /// the current token is revoked in the same step, so the session never has two live tokens.
    async fn retry_within_grace(
        &self,
        parent: &StoredRefreshToken,
        rotated_at: DateTime<Utc>,
        client: ClientContext,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPair>, AuthError> {
        let grace =
            chrono::Duration::from_std(self.settings.refresh_reuse_grace).unwrap_or_default();
        if grace.is_zero()
            || now - rotated_at > grace
            || parent.expires_at <= now
            || !parent.user.is_active
        {
            return Ok(None);
        }
        // Exactly one child, still live: the parent of the current token, its retry not yet spent.
        let children = self.store.children_of(parent.id).await?;
        let [(current, true)] = children.as_slice() else {
            return Ok(None);
        };
        let pair = self.rotate(parent, *current, client, now).await?;
        if pair.is_some() {
            tracing::info!(user_id = %parent.user.id, session_id = %parent.token_family, "refresh retried within the grace window");
        }
        Ok(pair)
    }

    /// Revokes `replaced` (if still live) and stores a successor of `parent` in its session.
    async fn rotate(
        &self,
        parent: &StoredRefreshToken,
        replaced: Uuid,
        client: ClientContext,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPair>, AuthError> {
        let session = SessionSpan {
            id: parent.token_family,
            started_at: parent.session_started_at,
        };
        let (token, successor) =
            self.new_refresh_token(&parent.user, session, Some(parent.id), client, now)?;
        if !self
            .store
            .rotate_refresh_token(replaced, &successor, now)
            .await?
        {
            return Ok(None);
        }
        self.pair(
            &parent.user,
            token,
            successor.token_family,
            successor.expires_at,
            now,
        )
        .map(Some)
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
            let revoked = self.end_session(token.token_family, None, now).await?;
            return Ok(u32::from(revoked > 0));
        }
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Ok(0);
        }
        let sessions = self.end_user_sessions(token.user.id, None, now).await?;
        tracing::info!(user_id = %token.user.id, sessions, "all sessions revoked");
        Ok(sessions)
    }

    async fn find_presented(
        &self,
        token: &SecretString,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        match presented_hash(token)? {
            Some(hash) => self.store.find_refresh_token(&hash).await,
            None => Ok(None),
        }
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
