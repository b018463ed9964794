//! Password policy and the argon2id work behind every hash.

use std::time::Duration;

use clap::Args;

use super::{ConfigError, validate::invalid};
use crate::domain::PASSWORD_MAX_LENGTH;

#[derive(Debug, Clone, Args)]
pub struct PasswordSettings {
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
}

impl PasswordSettings {
    pub fn hashing_threads(&self) -> usize {
        self.hashing_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }

    /// The argon2 parameters new hashes are made with.
    pub fn argon2_params(&self) -> Result<argon2::Params, ConfigError> {
        argon2::Params::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
            None,
        )
        .map_err(|error| {
            invalid(
                "AUTH_ARGON2_MEMORY_KIB/AUTH_ARGON2_ITERATIONS/AUTH_ARGON2_PARALLELISM",
                error.to_string(),
            )
        })
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=PASSWORD_MAX_LENGTH).contains(&self.password_min_length) {
            return Err(invalid(
                "AUTH_PASSWORD_MIN_LENGTH",
                format!("must be between 1 and {PASSWORD_MAX_LENGTH}"),
            ));
        }
        if self.hashing_threads == Some(0) {
            return Err(invalid("AUTH_HASHING_THREADS", "must be at least 1"));
        }
        self.argon2_params().map(|_| ())
    }
}
