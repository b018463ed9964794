use super::{AccessClaims, AuthService};
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
        let claims = self.tokens.verify(access_token, self.clock.now())?;
        if self
            .store
            .is_session_live(claims.session_id, claims.user_id)
            .await?
        {
            Ok(claims)
        } else {
            Err(AuthError::InvalidAccessToken)
        }
    }
}
