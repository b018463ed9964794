//! What the types alone cannot check, refused at start-up naming the variable at fault.

use std::time::Duration;

use super::{Config, PASSWORD_MAX_LENGTH};

/// Longer lifetimes are mistakes, and would overflow date arithmetic long before they mattered.
const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

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

fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::new(variable, reason)
}

impl Config {
    /// Checks what the types alone cannot, naming the variable at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url();
        if !["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err(invalid(
                "AUTH_DATABASE_URL",
                "must start with sqlite:, postgres: or mysql:",
            ));
        }
        if self.database_max_connections == Some(0) {
            return Err(invalid(
                "AUTH_DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        for (variable, value) in [
            ("AUTH_ISSUER", &self.issuer),
            ("AUTH_AUDIENCE", &self.audience),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(variable, "must not be empty"));
            }
        }
        let at_least_a_second = [
            ("AUTH_ACCESS_TOKEN_TTL", self.access_token_ttl),
            ("AUTH_REFRESH_TOKEN_TTL", self.refresh_token_ttl),
            ("AUTH_SESSION_MAX_LIFETIME", self.session_max_lifetime),
            ("AUTH_LOCKOUT_WINDOW", self.lockout_window),
            ("AUTH_IP_THROTTLE_WINDOW", self.ip_throttle_window),
            (
                "AUTH_CLEANUP_REFRESH_TOKENS_AFTER",
                self.cleanup_refresh_tokens_after,
            ),
            (
                "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER",
                self.cleanup_login_attempts_after,
            ),
        ];
        for (variable, value) in at_least_a_second {
            if value < Duration::from_secs(1) {
                return Err(invalid(variable, "must be at least 1s"));
            }
            if value > TEN_YEARS {
                return Err(invalid(variable, "must be at most 10 years"));
            }
        }
        if self.liveness_cache_ttl > Duration::from_secs(60) {
            return Err(invalid("AUTH_LIVENESS_CACHE_TTL", "must be at most 60s"));
        }
        if self.revocation_poll_interval > Duration::from_secs(3600) {
            return Err(invalid(
                "AUTH_REVOCATION_POLL_INTERVAL",
                "must be at most 1h",
            ));
        }
        if self.refresh_reuse_grace > Duration::from_secs(300) {
            return Err(invalid("AUTH_REFRESH_REUSE_GRACE", "must be at most 5m"));
        }
        if self.key_refresh_interval < Duration::from_millis(10)
            || self.key_refresh_interval > Duration::from_secs(3600)
        {
            return Err(invalid(
                "AUTH_KEY_REFRESH_INTERVAL",
                "must be between 10ms and 1h",
            ));
        }
        if self.cleanup_interval < Duration::from_millis(10) || self.cleanup_interval > TEN_YEARS {
            return Err(invalid(
                "AUTH_CLEANUP_INTERVAL",
                "must be between 10ms and 10 years",
            ));
        }
        if self.health_probe_interval < Duration::from_millis(10) {
            return Err(invalid(
                "AUTH_HEALTH_PROBE_INTERVAL",
                "must be at least 10ms",
            ));
        }
        if self.lockout_max_failures == 0 {
            return Err(invalid("AUTH_LOCKOUT_MAX_FAILURES", "must be at least 1"));
        }
        if self.ip_throttle_max_failures == 0 {
            return Err(invalid(
                "AUTH_IP_THROTTLE_MAX_FAILURES",
                "must be at least 1",
            ));
        }
        if !(1..=PASSWORD_MAX_LENGTH).contains(&self.password_min_length) {
            return Err(invalid(
                "AUTH_PASSWORD_MIN_LENGTH",
                format!("must be between 1 and {PASSWORD_MAX_LENGTH}"),
            ));
        }
        if !(1..=100_000).contains(&self.cleanup_batch_size) {
            return Err(invalid(
                "AUTH_CLEANUP_BATCH_SIZE",
                "must be between 1 and 100000",
            ));
        }
        if self.cleanup_login_attempts_after < self.lockout_window.max(self.ip_throttle_window) {
            return Err(invalid(
                "AUTH_CLEANUP_LOGIN_ATTEMPTS_AFTER",
                "must be at least the lockout and throttle windows",
            ));
        }
        if self.hashing_threads == Some(0) {
            return Err(invalid("AUTH_HASHING_THREADS", "must be at least 1"));
        }
        crate::auth::password::HashingParams::from_config(self).map(|_| ())
    }
}
