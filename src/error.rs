//! The domain's one error type and its single, exhaustive mapping to gRPC status codes.
//! Client-facing variants carry fixed, safe messages; infrastructure failures are logged here with
//! their cause chain and reach the client as a bare code.

use std::time::Duration;

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many failed logins; try again later")]
    AccountLocked { retry_after: Duration },
    #[error("account is deactivated")]
    AccountDisabled,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("invalid access token")]
    InvalidAccessToken,
    #[error("authorization metadata with a Bearer access token is required")]
    MissingBearerToken,
    #[error("invalid password")]
    WrongPassword,
    #[error("not found")]
    NotFound,
    #[error("the admin role is required")]
    AdminRequired,
    #[error("{0}")]
    FailedPrecondition(&'static str),
    #[error("service is busy; try again")]
    Overloaded,
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AuthError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        let code = match &error {
            AuthError::InvalidArgument { .. } => Code::InvalidArgument,
            AuthError::EmailTaken | AuthError::UsernameTaken => Code::AlreadyExists,
            AuthError::InvalidCredentials
            | AuthError::InvalidRefreshToken
            | AuthError::InvalidAccessToken
            | AuthError::MissingBearerToken
            | AuthError::WrongPassword => Code::Unauthenticated,
            AuthError::NotFound => Code::NotFound,
            AuthError::AccountLocked { .. } | AuthError::Overloaded => Code::ResourceExhausted,
            AuthError::AccountDisabled | AuthError::AdminRequired => Code::PermissionDenied,
            AuthError::FailedPrecondition(_) => Code::FailedPrecondition,
            AuthError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "database unavailable");
                Code::Unavailable
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                Code::Internal
            }
        };
        let mut status = Status::new(code, error.to_string());
        if let AuthError::AccountLocked { retry_after } = error {
            // Readable by any client without the richer-error protos; seconds, rounded up.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = seconds.to_string().parse() {
                status.metadata_mut().insert("retry-after", value);
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_the_client_without_their_cause() {
        let status = Status::from(AuthError::internal(anyhow::anyhow!("secret table name")));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn invalid_argument_names_the_field() {
        let status = Status::from(AuthError::invalid("email", "must contain @"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "email: must contain @");
    }
}
