//! How many failed logins lock an email or throttle a client address.

use std::time::Duration;

use clap::Args;

use super::{
    ConfigError,
    validate::{invalid, lifetime},
};

#[derive(Debug, Clone, Args)]
pub struct GuessingSettings {
    /// Failed logins for one email within the lockout window that lock it.
    #[arg(
        long,
        global = true,
        env = "AUTH_LOCKOUT_MAX_FAILURES",
        value_name = "AUTH_LOCKOUT_MAX_FAILURES",
        default_value_t = 5
    )]
    pub lockout_max_failures: u32,

    /// The window failures are counted in; the lock lifts when they fall out of it.
    #[arg(long, global = true, env = "AUTH_LOCKOUT_WINDOW", value_name = "AUTH_LOCKOUT_WINDOW",
          default_value = "15m", value_parser = humantime::parse_duration)]
    pub lockout_window: Duration,

    /// Failed logins from one client address, across all emails, within the throttle window that
    /// refuse further logins from it.
    #[arg(
        long,
        global = true,
        env = "AUTH_IP_THROTTLE_MAX_FAILURES",
        value_name = "AUTH_IP_THROTTLE_MAX_FAILURES",
        default_value_t = 20
    )]
    pub ip_throttle_max_failures: u32,

    /// The window failed logins per client address are counted in.
    #[arg(long, global = true, env = "AUTH_IP_THROTTLE_WINDOW", value_name = "AUTH_IP_THROTTLE_WINDOW",
          default_value = "15m", value_parser = humantime::parse_duration)]
    pub ip_throttle_window: Duration,
}

impl GuessingSettings {
    /// The longest window an attempt is read back for.
    pub fn longest_window(&self) -> Duration {
        self.lockout_window.max(self.ip_throttle_window)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        lifetime("AUTH_LOCKOUT_WINDOW", self.lockout_window)?;
        lifetime("AUTH_IP_THROTTLE_WINDOW", self.ip_throttle_window)?;
        if self.lockout_max_failures == 0 {
            return Err(invalid("AUTH_LOCKOUT_MAX_FAILURES", "must be at least 1"));
        }
        if self.ip_throttle_max_failures == 0 {
            return Err(invalid(
                "AUTH_IP_THROTTLE_MAX_FAILURES",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
