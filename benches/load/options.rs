use std::time::Duration;

use clap::Parser;

/// Load generator for the auth.v1 contract. Every figure is measured on this machine, in this run,
/// next to the limit it is held against.
#[derive(Debug, Parser)]
#[command(name = "load")]
pub struct Options {
    /// Drive an already running server (any auth.v1 implementation) instead of starting one.
    #[arg(long)]
    pub target: Option<String>,
    /// Where the started server keeps its data: a SQLite file by default; a postgres:// or mysql://
    /// URL of a server where a fresh database is created (and dropped afterwards). With --target,
    /// the target's database, for the raw rotation limit.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Scenarios to run, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "health,validate,jwks,refresh,login,register,mixed,contention,locked"
    )]
    pub scenarios: Vec<Scenario>,
    /// Concurrent callers; each value is a separate run of every scenario.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub concurrency: Vec<usize>,
    /// HTTP/2 connections the callers are spread over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// How long each scenario is measured.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// How long each scenario runs before measuring.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// One JSON object per RPC and run, instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// grpc.health.v1 Check: the gRPC ceiling.
    Health,
    Register,
    /// Pre-registered users, right passwords, never tripping the lockout.
    Login,
    /// Each caller follows its own rotation chain.
    Refresh,
    Validate,
    Jwks,
    /// 1 Login : 10 Refresh : 100 ValidateToken per caller, reported per RPC.
    Mixed,
    /// ValidateToken while 64 concurrent logins saturate the hashing pool.
    Contention,
    /// Wrong guesses at emails already locked out, each refused: what an attacker keeps getting,
    /// which must stay cheap however many refusals came before.
    Locked,
}

impl Scenario {
    /// Whether each caller needs a session of its own, opened before the window.
    pub fn needs_sessions(self) -> bool {
        matches!(self, Scenario::Refresh | Scenario::Validate)
    }
}
