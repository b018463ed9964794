//! The keys that sign access tokens.

use std::{path::PathBuf, time::Duration};

use clap::Args;

use super::{ConfigError, validate::invalid};

#[derive(Debug, Clone, Args)]
pub struct KeySettings {
    /// PEM (PKCS#8) Ed25519 private key that signs access tokens. When unset, a key is generated on
    /// first start and kept in the database, so every replica and restart uses the same one.
    #[arg(
        long,
        global = true,
        env = "AUTH_JWT_PRIVATE_KEY_FILE",
        value_name = "AUTH_JWT_PRIVATE_KEY_FILE"
    )]
    pub jwt_private_key_file: Option<PathBuf>,

    /// How often each replica reloads the signing keys. A rotated-in key starts signing one interval
    /// after `auth-service keys rotate`, so every replica has it by then.
    #[arg(long, global = true, env = "AUTH_KEY_REFRESH_INTERVAL", value_name = "AUTH_KEY_REFRESH_INTERVAL",
          default_value = "60s", value_parser = humantime::parse_duration)]
    pub key_refresh_interval: Duration,
}

impl KeySettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.key_refresh_interval < Duration::from_millis(10)
            || self.key_refresh_interval > Duration::from_secs(3600)
        {
            return Err(invalid(
                "AUTH_KEY_REFRESH_INTERVAL",
                "must be between 10ms and 1h",
            ));
        }
        Ok(())
    }
}
