use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ClientContext, Email};

/// Why a login failed, as recorded in `login_attempts.failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Recorded before the password is checked and replaced by the outcome after: until then it
    /// counts as a failure, so parallel guesses see each other and cannot slip past the limits.
    Pending,
    UnknownEmail,
    WrongPassword,
    /// The account has no password (it signs in with Google).
    NoPassword,
    /// Refused unchecked because the email is locked.
    AccountLocked,
    /// Refused unchecked because the client address is throttled.
    SourceThrottled,
    /// Right password, deactivated account.
    AccountDisabled,
    /// The password was never checked: the service was busy or failed. Not the user's doing, so
    /// not counted.
    NotChecked,
    /// Not a login: an admin cleared the lockout. Recorded so the audit trail shows it, and read
    /// by the lockout as a reset, like a success.
    AdminUnlock,
}

impl LoginFailure {
    /// Guesses count toward the lockout; refusals of an already locked or disabled account do not,
    /// so hammering a locked email does not extend its lock.
    pub const COUNTED: [LoginFailure; 4] = [
        LoginFailure::Pending,
        LoginFailure::UnknownEmail,
        LoginFailure::WrongPassword,
        LoginFailure::NoPassword,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::Pending => "pending",
            LoginFailure::UnknownEmail => "unknown_email",
            LoginFailure::WrongPassword => "wrong_password",
            LoginFailure::NoPassword => "no_password",
            LoginFailure::AccountLocked => "account_locked",
            LoginFailure::SourceThrottled => "source_throttled",
            LoginFailure::AccountDisabled => "account_disabled",
            LoginFailure::NotChecked => "not_checked",
            LoginFailure::AdminUnlock => "admin_unlock",
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

/// Which earlier attempts a guess limit reads: those after `since`, the latest `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    pub since: DateTime<Utc>,
    pub limit: u64,
}

/// One earlier attempt that bears on the lockout: a counted failure, or a reset (a success or an
/// admin's unlock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentAttempt {
    pub resets: bool,
    pub at: DateTime<Utc>,
}
