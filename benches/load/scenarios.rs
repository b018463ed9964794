//! The callers: each loops on its RPC until the window closes, recording only after the warm-up.

use std::time::Duration;

use auth_service::grpc::proto::{
    ClientInfo, GetJwksRequest, LoginRequest, RefreshRequest, RegisterRequest,
    ValidateTokenRequest, auth_service_client::AuthServiceClient,
};
use tonic::{Code, Status, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::{options::Scenario, report::Recorder, window::Window};

pub const PASSWORD: &str = "load bench passphrase 2026";

/// The clients of one caller, on the connection it was given.
#[derive(Clone)]
pub struct Caller {
    pub auth: AuthServiceClient<Channel>,
    pub health: HealthClient<Channel>,
    pub email: String,
    /// Sent as ClientInfo, as a gateway would for distinct users: one address per caller, so the
    /// per-address throttle sees what it would in production.
    pub ip_address: String,
}

impl Caller {
    fn login_request(&self) -> LoginRequest {
        let client = ClientInfo {
            ip_address: self.ip_address.clone(),
            user_agent: "load-bench".into(),
        };
        LoginRequest {
            email: self.email.clone(),
            password: PASSWORD.into(),
            client: Some(client),
        }
    }

    pub async fn login(&mut self) -> Result<auth_service::grpc::proto::TokenPair, Status> {
        let request = self.login_request();
        let tokens = self.auth.login(request).await?.into_inner().tokens;
        tokens.ok_or_else(|| Status::internal("no tokens"))
    }
}

/// Runs `scenario` with one task per caller; returns each RPC's merged recorder.
pub async fn run(
    scenario: Scenario,
    callers: Vec<Caller>,
    window: Window,
) -> Vec<(&'static str, Recorder)> {
    let tasks: Vec<_> = callers
        .into_iter()
        .enumerate()
        .map(|(index, caller)| tokio::spawn(call_in_a_loop(scenario, index, caller, window)))
        .collect();
    let mut merged: Vec<(&'static str, Recorder)> = Vec::new();
    for task in tasks {
        for (rpc, recorder) in task.await.unwrap_or_default() {
            match merged.iter_mut().find(|(name, _)| *name == rpc) {
                Some((_, total)) => *total = std::mem::take(total).merge(recorder),
                None => merged.push((rpc, recorder)),
            }
        }
    }
    merged
}

async fn call_in_a_loop(
    scenario: Scenario,
    index: usize,
    mut caller: Caller,
    window: Window,
) -> Vec<(&'static str, Recorder)> {
    let mut main = Recorder::default();
    match scenario {
        Scenario::Health => {
            while window.open() {
                let request = HealthCheckRequest {
                    service: String::new(),
                };
                window.time(&mut main, caller.health.check(request)).await;
            }
            vec![("Health.Check", main)]
        }
        Scenario::Register => {
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            let mut n = 0u64;
            while window.open() {
                n += 1;
                let request = RegisterRequest {
                    email: format!("r{index}x{n}x{nonce}@load.example"),
                    password: PASSWORD.into(),
                    ..Default::default()
                };
                window.time(&mut main, caller.auth.register(request)).await;
            }
            vec![("Register", main)]
        }
        Scenario::Login | Scenario::Contention => {
            while window.open() {
                let request = caller.login_request();
                window.time(&mut main, caller.auth.login(request)).await;
            }
            vec![("Login", main)]
        }
        Scenario::Refresh => {
            let Ok(mut tokens) = caller.login().await else {
                return vec![];
            };
            while window.open() {
                let request = RefreshRequest {
                    refresh_token: tokens.refresh_token.clone(),
                    client: None,
                };
                match window.time(&mut main, caller.auth.refresh(request)).await {
                    Some(response) => tokens = response.into_inner().tokens.unwrap_or(tokens),
                    // A broken chain starts again from a login, outside the figures.
                    None => match caller.login().await {
                        Ok(fresh) => tokens = fresh,
                        Err(_) => break,
                    },
                }
            }
            vec![("Refresh", main)]
        }
        Scenario::Validate => {
            let Ok(tokens) = caller.login().await else {
                return vec![];
            };
            while window.open() {
                let request = ValidateTokenRequest {
                    access_token: tokens.access_token.clone(),
                };
                window
                    .time(&mut main, caller.auth.validate_token(request))
                    .await;
            }
            vec![("ValidateToken", main)]
        }
        Scenario::Jwks => {
            while window.open() {
                window
                    .time(&mut main, caller.auth.get_jwks(GetJwksRequest {}))
                    .await;
            }
            vec![("GetJwks", main)]
        }
        Scenario::Mixed => mixed(caller, window).await,
    }
}

/// 1 Login : 10 Refresh : 100 ValidateToken, in that rhythm, per caller.
async fn mixed(mut caller: Caller, window: Window) -> Vec<(&'static str, Recorder)> {
    let (mut logins, mut refreshes, mut validations) = (
        Recorder::default(),
        Recorder::default(),
        Recorder::default(),
    );
    while window.open() {
        let request = caller.login_request();
        let Some(login) = window.time(&mut logins, caller.auth.login(request)).await else {
            continue;
        };
        let Some(mut tokens) = login.into_inner().tokens else {
            continue;
        };
        for _ in 0..10 {
            let request = RefreshRequest {
                refresh_token: tokens.refresh_token.clone(),
                client: None,
            };
            match window
                .time(&mut refreshes, caller.auth.refresh(request))
                .await
            {
                Some(response) => tokens = response.into_inner().tokens.unwrap_or(tokens),
                None => break,
            }
            for _ in 0..10 {
                let request = ValidateTokenRequest {
                    access_token: tokens.access_token.clone(),
                };
                window
                    .time(&mut validations, caller.auth.validate_token(request))
                    .await;
            }
        }
    }
    vec![
        ("Login", logins),
        ("Refresh", refreshes),
        ("ValidateToken", validations),
    ]
}

/// Registers `count` users for the callers (argon2 at production cost, so done once), a few at a
/// time and retrying when the service says it is busy, as a well-behaved client would.
pub async fn register_users(channels: &[Channel], count: usize) -> anyhow::Result<Vec<String>> {
    const AT_ONCE: usize = 8;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let emails: Vec<String> = (0..count)
        .map(|i| format!("u{i}x{nonce}@load.example"))
        .collect();
    for (batch, chunk) in emails.chunks(AT_ONCE).enumerate() {
        let registrations: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, email)| {
                let mut client = AuthServiceClient::new(
                    channels[(batch * AT_ONCE + i) % channels.len()].clone(),
                );
                let email = email.clone();
                tokio::spawn(async move {
                    for _ in 0..100 {
                        let request = RegisterRequest {
                            email: email.clone(),
                            password: PASSWORD.into(),
                            ..Default::default()
                        };
                        match client.register(request).await {
                            Err(status) if status.code() == Code::ResourceExhausted => {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                            Err(status) if status.code() == Code::AlreadyExists => return Ok(()),
                            other => return other.map(|_| ()),
                        }
                    }
                    Err(Status::resource_exhausted("still busy after 100 tries"))
                })
            })
            .collect();
        for registration in registrations {
            registration
                .await?
                .map_err(|status| anyhow::anyhow!("registering a bench user: {status}"))?;
        }
    }
    Ok(emails)
}
