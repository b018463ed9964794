use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ClientContext, Email};

/// Why a login failed, as recorded in `login_attempts.failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownEmail,
    WrongPassword,
    /// The account has no password (it signs in with Google).
    NoPassword,
    /// Refused unchecked because the email is locked.
    AccountLocked,
    /// Right password, deactivated account.
    AccountDisabled,
}

impl LoginFailure {
    /// Guesses count toward the lockout; refusals of an already locked or disabled account do not,
    /// so hammering a locked email does not extend its lock.
    pub const COUNTED: [LoginFailure; 3] = [
        LoginFailure::UnknownEmail,
        LoginFailure::WrongPassword,
        LoginFailure::NoPassword,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::UnknownEmail => "unknown_email",
            LoginFailure::WrongPassword => "wrong_password",
            LoginFailure::NoPassword => "no_password",
            LoginFailure::AccountLocked => "account_locked",
            LoginFailure::AccountDisabled => "account_disabled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub user_id: Option<Uuid>,
    pub email: Email,
    pub client: ClientContext,
    pub outcome: Result<(), LoginFailure>,
}

/// One earlier attempt that counts toward the lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentAttempt {
    pub succeeded: bool,
    pub at: DateTime<Utc>,
}
