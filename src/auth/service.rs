use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    guess_limit::GuessLimit, password::PasswordHasher, refresh_token, token::AccessTokens,
    validation_cache::ValidationCache,
};
use crate::{
    clock::Clock,
    db::{NewRefreshToken, Store},
    domain::{ClientContext, PasswordPolicy, Revocation, User},
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

    /// A new refresh token for `session`: the token for the client and the row to store (its hash,
    /// and an expiry capped by the session's absolute lifetime).
    pub(super) fn new_refresh_token(
        &self,
        user: &User,
        session: SessionSpan,
        parent_id: Option<Uuid>,
        client: ClientContext,
        now: DateTime<Utc>,
    ) -> Result<(String, NewRefreshToken), AuthError> {
        let (token, token_hash) = refresh_token::generate()?;
        let expires_at = self.refresh_expiry(session.started_at, now);
        let stored = NewRefreshToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            token_hash,
            token_family: session.id,
            session_started_at: session.started_at,
            expires_at,
            client,
            parent_id,
        };
        Ok((token, stored))
    }

    /// An access token for `user` in `session`, paired with the session's new refresh token.
    pub(super) fn pair(
        &self,
        user: &User,
        refresh_token: String,
        session: Uuid,
        refresh_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        // The refresh token's expiry is capped at the session's end, so it bounds the access token.
        let access = self.tokens.issue(user, session, refresh_expires_at, now)?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
            refresh_expires_at,
        })
    }

    /// A refresh token lives for its TTL but never past the session's absolute lifetime. (On
    /// PostgreSQL the common refresh computes the same bound in its statement, see
    /// `Store::rotate_live_token`.)
    fn refresh_expiry(
        &self,
        session_started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let absolute_limit = session_started_at
            .checked_add_signed(self.session_lifetime())
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.idle_limit(now).min(absolute_limit)
    }

    /// When a refresh token issued `now` expires unless its session ends first.
    pub(super) fn idle_limit(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.settings.refresh_token_ttl)
            .unwrap_or(chrono::Duration::MAX);
        now.checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    pub(super) fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.session_max_lifetime)
            .unwrap_or(chrono::Duration::MAX)
    }
}

/// A session (token family) and when it began.
#[derive(Debug, Clone, Copy)]
pub(super) struct SessionSpan {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
}
