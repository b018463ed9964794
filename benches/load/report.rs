//! Latencies and errors per RPC, and the table or JSON they are reported as.

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;
use tonic::Code;

/// What one caller saw of one RPC.
#[derive(Debug, Default)]
pub struct Recorder {
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn record(&mut self, elapsed: Duration, outcome: Result<(), Code>) {
        match outcome {
            Ok(()) => self
                .latencies_us
                .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX)),
            Err(code) => *self.errors.entry(format!("{code:?}")).or_default() += 1,
        }
    }

    pub fn merge(mut self, other: Recorder) -> Recorder {
        self.latencies_us.extend(other.latencies_us);
        for (code, count) in other.errors {
            *self.errors.entry(code).or_default() += count;
        }
        self
    }

    pub fn calls(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    /// Whether any call finished in the window, served or refused.
    pub fn took_part(&self) -> bool {
        !self.latencies_us.is_empty() || !self.errors.is_empty()
    }
}

#[derive(Debug, Serialize)]
pub struct RpcResult {
    pub scenario: String,
    pub rpc: String,
    pub concurrency: usize,
    pub calls_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
    pub server_cpu_ms_per_call: Option<f64>,
    /// The part of `server_cpu_ms_per_call` spent on the hashing threads.
    pub server_hashing_cpu_ms_per_call: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub server_peak_rss_mib: Option<f64>,
    pub limit_name: Option<String>,
    pub limit_per_second: Option<f64>,
    pub ratio_to_limit: Option<f64>,
}

impl RpcResult {
    pub fn new(
        scenario: &str,
        rpc: &str,
        concurrency: usize,
        recorder: Recorder,
        measured: Duration,
    ) -> Self {
        let mut latencies = recorder.latencies_us;
        latencies.sort_unstable();
        let percentile = |p: f64| -> f64 {
            if latencies.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
            f64::from(latencies[rank.clamp(1, latencies.len()) - 1]) / 1000.0
        };
        Self {
            scenario: scenario.to_owned(),
            rpc: rpc.to_owned(),
            concurrency,
            calls_per_second: latencies.len() as f64 / measured.as_secs_f64(),
            p50_ms: percentile(50.0),
            p90_ms: percentile(90.0),
            p99_ms: percentile(99.0),
            p999_ms: percentile(99.9),
            max_ms: percentile(100.0),
            errors: recorder.errors,
            server_cpu_ms_per_call: None,
            server_hashing_cpu_ms_per_call: None,
            server_rss_mib: None,
            server_peak_rss_mib: None,
            limit_name: None,
            limit_per_second: None,
            ratio_to_limit: None,
        }
    }

    pub fn against(mut self, name: &str, limit: Option<f64>) -> Self {
        if let Some(limit) = limit.filter(|limit| *limit > 0.0) {
            self.limit_name = Some(name.to_owned());
            self.limit_per_second = Some(limit);
            self.ratio_to_limit = Some(self.calls_per_second / limit);
        }
        self
    }
}

pub fn print(results: &[RpcResult], json: bool) {
    if json {
        for result in results {
            if let Ok(line) = serde_json::to_string(result) {
                println!("{line}");
            }
        }
        return;
    }
    println!(
        "{:<11} {:<14} {:>4} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>18} {:>9} {:>6}  errors",
        "scenario",
        "rpc",
        "conc",
        "calls/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9",
        "max ms",
        "cpu ms",
        "hash ms",
        "rss MiB",
        "limit",
        "limit/s",
        "ratio"
    );
    for r in results {
        let errors: Vec<String> = r
            .errors
            .iter()
            .map(|(code, count)| format!("{code}={count}"))
            .collect();
        println!(
            "{:<11} {:<14} {:>4} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>8} {:>8} {:>18} {:>9} {:>6}  {}",
            r.scenario,
            r.rpc,
            r.concurrency,
            r.calls_per_second,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.p999_ms,
            r.max_ms,
            r.server_cpu_ms_per_call
                .map_or("-".into(), |v| format!("{v:.3}")),
            r.server_hashing_cpu_ms_per_call
                .map_or("-".into(), |v| format!("{v:.3}")),
            r.server_rss_mib.map_or("-".into(), |v| format!("{v:.1}")),
            r.limit_name.as_deref().unwrap_or("-"),
            r.limit_per_second.map_or("-".into(), |v| format!("{v:.0}")),
            r.ratio_to_limit.map_or("-".into(), |v| format!("{v:.2}")),
            errors.join(" "),
        );
    }
}
