//! Configuration: one struct, read from `AUTH_*` environment variables or the flags of the same
//! meaning, validated once at start-up and passed down. Nothing reads the environment afterwards.

mod database;
mod edge;
mod guessing;
mod housekeeping;
mod keys;
mod passwords;
mod server;
mod tls;
mod tokens;
mod validate;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use database::DatabaseSettings;
pub use edge::{EdgeSettings, is_http_url};
pub use guessing::GuessingSettings;
pub use housekeeping::HousekeepingSettings;
pub use keys::KeySettings;
pub use passwords::PasswordSettings;
pub use server::ServerSettings;
pub use tls::{TlsFiles, TlsSettings};
pub use tokens::TokenSettings;
pub use validate::ConfigError;

/// The SQLite file used when no database is configured: created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://auth.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(name = "auth-service", version, about = "gRPC authentication service")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every setting, in groups; each group is one file and checks its own values.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub tokens: TokenSettings,
    #[command(flatten)]
    pub keys: KeySettings,
    #[command(flatten)]
    pub guessing: GuessingSettings,
    #[command(flatten)]
    pub passwords: PasswordSettings,
    #[command(flatten)]
    pub housekeeping: HousekeepingSettings,
    #[command(flatten)]
    pub edge: EdgeSettings,
    #[command(flatten)]
    pub tls: TlsSettings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply pending migrations (unless switched off) and serve gRPC. The default.
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Delete old refresh tokens and login attempts once, now (serving does it periodically).
    Cleanup,
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage accounts from the command line; this is how the first admin comes to exist.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key current. Running replicas publish it within
    /// AUTH_KEY_REFRESH_INTERVAL and sign with it from then on; older keys keep verifying until
    /// every token they signed has expired, then retire. No restart needed.
    Rotate,
    /// List every signing key with its activation and retirement times.
    List,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Create an admin account. The password is read from standard input (one trailing newline is
    /// dropped), or from --password-file.
    CreateAdmin {
        /// The admin's email address.
        #[arg(long)]
        email: String,
        /// A file holding the password, instead of standard input.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Give an existing account a role. The last active admin cannot be demoted.
    SetRole {
        /// The account's email address.
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    User,
    Admin,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the last applied migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and apply all migrations again. Destroys all data.
    Fresh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
