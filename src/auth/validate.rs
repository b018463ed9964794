use super::{AccessClaims, AuthService};
use crate::error::AuthError;

impl AuthService {
    /// The token's signature and claims, then that its session is not revoked and its user is active.
    #[tracing::instrument(skip_all)]
    pub async fn validate(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        if access_token.is_empty() {
            return Err(AuthError::invalid("access_token", "is required"));
        }
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
