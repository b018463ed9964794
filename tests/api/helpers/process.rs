//! The real release binary as a child process: what operators run, with its own runtime, pool
//! and caches, on the database of a TestApp.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use auth_service::grpc::proto::{
    LoginRequest, LoginResponse, auth_service_client::AuthServiceClient,
};
use serde_json::Value;
use tonic::transport::Channel;

pub struct ServerProcess {
    child: Child,
    pub channel: Channel,
    pub client: AuthServiceClient<Channel>,
}

impl ServerProcess {
    /// Starts the binary on a free loopback port with JSON logs and cheap hashing; `env` adds or
    /// overrides settings. Returns once it accepts connections (bounded: 10 s).
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .env("AUTH_DATABASE_URL", database_url)
            .env("AUTH_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("AUTH_LOG_FORMAT", "json")
            .env("AUTH_ARGON2_MEMORY_KIB", "64")
            .env("AUTH_ARGON2_ITERATIONS", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let channel = connect(port).await;
        Self {
            child,
            client: AuthServiceClient::new(channel.clone()),
            channel,
        }
    }

    /// Logs in with the test password.
    pub async fn login(&self, email: &str) -> LoginResponse {
        let login = LoginRequest {
            email: email.into(),
            password: super::PASSWORD.into(),
            client: None,
        };
        self.client.clone().login(login).await.unwrap().into_inner()
    }

    /// SIGTERM, then every JSON line the process logged.
    pub fn stop(mut self) -> Vec<Value> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let lines = BufReader::new(self.child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect();
        assert!(self.child.wait().unwrap().success(), "a clean shutdown");
        lines
    }
}

/// A failed test must not leave a server running (or holding its output pipe open).
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn connect(port: u16) -> Channel {
    for _ in 0..500 {
        if let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the service never listened");
}
