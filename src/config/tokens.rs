//! Access tokens, refresh tokens and sessions: what they say, how long they live, and how fast a
//! revocation reaches every replica.

use std::time::Duration;

use clap::Args;

use super::{
    ConfigError,
    validate::{invalid, lifetime},
};

#[derive(Debug, Clone, Args)]
pub struct TokenSettings {
    /// `iss` of issued access tokens; ValidateToken accepts only this issuer.
    #[arg(
        long,
        global = true,
        env = "AUTH_ISSUER",
        value_name = "AUTH_ISSUER",
        default_value = "auth-service"
    )]
    pub issuer: String,

    /// `aud` of issued access tokens; ValidateToken accepts only this audience.
    #[arg(
        long,
        global = true,
        env = "AUTH_AUDIENCE",
        value_name = "AUTH_AUDIENCE",
        default_value = "auth-service"
    )]
    pub audience: String,

    /// Lifetime of an access token (e.g. 15m, 1h).
    #[arg(long, global = true, env = "AUTH_ACCESS_TOKEN_TTL", value_name = "AUTH_ACCESS_TOKEN_TTL",
          default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_token_ttl: Duration,

    /// Lifetime of a refresh token; each rotation issues a new one.
    #[arg(long, global = true, env = "AUTH_REFRESH_TOKEN_TTL", value_name = "AUTH_REFRESH_TOKEN_TTL",
          default_value = "7d", value_parser = humantime::parse_duration)]
    pub refresh_token_ttl: Duration,

    /// Absolute lifetime of a session (token family), however often it is refreshed.
    #[arg(long, global = true, env = "AUTH_SESSION_MAX_LIFETIME", value_name = "AUTH_SESSION_MAX_LIFETIME",
          default_value = "30d", value_parser = humantime::parse_duration)]
    pub session_max_lifetime: Duration,

    /// How long after a refresh its token may be presented once more (a client that lost the
    /// response retrying) without being treated as theft. 0s: strict.
    #[arg(long, global = true, env = "AUTH_REFRESH_REUSE_GRACE", value_name = "AUTH_REFRESH_REUSE_GRACE",
          default_value = "0s", value_parser = humantime::parse_duration)]
    pub refresh_reuse_grace: Duration,

    /// How long a replica trusts that a session it found live still is, for ValidateToken and
    /// authenticated calls. Revocations reach every replica through the revocation log well before
    /// that; this bounds what a lost one could cost. 0s: read the database on every call.
    #[arg(long, global = true, env = "AUTH_LIVENESS_CACHE_TTL", value_name = "AUTH_LIVENESS_CACHE_TTL",
          default_value = "30s", value_parser = humantime::parse_duration)]
    pub liveness_cache_ttl: Duration,

    /// How often a replica reads the revocation log to forget sessions other replicas ended. On
    /// PostgreSQL a NOTIFY also wakes it the moment a revocation commits. 0s: never (one replica).
    #[arg(long, global = true, env = "AUTH_REVOCATION_POLL_INTERVAL", value_name = "AUTH_REVOCATION_POLL_INTERVAL",
          default_value = "250ms", value_parser = humantime::parse_duration)]
    pub revocation_poll_interval: Duration,
}

impl TokenSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (variable, value) in [
            ("AUTH_ISSUER", &self.issuer),
            ("AUTH_AUDIENCE", &self.audience),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(variable, "must not be empty"));
            }
        }
        lifetime("AUTH_ACCESS_TOKEN_TTL", self.access_token_ttl)?;
        lifetime("AUTH_REFRESH_TOKEN_TTL", self.refresh_token_ttl)?;
        lifetime("AUTH_SESSION_MAX_LIFETIME", self.session_max_lifetime)?;
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
        Ok(())
    }
}
