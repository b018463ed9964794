//! What the types alone cannot check, refused at start-up naming the variable at fault. Each group
//! of settings checks its own; what ties two groups together is checked here.

use std::time::Duration;

use super::Config;

/// Longer lifetimes are mistakes, and would overflow date arithmetic long before they mattered.
pub(super) const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    variable: &'static str,
    reason: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

pub(super) fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::new(variable, reason)
}

/// A lifetime or window: at least a second, at most ten years.
pub(super) fn lifetime(variable: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value < Duration::from_secs(1) {
        return Err(invalid(variable, "must be at least 1s"));
    }
    if value > TEN_YEARS {
        return Err(invalid(variable, "must be at most 10 years"));
    }
    Ok(())
}

impl Config {
    /// Checks what the types alone cannot, naming the variable at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate()?;
        self.server.validate()?;
        self.tokens.validate()?;
        self.keys.validate()?;
        self.guessing.validate()?;
        self.passwords.validate()?;
        self.housekeeping.validate()?;
        self.edge.validate()?;
        self.tls.validate()?;
        if self.housekeeping.cleanup_login_attempts_after < self.guessing.longest_window() {
            return Err(invalid(
                "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER",
                "must be at least the lockout and throttle windows",
            ));
        }
        Ok(())
    }
}
