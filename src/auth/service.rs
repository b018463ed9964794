use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    guess_limit::GuessLimit, password::PasswordHasher, refresh_token, token::AccessTokens,
    validation_cache::ValidationCache,
};
use crate::{
    clock::Clock,
    db::{NewRefreshToken, NewSession, Store},
    domain::{ClientContext, PasswordPolicy, Revocation, User, refresh_token_expiry},
    error::AuthError,
};

/// Sessions and tokens ValidateToken remembers at most; a bound, not a target.
const VALIDATION_CACHE_ENTRIES: usize = 100_000;

/// The policies the domain applies, taken from the configuration at start-up.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    pub password_policy: PasswordPolicy,
    pub refresh_token_ttl: Duration,
    pub session_max_lifetime: Duration,
    pub refresh_reuse_grace: Duration,
    /// How long a replica trusts that a session it saw live still is.
    pub liveness_cache_ttl: Duration,
    pub lockout: GuessLimit,
    pub ip_throttle: GuessLimit,
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
    pub refresh_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

pub struct AuthService {
    pub(super) cache: ValidationCache,
    pub(super) store: Store,
    pub(super) hasher: PasswordHasher,
    pub(super) tokens: AccessTokens,
    pub(super) clock: Clock,
    pub(super) settings: AuthSettings,
}

impl AuthService {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        clock: Clock,
        settings: AuthSettings,
    ) -> Self {
        let cache = ValidationCache::new(settings.liveness_cache_ttl, VALIDATION_CACHE_ENTRIES);
        Self {
            cache,
            store,
            hasher,
            tokens,
            clock,
            settings,
        }
    }

    /// Revokes one session (only `owner`'s, when given) and forgets it at once on this replica.
    pub(super) async fn end_session(
        &self,
        session_id: Uuid,
        owner: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u64, AuthError> {
        let revoked = self.store.revoke_family(session_id, owner, now).await?;
        self.cache.forget(Revocation::Session(session_id));
        Ok(revoked)
    }

    /// Revokes every session of `user_id` but `keep`, and forgets them at once on this replica.
    pub(super) async fn end_user_sessions(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u32, AuthError> {
        let revoked = self.store.revoke_user_sessions(user_id, keep, now).await?;
        self.cache.forget(Revocation::UserSessions {
            user_id,
            kept: keep,
        });
        Ok(revoked)
    }

    pub fn jwks_json(&self) -> String {
        self.tokens.jwks_json(self.clock.now())
    }

    /// A new refresh token: the token for the client, and what is stored of it.
    pub(super) fn new_refresh_token(
        &self,
        client: ClientContext,
        now: DateTime<Utc>,
    ) -> Result<IssuedRefreshToken, AuthError> {
        let ttl = chrono::Duration::from_std(self.settings.refresh_token_ttl)
            .unwrap_or(chrono::Duration::MAX);
        let (token, token_hash) = refresh_token::generate()?;
        let stored = NewRefreshToken {
            id: Uuid::now_v7(),
            token_hash,
            client,
            idle_expires_at: now
                .checked_add_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        };
        Ok(IssuedRefreshToken { token, stored })
    }

    /// A session of `user_id` starting now. The one place a session's end is decided: its tokens
    /// carry it from here on.
    pub(super) fn new_session(&self, user_id: Uuid, now: DateTime<Utc>) -> NewSession {
        let lifetime = chrono::Duration::from_std(self.settings.session_max_lifetime)
            .unwrap_or(chrono::Duration::MAX);
        NewSession {
            id: Uuid::new_v4(),
            user_id,
            started_at: now,
            ends_at: now
                .checked_add_signed(lifetime)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// An access token for `user` in a session, paired with the session's new refresh token.
    pub(super) fn pair(
        &self,
        user: &User,
        session_id: Uuid,
        session_ends_at: DateTime<Utc>,
        refresh_token: IssuedRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        let refresh_expires_at =
            refresh_token_expiry(refresh_token.stored.idle_expires_at, session_ends_at);
        // The refresh token's expiry is capped at the session's end, so it bounds the access token.
        let access = self
            .tokens
            .issue(user, session_id, refresh_expires_at, now)?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token: refresh_token.token,
            expires_in: access.expires_in,
            refresh_expires_at,
        })
    }
}

/// A refresh token as the client gets it, and as it is stored.
pub(super) struct IssuedRefreshToken {
    pub token: String,
    pub stored: NewRefreshToken,
}
