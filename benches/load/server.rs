//! The service under test: a child process on a free loopback port with a fresh database, or an
//! already running target. CPU and memory come from /proc of the child.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every supported architecture.
const TICKS_PER_SECOND: f64 = 100.0;

pub struct Server {
    pub url: String,
    pub database_url: Option<String>,
    child: Option<Child>,
    dropped_database: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    /// The part of `cpu_seconds` spent on the service's argon2 threads.
    pub hashing_cpu_seconds: f64,
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
}

impl Server {
    pub async fn attach(url: String, database_url: Option<String>) -> Self {
        Self {
            url,
            database_url,
            child: None,
            dropped_database: None,
            _dir: None,
        }
    }

    /// Starts the release binary on a fresh database and returns once it reports SERVING, with the
    /// time that took on the second start (the database already migrated).
    pub async fn start(database_url: Option<&str>) -> anyhow::Result<(Self, Duration)> {
        let (database_url, dropped_database, dir) = fresh_database(database_url).await?;
        // Waited for, so that the second start has the database to itself and no zombie is left.
        let (first, _) = Self::spawn(&database_url).await?;
        first.shutdown().await;
        let (mut server, ready_after) = Self::spawn(&database_url).await?;
        server.database_url = Some(database_url);
        server.dropped_database = dropped_database;
        server._dir = dir;
        Ok((server, ready_after))
    }

    async fn spawn(database_url: &str) -> anyhow::Result<(Self, Duration)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .env("AUTH_DATABASE_URL", database_url)
            .env("AUTH_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("AUTH_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("start the service")?;
        let server = Self {
            url: format!("http://127.0.0.1:{port}"),
            database_url: None,
            child: Some(child),
            dropped_database: None,
            _dir: None,
        };
        server.wait_until_serving().await?;
        Ok((server, started.elapsed()))
    }

    async fn wait_until_serving(&self) -> anyhow::Result<()> {
        for _ in 0..2000 {
            if let Ok(channel) = Channel::from_shared(self.url.clone())?.connect().await {
                let status = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await;
                if status
                    .is_ok_and(|response| response.into_inner().status() == ServingStatus::Serving)
                {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        anyhow::bail!("the service did not report SERVING within 10 s")
    }

    /// Waits (at most 10 s) until the child uses under a tenth of a core, so that a limit measured
    /// next has the machine to itself; without a child, waits a fixed 2 s.
    pub async fn wait_until_idle(&self) {
        const SAMPLE: Duration = Duration::from_millis(250);
        let Some(mut before) = self.stats() else {
            tokio::time::sleep(Duration::from_secs(2)).await;
            return;
        };
        for _ in 0..40 {
            tokio::time::sleep(SAMPLE).await;
            let Some(now) = self.stats() else { return };
            if now.cpu_seconds - before.cpu_seconds < SAMPLE.as_secs_f64() / 10.0 {
                return;
            }
            before = now;
        }
    }

    pub fn stats(&self) -> Option<ProcessStats> {
        let pid = self.child.as_ref()?.id();
        let ticks = cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = |key: &str| {
            status
                .lines()
                .find(|line| line.starts_with(key))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        };
        Some(ProcessStats {
            cpu_seconds: ticks / TICKS_PER_SECOND,
            hashing_cpu_seconds: hashing_ticks(pid)? / TICKS_PER_SECOND,
            rss_mib: kib("VmRSS:")? / 1024.0,
            peak_rss_mib: kib("VmHWM:")? / 1024.0,
        })
    }

    fn stop(&self) {
        if let Some(child) = &self.child {
            // SIGTERM: the graceful path, as an orchestrator would stop it.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
    }

    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        if let Some((admin, name)) = self.dropped_database.take()
            && let Ok(conn) = Database::connect(&admin).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE {name}"))
                .await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

type FreshDatabase = (String, Option<(String, String)>, Option<tempfile::TempDir>);

async fn fresh_database(admin_url: Option<&str>) -> anyhow::Result<FreshDatabase> {
    let Some(admin) = admin_url.filter(|url| !url.starts_with("sqlite")) else {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        return Ok((url, None, Some(dir)));
    };
    let name = format!("auth_bench_{}", uuid::Uuid::new_v4().simple());
    let conn = Database::connect(admin)
        .await
        .context("connect to the database server")?;
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    conn.close().await?;
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(base, query)| (base, Some(query)));
    let server = &base[..base.rfind('/').context("the URL names no database")?];
    let url = format!(
        "{server}/{name}{}",
        query.map(|query| format!("?{query}")).unwrap_or_default()
    );
    Ok((url, Some((admin.to_owned(), name)), None))
}

/// utime + stime from a /proc stat line: the 14th and 15th fields, counted from after the
/// parenthesised command name.
fn cpu_ticks(stat: &str) -> Option<f64> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
}

/// CPU ticks of the service's hashing threads, which it names `argon2-N`.
fn hashing_ticks(pid: u32) -> Option<f64> {
    let mut ticks = 0.0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let path = task.path();
        let is_hashing = std::fs::read_to_string(path.join("comm"))
            .is_ok_and(|name| name.starts_with("argon2-"));
        if is_hashing {
            let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
            ticks += cpu_ticks(&stat).unwrap_or(0.0);
        }
    }
    Some(ticks)
}
