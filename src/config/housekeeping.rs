//! How long old rows are kept, and how they are deleted.

use std::time::Duration;

use clap::Args;

use super::{
    ConfigError,
    validate::{TEN_YEARS, invalid, lifetime},
};

#[derive(Debug, Clone, Args)]
pub struct HousekeepingSettings {
    /// How often each replica deletes old refresh tokens and login attempts.
    #[arg(long, global = true, env = "AUTH_CLEANUP_INTERVAL", value_name = "AUTH_CLEANUP_INTERVAL",
          default_value = "1h", value_parser = humantime::parse_duration)]
    pub cleanup_interval: Duration,

    /// Refresh tokens are deleted this long after they expired or were revoked.
    #[arg(long, global = true, env = "AUTH_CLEANUP_REFRESH_TOKENS_AFTER", value_name = "AUTH_CLEANUP_REFRESH_TOKENS_AFTER",
          default_value = "7d", value_parser = humantime::parse_duration)]
    pub cleanup_refresh_tokens_after: Duration,

    /// Login attempts are deleted this long after they were made.
    #[arg(long, global = true, env = "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER", value_name = "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER",
          default_value = "90d", value_parser = humantime::parse_duration)]
    pub cleanup_login_attempts_after: Duration,

    /// Rows deleted per statement: small enough that no delete holds locks for long.
    #[arg(
        long,
        global = true,
        env = "AUTH_CLEANUP_BATCH_SIZE",
        value_name = "AUTH_CLEANUP_BATCH_SIZE",
        default_value_t = 1000
    )]
    pub cleanup_batch_size: u64,
}

impl HousekeepingSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        lifetime(
            "AUTH_CLEANUP_REFRESH_TOKENS_AFTER",
            self.cleanup_refresh_tokens_after,
        )?;
        lifetime(
            "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER",
            self.cleanup_login_attempts_after,
        )?;
        if self.cleanup_interval < Duration::from_millis(10) || self.cleanup_interval > TEN_YEARS {
            return Err(invalid(
                "AUTH_CLEANUP_INTERVAL",
                "must be between 10ms and 10 years",
            ));
        }
        if !(1..=100_000).contains(&self.cleanup_batch_size) {
            return Err(invalid(
                "AUTH_CLEANUP_BATCH_SIZE",
                "must be between 1 and 100000",
            ));
        }
        Ok(())
    }
}
