//! Every setting: one struct, each field an `AUTH_*` variable and a flag of the same meaning.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

use super::{DEFAULT_DATABASE_URL, LogFormat};

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL (sqlite://, postgres://, mysql://). Falls back to DATABASE_URL, then to a SQLite
    /// file auth.db in the working directory.
    #[arg(
        long,
        global = true,
        env = "AUTH_DATABASE_URL",
        value_name = "AUTH_DATABASE_URL",
        global = true
    )]
    pub database_url: Option<String>,

    #[arg(
        long = "fallback-database-url",
        env = "DATABASE_URL",
        hide = true,
        global = true
    )]
    pub fallback_database_url: Option<String>,

    /// Maximum connections in the database pool (default: 10; 5 for SQLite, which has one writer).
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

    /// Address the gRPC server listens on.
    #[arg(
        long,
        global = true,
        env = "AUTH_LISTEN_ADDR",
        value_name = "AUTH_LISTEN_ADDR",
        default_value = "0.0.0.0:50051"
    )]
    pub listen_addr: SocketAddr,

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

    /// Peers (CIDRs, comma-separated) whose ClientInfo and x-forwarded-for are believed. Any other
    /// caller is identified by its own address, so it cannot dodge the throttle by claiming another.
    #[arg(
        long,
        global = true,
        env = "AUTH_TRUSTED_PROXIES",
        value_name = "AUTH_TRUSTED_PROXIES",
        default_value = "127.0.0.0/8,::1/128",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Minimum password length in characters (NIST 800-63B-4 advises 15 when it is the only factor).
    #[arg(
        long,
        global = true,
        env = "AUTH_PASSWORD_MIN_LENGTH",
        value_name = "AUTH_PASSWORD_MIN_LENGTH",
        default_value_t = 8
    )]
    pub password_min_length: usize,

    /// Argon2id memory cost in KiB (OWASP: 19456).
    #[arg(
        long,
        global = true,
        env = "AUTH_ARGON2_MEMORY_KIB",
        value_name = "AUTH_ARGON2_MEMORY_KIB",
        default_value_t = 19_456
    )]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations (OWASP: 2).
    #[arg(
        long,
        global = true,
        env = "AUTH_ARGON2_ITERATIONS",
        value_name = "AUTH_ARGON2_ITERATIONS",
        default_value_t = 2
    )]
    pub argon2_iterations: u32,

    /// Argon2id lanes (OWASP: 1).
    #[arg(
        long,
        global = true,
        env = "AUTH_ARGON2_PARALLELISM",
        value_name = "AUTH_ARGON2_PARALLELISM",
        default_value_t = 1
    )]
    pub argon2_parallelism: u32,

    /// Password hashes computed at once (default: the number of cores).
    #[arg(
        long,
        global = true,
        env = "AUTH_HASHING_THREADS",
        value_name = "AUTH_HASHING_THREADS"
    )]
    pub hashing_threads: Option<usize>,

    /// How long a login or registration waits for a hashing thread before it is refused with
    /// RESOURCE_EXHAUSTED, rather than queueing without bound.
    #[arg(long, global = true, env = "AUTH_HASHING_QUEUE_TIMEOUT", value_name = "AUTH_HASHING_QUEUE_TIMEOUT",
          default_value = "1s", value_parser = humantime::parse_duration)]
    pub hashing_queue_timeout: Duration,

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

    /// How often the health probe pings the database.
    #[arg(long, global = true, env = "AUTH_HEALTH_PROBE_INTERVAL", value_name = "AUTH_HEALTH_PROBE_INTERVAL",
          default_value = "5s", value_parser = humantime::parse_duration)]
    pub health_probe_interval: Duration,

    /// How long shutdown waits for in-flight calls and open streams before it closes them.
    #[arg(long, global = true, env = "AUTH_SHUTDOWN_TIMEOUT", value_name = "AUTH_SHUTDOWN_TIMEOUT",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Log format: text for people, json for collectors. Levels come from RUST_LOG (default info).
    #[arg(
        long,
        global = true,
        env = "AUTH_LOG_FORMAT",
        value_name = "AUTH_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

impl Config {
    pub fn retention(&self) -> crate::housekeeping::Retention {
        crate::housekeeping::Retention {
            refresh_tokens: self.cleanup_refresh_tokens_after,
            login_attempts: self.cleanup_login_attempts_after,
            batch_size: self.cleanup_batch_size,
        }
    }

    pub fn database_url(&self) -> &str {
        self.database_url
            .as_deref()
            .or(self.fallback_database_url.as_deref())
            .unwrap_or(DEFAULT_DATABASE_URL)
    }

    pub fn hashing_threads(&self) -> usize {
        self.hashing_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }
}
