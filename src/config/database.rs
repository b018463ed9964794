//! Where the data lives, and how the schema gets there.

use clap::Args;

use super::{ConfigError, DEFAULT_DATABASE_URL, validate::invalid};

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// Database URL (sqlite://, postgres://, mysql://). Falls back to DATABASE_URL, then to a SQLite
    /// file auth.db in the working directory.
    #[arg(
        long,
        global = true,
        env = "AUTH_DATABASE_URL",
        value_name = "AUTH_DATABASE_URL"
    )]
    pub database_url: Option<String>,

    #[arg(
        long = "fallback-database-url",
        env = "DATABASE_URL",
        hide = true,
        global = true
    )]
    pub fallback_database_url: Option<String>,

    /// Maximum connections in the database pool (default: 10; 2 for SQLite, which has one writer).
    #[arg(
        long,
        global = true,
        env = "AUTH_DATABASE_MAX_CONNECTIONS",
        value_name = "AUTH_DATABASE_MAX_CONNECTIONS"
    )]
    pub database_max_connections: Option<u32>,

    /// Apply pending migrations when serving starts.
    #[arg(long, global = true, env = "AUTH_MIGRATE_ON_START", value_name = "AUTH_MIGRATE_ON_START",
          default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,
}

impl DatabaseSettings {
    pub fn url(&self) -> &str {
        self.database_url
            .as_deref()
            .or(self.fallback_database_url.as_deref())
            .unwrap_or(DEFAULT_DATABASE_URL)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"]
            .iter()
            .any(|scheme| self.url().starts_with(scheme))
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
        Ok(())
    }
}
