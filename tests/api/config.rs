//! Configuration as an operator meets it: defaults, and start-up refusing bad values by name.

use std::{process::Command, time::Duration};

use auth_service::config::{Cli, DEFAULT_DATABASE_URL, LogFormat};
use clap::Parser;

#[test]
fn the_defaults_are_the_documented_production_values() {
    let config = Cli::try_parse_from(["auth-service"]).unwrap().config;
    assert_eq!(
        (
            config.passwords.argon2_memory_kib,
            config.passwords.argon2_iterations,
            config.passwords.argon2_parallelism
        ),
        (19_456, 2, 1)
    );
    assert_eq!(config.tokens.access_token_ttl, Duration::from_secs(15 * 60));
    assert_eq!(
        config.tokens.refresh_token_ttl,
        Duration::from_secs(7 * 24 * 3600)
    );
    assert_eq!(
        config.tokens.session_max_lifetime,
        Duration::from_secs(30 * 24 * 3600)
    );
    assert_eq!(
        (
            config.guessing.lockout_max_failures,
            config.guessing.lockout_window
        ),
        (5, Duration::from_secs(15 * 60))
    );
    assert_eq!(config.passwords.password_min_length, 8);
    assert_eq!(config.server.listen_addr.to_string(), "0.0.0.0:50051");
    assert_eq!(config.server.log_format, LogFormat::Text);
    assert!(config.database.migrate_on_start);
    if std::env::var_os("AUTH_DATABASE_URL").is_none() && std::env::var_os("DATABASE_URL").is_none()
    {
        assert_eq!(config.database.url(), DEFAULT_DATABASE_URL);
    }
    config.validate().unwrap();
}

/// Starts the real binary with one bad variable; it must stop and name that variable.
fn refused_at_start_up(variable: &str, value: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .current_dir(dir.path())
        .env("AUTH_LISTEN_ADDR", "127.0.0.1:0")
        .env("AUTH_DATABASE_URL", "sqlite://auth.db?mode=rwc")
        .env(variable, value)
        .arg("migrate")
        .arg("status")
        .output()
        .unwrap();
    assert!(!output.status.success(), "{variable}={value} was accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_value_stops_start_up_naming_the_variable() {
    for (variable, value) in [
        ("AUTH_ACCESS_TOKEN_TTL", "soon"),
        ("AUTH_REFRESH_TOKEN_TTL", "1000000years"),
        ("AUTH_LISTEN_ADDR", "nowhere"),
        ("AUTH_LOCKOUT_MAX_FAILURES", "0"),
        ("AUTH_PASSWORD_MIN_LENGTH", "500"),
        ("AUTH_ARGON2_MEMORY_KIB", "1"),
        ("AUTH_LOG_FORMAT", "xml"),
        ("AUTH_DATABASE_URL", "oracle://db"),
        ("AUTH_MIGRATE_ON_START", "maybe"),
    ] {
        let stderr = refused_at_start_up(variable, value);
        assert!(stderr.contains(variable), "{variable}: {stderr}");
    }
}

#[test]
fn the_migrate_command_applies_and_reports_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = |action: &str| {
        Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .current_dir(dir.path())
            .env("AUTH_DATABASE_URL", "sqlite://auth.db?mode=rwc")
            .args(["migrate", action])
            .output()
            .unwrap()
    };
    for action in ["up", "status", "down", "up"] {
        let output = migrate(action);
        assert!(
            output.status.success(),
            "migrate {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(dir.path().join("auth.db").exists());
}
