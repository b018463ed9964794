use super::{AccessClaims, AuthService, validation_cache::ValidationCache};
use crate::error::AuthError;

impl AuthService {
    /// The token's signature and claims, then that its session is not revoked and its user is active.
    #[tracing::instrument(skip_all)]
    pub async fn validate(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        if access_token.is_empty() {
            return Err(AuthError::invalid("access_token", "is required"));
        }
        self.verify_live(access_token).await
    }

    /// The caller behind an `authorization: Bearer` token, checked exactly as [`Self::validate`].
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, bearer_token: &str) -> Result<AccessClaims, AuthError> {
        if bearer_token.is_empty() {
            return Err(AuthError::MissingBearerToken);
        }
        self.verify_live(bearer_token).await
    }

    async fn verify_live(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        let now = self.clock.now();
        let key = ValidationCache::key(access_token);
        let claims = match self.cache.verified(&key, now) {
            Some(claims) => claims,
            None => {
                let claims = self.tokens.verify(access_token, now)?;
                self.cache.remember_verified(key, claims.clone(), now);
                claims
            }
        };
        if self
            .cache
            .known_live(claims.session_id, claims.user_id, now)
        {
            return Ok(claims);
        }
        let ticket = self.cache.liveness_ticket();
        if self
            .store
            .is_session_live(claims.session_id, claims.user_id, now)
            .await?
        {
            self.cache
                .remember_live(claims.session_id, claims.user_id, now, ticket);
            Ok(claims)
        } else {
            Err(AuthError::InvalidAccessToken)
        }
    }
}
