//! TestApp: the real server on 127.0.0.1:0 with a fresh database, driven through generated clients.

use std::{future::Future, time::Duration};

use auth_service::{
    clock::Clock,
    config::Cli,
    grpc::proto::{
        self, LoginRequest, LoginResponse, RegisterRequest, TokenPair,
        auth_service_client::AuthServiceClient,
    },
    startup::Application,
};
use clap::Parser;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub mod certs;
mod database;
pub mod http;
mod process;
pub use database::{Backend, TestDatabase, on, replace_authority};
pub use process::ServerProcess;
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{
    Code, Status,
    transport::{Channel, ClientTlsConfig},
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub clock: Clock,
    pub client: AuthServiceClient<Channel>,
    pub health: HealthClient<Channel>,
    pub channel: Channel,
    /// Where the server listens; `http://{addr}` reaches its HTTP side too.
    pub addr: std::net::SocketAddr,
    pub db: DatabaseConnection,
    database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// `flags`: extra command-line settings, e.g. `&["--lockout-max-failures", "3"]`.
    pub async fn spawn_with(backend: Backend, flags: &[&str]) -> Self {
        let database = TestDatabase::create(backend).await;
        let mut app = Self::start(&database.url, flags, Clock::system()).await;
        app.database = Some(database);
        app
    }

    /// Another server on the same database (a second replica, or a restart).
    pub async fn spawn_beside(&self, flags: &[&str]) -> Self {
        Self::start(&self.database_url(), flags, self.clock.clone()).await
    }

    pub async fn start(database_url: &str, flags: &[&str], clock: Clock) -> Self {
        let app = Self::start_unready(database_url, flags, clock).await;
        app.wait_until(ServingStatus::Serving).await;
        app
    }

    /// Starts the server without waiting for it to report SERVING.
    pub async fn start_unready(database_url: &str, flags: &[&str], clock: Clock) -> Self {
        Self::start_with_client(database_url, flags, clock, None).await
    }

    /// A server with TLS flags, reached by clients configured with `tls`.
    pub async fn spawn_tls(backend: Backend, flags: &[&str], tls: ClientTlsConfig) -> Self {
        let database = TestDatabase::create(backend).await;
        let mut app =
            Self::start_with_client(&database.url, flags, Clock::system(), Some(tls)).await;
        app.wait_until(ServingStatus::Serving).await;
        app.database = Some(database);
        app
    }

    async fn start_with_client(
        database_url: &str,
        flags: &[&str],
        clock: Clock,
        tls: Option<ClientTlsConfig>,
    ) -> Self {
        // Cheap hashing keeps the suite fast; production defaults are asserted separately.
        let defaults = [
            ("--argon2-memory-kib", "64"),
            ("--argon2-iterations", "1"),
            ("--health-probe-interval", "50ms"),
            ("--shutdown-timeout", "2s"),
        ];
        let mut args = vec![
            "auth-service",
            "--database-url",
            database_url,
            "--listen-addr",
            "127.0.0.1:0",
        ];
        for (flag, value) in defaults {
            if !flags.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        args.extend_from_slice(flags);
        let config = Cli::try_parse_from(args).unwrap().config;
        config.validate().unwrap();
        let application = Application::build(config, clock.clone()).await.unwrap();
        let addr = application.local_addr().unwrap();
        let (shutdown, stopped) = oneshot::channel();
        let server = tokio::spawn(application.run_until(async {
            let _ = stopped.await;
        }));
        let channel = match tls {
            Some(tls) => Channel::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(tls)
                .unwrap(),
            None => Channel::from_shared(format!("http://{addr}")).unwrap(),
        };
        let channel = channel.connect().await.unwrap();
        let db = Database::connect(database_url).await.unwrap();
        Self {
            clock,
            client: AuthServiceClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            channel,
            addr,
            db,
            database: None,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// `path` on the listener's plain-HTTP side.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn database_url(&self) -> String {
        self.database
            .as_ref()
            .map(|db| db.url.clone())
            .unwrap_or_default()
    }

    pub async fn health_status(&self, service: &str) -> Result<ServingStatus, Status> {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let response = self.health.clone().check(request).await?.into_inner();
        Ok(response.status())
    }

    /// Polls health until it reports `status` (bounded: fails after 10 s).
    pub async fn wait_until(&self, status: ServingStatus) {
        for _ in 0..500 {
            if self.health_status("").await.ok() == Some(status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("health never reported {status:?}");
    }

    /// Signals shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop_server(&mut self) {
        self.begin_shutdown();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    /// Stops the server and drops the test's database.
    pub async fn finish(mut self) {
        self.stop_server().await;
        let _ = self.db.clone().close().await;
        if let Some(database) = self.database.take() {
            database.drop_database().await;
        }
    }

    pub async fn register(&self, email: &str) -> proto::User {
        let request = RegisterRequest {
            email: email.into(),
            password: PASSWORD.into(),
            ..Default::default()
        };
        self.client
            .clone()
            .register(request)
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse, Status> {
        let request = LoginRequest {
            email: email.into(),
            password: password.into(),
            client: None,
        };
        self.client
            .clone()
            .login(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// A login with `PASSWORD` left running while the test goes on.
    pub fn login_in_background(&self, email: &str) -> JoinHandle<Result<LoginResponse, Status>> {
        let mut client = self.client.clone();
        let request = LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
            client: None,
        };
        tokio::spawn(async move { client.login(request).await.map(tonic::Response::into_inner) })
    }

    /// Registers `email` and logs in.
    pub async fn login_new(&self, email: &str) -> LoginResponse {
        self.register(email).await;
        self.login(email, PASSWORD).await.unwrap()
    }

    /// Registers `email` if needed and logs in: a fresh session.
    pub async fn session(&self, email: &str) -> TokenPair {
        let response = match self.login(email, PASSWORD).await {
            Ok(response) => response,
            Err(_) => self.login_new(email).await,
        };
        response.tokens.unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, Status> {
        let request = proto::RefreshRequest {
            refresh_token: refresh_token.into(),
            client: None,
        };
        self.client
            .clone()
            .refresh(request)
            .await
            .map(|response| response.into_inner().tokens.unwrap())
    }

    pub async fn revoke(&self, refresh_token: &str, all_sessions: bool) -> Result<u32, Status> {
        let request = proto::RevokeRequest {
            refresh_token: refresh_token.into(),
            all_sessions,
        };
        self.client
            .clone()
            .revoke(request)
            .await
            .map(|response| response.into_inner().revoked_sessions)
    }

    /// Presenting `reused` (a token already rotated) is refused as reuse, and that ends its
    /// session: `current`, the session's live token until then, is refused too.
    pub async fn assert_reuse_ends_session(&self, reused: &str, current: &str) {
        assert_code(self.refresh(reused).await, Code::Unauthenticated);
        assert_code(self.refresh(current).await, Code::Unauthenticated);
    }

    /// Polls ValidateToken until it refuses `access_token` (bounded: fails after 10 s).
    pub async fn wait_until_refused(&self, access_token: &str) {
        for _ in 0..500 {
            match self.validate(access_token).await {
                Err(status) if status.code() == Code::Unauthenticated => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(status) => panic!("unexpected {status:?}"),
            }
        }
        panic!("the token was still accepted after 10 s");
    }

    pub async fn validate(
        &self,
        access_token: &str,
    ) -> Result<proto::ValidateTokenResponse, Status> {
        let request = proto::ValidateTokenRequest {
            access_token: access_token.into(),
        };
        self.client
            .clone()
            .validate_token(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Runs the real binary (`auth-service <args>`) against this test's database, with `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::{io::Write, process::Stdio};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .env("AUTH_DATABASE_URL", self.database_url())
            .env("AUTH_ARGON2_MEMORY_KIB", "64")
            .env("AUTH_ARGON2_ITERATIONS", "1")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Test setup through plain SQL, as an operator would, for what the admin API does not offer.
    pub async fn deactivate(&self, email: &str) {
        let sql = format!(
            "UPDATE users SET is_active = {} WHERE email = '{email}'",
            self.sql_false()
        );
        self.db.execute_unprepared(&sql).await.unwrap();
    }

    fn sql_false(&self) -> &'static str {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => "false",
            _ => "0",
        }
    }
}

/// A request made on behalf of the user holding `access_token`.
pub fn as_user<T>(message: T, access_token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = tonic::metadata::MetadataValue::try_from(format!("Bearer {access_token}")).unwrap();
    request.metadata_mut().insert("authorization", value);
    request
}

/// Asserts the gRPC code of a failed call and returns the status for further checks.
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(value) => panic!("expected {code:?}, got OK: {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "message: {}", status.message());
            status
        }
    }
}

/// Runs the futures concurrently, each on its own task, and returns their outputs in order.
pub async fn join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
