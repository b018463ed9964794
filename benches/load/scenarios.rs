//! The callers: each loops on its RPC until the window closes, recording only after the warm-up.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use auth_service::grpc::proto::{
    ClientInfo, GetJwksRequest, LoginRequest, RefreshRequest, RegisterRequest, TokenPair,
    ValidateTokenRequest, auth_service_client::AuthServiceClient,
};
use tonic::{Code, Status, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::{
    busy::{SET_UP, retry_while_busy},
    options::Scenario,
    report::Recorder,
    window::Window,
};

/// Set-up calls in flight at once: each costs an argon2 hash at production cost.
const SET_UP_AT_ONCE: usize = 8;

/// A wrong password for every bench email.
const WRONG_PASSWORD: &str = "not the load bench passphrase";

/// Addresses handed out to locked-out callers so far: each run of the scenario guesses from
/// addresses of its own, so its failures count against no other run's throttle.
static GUESSING_ADDRESSES: AtomicUsize = AtomicUsize::new(0);

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
    /// The session of a caller that needs one, opened by [`sign_in`] before the window.
    pub tokens: Option<TokenPair>,
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

    fn guess(&self) -> LoginRequest {
        LoginRequest {
            password: WRONG_PASSWORD.into(),
            ..self.login_request()
        }
    }

    /// A wrong guess at a locked email, which counts when it is refused as locked (or throttled):
    /// RESOURCE_EXHAUSTED with a retry-after, unlike a busy refusal.
    async fn refused_guess(&self) -> Result<(), Status> {
        match self.auth.clone().login(self.guess()).await {
            Err(status) if is_locked_out(&status) => Ok(()),
            Err(status) => Err(status),
            Ok(_) => Err(Status::internal("a wrong password signed in")),
        }
    }

    /// Guesses until the email is locked; a busy refusal is waited out.
    async fn guess_until_locked(&self) -> Result<(), Status> {
        for _ in 0..SET_UP.tries {
            match self.auth.clone().login(self.guess()).await {
                Err(status) if is_locked_out(&status) => return Ok(()),
                Err(status) if status.code() == Code::Unauthenticated => {}
                Err(status) if status.code() == Code::ResourceExhausted => {
                    tokio::time::sleep(SET_UP.pause).await;
                }
                Err(status) => return Err(status),
                Ok(_) => return Err(Status::internal("a wrong password signed in")),
            }
        }
        Err(Status::deadline_exceeded("the email did not lock"))
    }

    /// Logs in, trying again while the service is busy.
    async fn login(&self) -> Result<TokenPair, Status> {
        retry_while_busy(SET_UP, || {
            let mut auth = self.auth.clone();
            let request = self.login_request();
            async move {
                let tokens = auth.login(request).await?.into_inner().tokens;
                tokens.ok_or_else(|| Status::internal("no tokens"))
            }
        })
        .await
    }
}

/// Opens every caller's session before the window does, a few at a time. Callers used to log in
/// as the window opened, all at once: those the full hashing pool refused left the run unseen (26
/// of 64 in one run), and the rest were measured as if they were 64.
pub async fn sign_in(callers: &mut [Caller]) -> anyhow::Result<()> {
    let logins = callers.iter().map(|caller| {
        let caller = caller.clone();
        async move { caller.login().await }
    });
    let sessions = a_few_at_a_time(logins)
        .await
        .context("signing the callers in")?;
    for (caller, tokens) in callers.iter_mut().zip(sessions) {
        caller.tokens = Some(tokens);
    }
    Ok(())
}

/// Points each caller at an email nobody registered, from an address no other run used, and
/// guesses wrong until the email is locked out.
pub async fn lock_out(callers: &mut [Caller]) -> anyhow::Result<()> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let first = GUESSING_ADDRESSES.fetch_add(callers.len(), Ordering::Relaxed);
    for (i, caller) in callers.iter_mut().enumerate() {
        let address = first + i;
        caller.email = format!("locked{i}x{nonce}@load.example");
        caller.ip_address = format!(
            "172.{}.{}.{}",
            16 + ((address >> 16) & 0x0f),
            (address >> 8) & 0xff,
            address & 0xff
        );
    }
    let guesses = callers.iter().map(|caller| {
        let caller = caller.clone();
        async move { caller.guess_until_locked().await }
    });
    a_few_at_a_time(guesses)
        .await
        .context("locking the callers' emails out")?;
    Ok(())
}

fn is_locked_out(status: &Status) -> bool {
    status.code() == Code::ResourceExhausted && status.metadata().contains_key("retry-after")
}

/// Runs set-up calls `SET_UP_AT_ONCE` at a time; the first failure fails them all.
async fn a_few_at_a_time<T, Call>(calls: impl IntoIterator<Item = Call>) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    Call: Future<Output = Result<T, Status>> + Send + 'static,
{
    let mut calls = calls.into_iter().peekable();
    let mut answers = Vec::new();
    while calls.peek().is_some() {
        let batch: Vec<_> = calls
            .by_ref()
            .take(SET_UP_AT_ONCE)
            .map(tokio::spawn)
            .collect();
        for call in batch {
            answers.push(call.await??);
        }
    }
    Ok(answers)
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
    let callers = tasks.len();
    let mut absent = 0;
    let mut merged: Vec<(&'static str, Recorder)> = Vec::new();
    for task in tasks {
        let recorded = task.await.unwrap_or_default();
        if !recorded.iter().any(|(_, recorder)| recorder.took_part()) {
            absent += 1;
        }
        for (rpc, recorder) in recorded {
            match merged.iter_mut().find(|(name, _)| *name == rpc) {
                Some((_, total)) => *total = std::mem::take(total).merge(recorder),
                None => merged.push((rpc, recorder)),
            }
        }
    }
    // A caller with no call in the window would make the run's concurrency a lie, as the callers
    // once refused at sign-in did, unseen.
    if absent > 0 {
        eprintln!(
            "warning: {scenario:?}: {absent} of {callers} callers finished no call in the window"
        );
    }
    merged
}

const SIGNED_IN: &str = "callers of this scenario are signed in before the window opens";

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
            let mut tokens = caller.tokens.clone().expect(SIGNED_IN);
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
            let tokens = caller.tokens.clone().expect(SIGNED_IN);
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
        Scenario::Locked => {
            while window.open() {
                window.time(&mut main, caller.refused_guess()).await;
            }
            vec![("Login refused", main)]
        }
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
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let emails: Vec<String> = (0..count)
        .map(|i| format!("u{i}x{nonce}@load.example"))
        .collect();
    let registrations = emails.iter().enumerate().map(|(i, email)| {
        let client = AuthServiceClient::new(channels[i % channels.len()].clone());
        let request = RegisterRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            ..Default::default()
        };
        async move {
            let registered = retry_while_busy(SET_UP, || {
                let mut client = client.clone();
                let request = request.clone();
                async move { client.register(request).await }
            })
            .await;
            match registered {
                Err(status) if status.code() == Code::AlreadyExists => Ok(()),
                other => other.map(|_| ()),
            }
        }
    });
    a_few_at_a_time(registrations)
        .await
        .context("registering the bench users")?;
    Ok(emails)
}
