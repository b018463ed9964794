//! `cargo bench --bench load -- [options]`: drives the auth.v1 contract over real gRPC and prints
//! each RPC's throughput and latency next to the physical limit it is held against. See
//! docs/PERFORMANCE.md for what the figures mean and how to reproduce them.

// A failed expect here is a failed benchmark run, as in a test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod busy;
mod limits;
mod options;
mod report;
mod scenarios;
mod server;
mod window;

use std::collections::HashMap;

use auth_service::{auth::password::HashingParams, config::Cli};
use clap::Parser;
use tonic::transport::Channel;

use options::{Options, Scenario};
use report::RpcResult;
use scenarios::Caller;
use server::Server;
use window::Window;

/// The most callers any scenario uses: the contention scenario's 64 logins plus its validators.
const LOGINS_UNDER_CONTENTION: usize = 64;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let server = match &options.target {
        Some(url) => Server::attach(url.clone(), options.database_url.clone()).await,
        None => {
            let (server, ready_after) = Server::start(options.database_url.as_deref()).await?;
            eprintln!(
                "started; on a migrated database it reported SERVING after {} ms",
                ready_after.as_millis()
            );
            server
        }
    };
    let channels = connect(&server.url, options.connections).await?;
    if let Some(stats) = server.stats() {
        eprintln!("idle after start: RSS {:.1} MiB", stats.rss_mib);
    }
    let most_callers =
        options.concurrency.iter().copied().max().unwrap_or(1) + LOGINS_UNDER_CONTENTION;
    let emails = scenarios::register_users(&channels, most_callers).await?;
    if let Some(stats) = server.stats() {
        eprintln!(
            "after registering the bench users: RSS {:.1} MiB (hashing threads hold their argon2 memory for 30 s)",
            stats.rss_mib
        );
    }

    // The service's own parameters: the bench reads the same environment the child inherits.
    let config = Cli::try_parse_from(["auth-service"])?.config;
    let params = HashingParams::from(config.passwords.argon2_params()?);
    let argon2_limit = limits::argon2_verifications_per_second(
        &params,
        config.passwords.hashing_threads(),
        options.duration,
    );
    eprintln!(
        "argon2id m={} t={} p={} on {} threads: {argon2_limit:.1} verifications/s",
        params.memory_kib(),
        params.iterations(),
        params.parallelism(),
        config.passwords.hashing_threads()
    );

    let mut results = Vec::new();
    let mut health_ceiling: HashMap<usize, f64> = HashMap::new();
    for &concurrency in &options.concurrency {
        for &scenario in &options.scenarios {
            let callers_of = |users: std::ops::Range<usize>| -> Vec<Caller> {
                users.map(|i| caller(&channels, i, &emails[i])).collect()
            };
            // Under contention the run's callers validate, beside logins of users of their own.
            let (mut callers, mut validators) = if scenario == Scenario::Contention {
                let logins = concurrency..concurrency + LOGINS_UNDER_CONTENTION;
                (callers_of(logins), callers_of(0..concurrency))
            } else {
                (callers_of(0..concurrency), Vec::new())
            };
            if scenario.needs_sessions() {
                scenarios::sign_in(&mut callers).await?;
            }
            if scenario == Scenario::Locked {
                scenarios::lock_out(&mut callers).await?;
            }
            scenarios::sign_in(&mut validators).await?;
            // One caller never has two logins in flight, so the limit is measured on as many
            // threads as these callers can keep busy. Half of it is measured just before the run
            // and half just after, each on an idle server, so that the machine's drift during the
            // run weighs on both sides of the ratio alike.
            let hashing_threads = concurrency.min(config.passwords.hashing_threads());
            let hashes_per_run = matches!(scenario, Scenario::Login | Scenario::Register);
            let argon2_before = if hashes_per_run {
                server.wait_until_idle().await;
                Some(limits::argon2_verifications_per_second(
                    &params,
                    hashing_threads,
                    options.duration / 2,
                ))
            } else {
                None
            };
            let window = Window::new(options.warmup, options.duration);
            // Server CPU is read over the measured part of the window only: not the warm-up, and
            // not the calls that finish after it closes, which are not counted either.
            let measuring_starts = async {
                window.measuring_starts().await;
                server.stats()
            };
            let measuring_ends = async {
                window.closes().await;
                server.stats()
            };
            let run = async {
                if scenario == Scenario::Contention {
                    let (logins, validations) = tokio::join!(
                        scenarios::run(Scenario::Contention, callers, window),
                        scenarios::run(Scenario::Validate, validators, window),
                    );
                    logins.into_iter().chain(validations).collect::<Vec<_>>()
                } else {
                    scenarios::run(scenario, callers, window).await
                }
            };
            let (before, after, mut recorded) = tokio::join!(measuring_starts, measuring_ends, run);
            let total_calls: u64 = recorded.iter().map(|(_, recorder)| recorder.calls()).sum();
            let scenario_name = format!("{scenario:?}").to_lowercase();
            for (rpc, recorder) in recorded.drain(..) {
                let mut result = RpcResult::new(
                    &scenario_name,
                    rpc,
                    concurrency,
                    recorder,
                    window.measured(),
                );
                if let (Some(before), Some(after)) = (before, after) {
                    // Server CPU over the whole window, shared out over every call it served.
                    let per_call =
                        |seconds: f64| Some(seconds * 1000.0 / total_calls.max(1) as f64);
                    result.server_cpu_ms_per_call =
                        per_call(after.cpu_seconds - before.cpu_seconds);
                    result.server_hashing_cpu_ms_per_call =
                        per_call(after.hashing_cpu_seconds - before.hashing_cpu_seconds);
                    result.server_rss_mib = Some(after.rss_mib);
                    result.server_peak_rss_mib = Some(after.peak_rss_mib);
                }
                let result = match rpc {
                    "Health.Check" => {
                        health_ceiling.insert(concurrency, result.calls_per_second);
                        result
                    }
                    "Login" | "Register" if hashes_per_run => {
                        server.wait_until_idle().await;
                        let after = limits::argon2_verifications_per_second(
                            &params,
                            hashing_threads,
                            options.duration / 2,
                        );
                        // The first half, measured before the run whenever `hashes_per_run`.
                        let before = argon2_before.unwrap_or(after);
                        eprintln!(
                            "{scenario_name} at {concurrency}: argon2 x{hashing_threads} {before:.1}/s before, {after:.1}/s after"
                        );
                        let limit = (before + after) / 2.0;
                        result.against(&format!("argon2 x{hashing_threads}"), Some(limit))
                    }
                    "Login" | "Register" => result.against("argon2", Some(argon2_limit)),
                    "ValidateToken" | "GetJwks" => {
                        result.against("Health.Check", health_ceiling.get(&concurrency).copied())
                    }
                    "Refresh" if scenario == Scenario::Refresh => {
                        let limit = raw_rotation_limit(
                            &server,
                            &channels,
                            &emails[..concurrency],
                            &options,
                        )
                        .await;
                        result.against("raw rotation txn", limit)
                    }
                    _ => result,
                };
                results.push(result);
            }
        }
    }
    report::print(&results, options.json);
    server.shutdown().await;
    Ok(())
}

