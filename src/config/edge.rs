//! What the HTTP side of the listener tells gateways: where the keys are and how long to cache them.

use std::time::Duration;

use clap::Args;

use super::{ConfigError, validate::invalid};

#[derive(Debug, Clone, Args)]
pub struct EdgeSettings {
    /// The URL clients reach this service at (e.g. https://auth.example.com). Discovery builds
    /// `jwks_uri` from it when AUTH_ISSUER is not itself a URL.
    #[arg(
        long,
        global = true,
        env = "AUTH_PUBLIC_URL",
        value_name = "AUTH_PUBLIC_URL"
    )]
    pub public_url: Option<String>,

    /// How long gateways may cache the HTTP JWK Set. `keys rotate` delays a new key's first
    /// signature by this much beyond AUTH_KEY_REFRESH_INTERVAL, so no cached set lacks it.
    #[arg(long, global = true, env = "AUTH_JWKS_MAX_AGE", value_name = "AUTH_JWKS_MAX_AGE",
          default_value = "5m", value_parser = humantime::parse_duration)]
    pub jwks_max_age: Duration,
}

impl EdgeSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url
            && !is_http_url(url)
        {
            return Err(invalid(
                "AUTH_PUBLIC_URL",
                "must start with http:// or https://",
            ));
        }
        if self.jwks_max_age > Duration::from_secs(3600) {
            return Err(invalid("AUTH_JWKS_MAX_AGE", "must be at most 1h"));
        }
        Ok(())
    }
}

pub fn is_http_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}
