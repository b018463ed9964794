//! The one place a call on behalf of a user becomes a verified caller.

use tonic::Request;

use crate::{
    auth::{AccessClaims, AuthService},
    error::AuthError,
};

/// Verifies the `authorization: Bearer <access token>` metadata as ValidateToken would.
pub async fn authenticate<T>(
    service: &AuthService,
    request: &Request<T>,
) -> Result<AccessClaims, AuthError> {
    service.authenticate(bearer_token(request)?).await
}

fn bearer_token<T>(request: &Request<T>) -> Result<&str, AuthError> {
    let value = request
        .metadata()
        .get("authorization")
        .ok_or(AuthError::MissingBearerToken)?;
    let value = value.to_str().map_err(|_| AuthError::MissingBearerToken)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AuthError::MissingBearerToken),
    }
}