async fn connect(url: &str, connections: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    for _ in 0..connections.max(1) {
        channels.push(Channel::from_shared(url.to_owned())?.connect().await?);
    }
    Ok(channels)
}

fn caller(channels: &[Channel], index: usize, email: &str) -> Caller {
    let channel = channels[index % channels.len()].clone();
    Caller {
        auth: auth_service::grpc::proto::auth_service_client::AuthServiceClient::new(
            channel.clone(),
        ),
        health: tonic_health::pb::health_client::HealthClient::new(channel),
        email: email.to_owned(),
        ip_address: format!(
            "10.{}.{}.{}",
            (index >> 16) & 0xff,
            (index >> 8) & 0xff,
            index & 0xff
        ),
        tokens: None,
    }
}

/// The raw rotation transaction at the same concurrency, on fresh sessions of the same users.
async fn raw_rotation_limit(
    server: &Server,
    channels: &[Channel],
    emails: &[String],
    options: &Options,
) -> Option<f64> {
    let database_url = server.database_url.as_deref()?;
    let mut callers: Vec<Caller> = emails
        .iter()
        .enumerate()
        .map(|(i, email)| caller(channels, i, email))
        .collect();
    if let Err(error) = scenarios::sign_in(&mut callers).await {
        eprintln!("no raw rotation limit: {error:#}");
        return None;
    }
    let tokens = callers
        .into_iter()
        .filter_map(|caller| caller.tokens)
        .map(|tokens| tokens.refresh_token)
        .collect();
    limits::raw_rotations_per_second(database_url, tokens, options.duration)
        .await
        .ok()
}
