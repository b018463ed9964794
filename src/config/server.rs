//! The listener, who is believed about client addresses, health, shutdown and logs.

use std::{net::SocketAddr, time::Duration};

use clap::Args;

use super::{ConfigError, LogFormat, validate::invalid};

#[derive(Debug, Clone, Args)]
pub struct ServerSettings {
    /// Address the gRPC server listens on.
    #[arg(
        long,
        global = true,
        env = "AUTH_LISTEN_ADDR",
        value_name = "AUTH_LISTEN_ADDR",
        default_value = "0.0.0.0:50051"
    )]
    pub listen_addr: SocketAddr,

    /// When set, auth.v1.AdminService is served only on this address (with health and reflection
    /// of its own), and the main listener neither serves nor lists it.
    #[arg(
        long,
        global = true,
        env = "AUTH_ADMIN_LISTEN_ADDR",
        value_name = "AUTH_ADMIN_LISTEN_ADDR"
    )]
    pub admin_listen_addr: Option<SocketAddr>,

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

impl ServerSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.health_probe_interval < Duration::from_millis(10) {
            return Err(invalid(
                "AUTH_HEALTH_PROBE_INTERVAL",
                "must be at least 10ms",
            ));
        }
        Ok(())
    }
}
