//! The domain's one error type and its single, exhaustive mapping to gRPC status codes.
//! Client-facing variants carry fixed, safe messages; infrastructure failures are logged here with
//! their cause chain and reach the client as a bare code.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
    #[error("too many failed logins from this address; try again later")]
    SourceThrottled { retry_after: Duration },
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
            AuthError::AccountLocked { .. }
            | AuthError::SourceThrottled { .. }
            | AuthError::Overloaded => Code::ResourceExhausted,
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
        let message = error.to_string();
        match error {
            AuthError::InvalidArgument { field, reason } => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_bad_request_violation(field, reason),
            ),
            AuthError::AccountLocked { retry_after }
            | AuthError::SourceThrottled { retry_after } => {
                let details = ErrorDetails::with_retry_info(Some(retry_after));
                let mut status = Status::with_error_details(code, message, details);
                // Also as plain metadata, for clients without the richer-error protos; seconds,
                // rounded up.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                if let Ok(value) = seconds.to_string().parse() {
                    status.metadata_mut().insert("retry-after", value);
                }
                status
            }
            _ => Status::new(code, message),
        }
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
