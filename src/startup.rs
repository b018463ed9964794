//! Wiring: connect, migrate, load keys, bind; then serve until a shutdown future resolves. Tests and
//! `main` run exactly this code.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use tokio::{net::TcpListener, sync::watch};
use tonic_health::ServingStatus;

use crate::{
    auth::{
        AuthService, AuthSettings, GuessLimit, follow_revocations,
        keys::{self, Keys},
        password::{HashingParams, PasswordHasher},
        token::AccessTokens,
    },
    clock::Clock,
    config::{Config, MigrateAction},
    db::Store,
    domain::PasswordPolicy,
    edge::{self, Multiplex, http::HttpState, tls::CurrentTls},
    grpc::{self, ClientResolver},
    health, housekeeping,
};

pub struct Application {
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
    tls: Option<CurrentTls>,
    parts: Parts,
    config: Config,
}

/// Everything the server and the command line share.
pub struct Parts {
    pub store: Store,
    pub service: Arc<AuthService>,
    pub keys: Arc<Keys>,
    pub clock: Clock,
}

impl Application {
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let parts = build_service(&config, clock).await?;
        let listener = TcpListener::bind(config.server.listen_addr)
            .await
            .with_context(|| {
                format!(
                    "AUTH_LISTEN_ADDR: cannot listen on {}",
                    config.server.listen_addr
                )
            })?;
        let admin_listener = match config.server.admin_listen_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("AUTH_ADMIN_LISTEN_ADDR: cannot listen on {addr}"))?,
            ),
            None => None,
        };
        let tls = match config.tls.files() {
            Some(files) => Some(edge::tls::reloading(files, config.tls.tls_reload_interval)?),
            None => {
                if !config.server.listen_addr.ip().is_loopback() {
                    tracing::warn!(
                        addr = %config.server.listen_addr,
                        "TLS is off (AUTH_TLS_CERT_FILE unset): traffic, passwords and tokens included, is plaintext and must be protected by a mesh"
                    );
                }
                None
            }
        };
        Ok(Self {
            listener,
            admin_listener,
            tls,
            parts,
            config,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The admin listener's address, when AdminService has a listener of its own.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then: health NOT_SERVING, stop accepting, let in-flight
    /// calls finish (up to the shutdown timeout), close the pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            admin_listener,
            tls,
            parts,
            config,
        } = self;
        let Parts {
            store,
            service,
            keys,
            clock,
        } = parts;
        let (reporter, health_service) = tonic_health::server::health_reporter();
        health::publish(&reporter, ServingStatus::NotServing).await;
        let (stop_background, background_stopped) = watch::channel(false);
        let (ready, ready_seen) = watch::channel(false);
        let probe = tokio::spawn(health::probe_database(
            reporter,
            ready,
            store.clone(),
            config.server.health_probe_interval,
            background_stopped.clone(),
        ));
        tokio::spawn(keys::refresh_periodically(
            keys,
            store.clone(),
            clock.clone(),
            config.keys.key_refresh_interval,
            background_stopped.clone(),
        ));
        tokio::spawn(follow_revocations(
            service.clone(),
            config.tokens.revocation_poll_interval,
            background_stopped.clone(),
        ));
        tokio::spawn(housekeeping::clean_periodically(
            store.clone(),
            clock,
            retention(&config),
            config.housekeeping.cleanup_interval,
            background_stopped,
        ));
        let (draining, mut drain_started) = watch::channel(false);
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_background.send(true);
            let _ = probe.await;
            let _ = draining.send(true);
        };
        let addr = listener.local_addr()?;
        let http = HttpState::new(
            service.clone(),
            ready_seen,
            &config.tokens.issuer,
            config.edge.public_url.as_deref(),
            config.edge.jwks_max_age,
        );
        let http = edge::http::router(http);
        let clients = ClientResolver::new(config.server.trusted_proxies.clone());
        let public = grpc::routes::public(
            service.clone(),
            clients,
            health_service.clone(),
            admin_listener.is_none(),
        )?;
        let routes = Multiplex {
            grpc: public.prepare().into_axum_router(),
            http: http.clone(),
        };
        let admin = match admin_listener {
            Some(listener) => {
                let routes = Multiplex {
                    grpc: grpc::routes::admin(service, health_service)?
                        .prepare()
                        .into_axum_router(),
                    http,
                };
                tracing::info!(addr = %listener.local_addr()?, "serving AdminService");
                Some(edge::serve(
                    listener,
                    routes,
                    tls.clone(),
                    drain_started.clone(),
                ))
            }
            None => None,
        };
        tokio::spawn(signal);
        let public = edge::serve(listener, routes, tls, drain_started.clone());
        let server = async move {
            match admin {
                Some(admin) => {
                    tokio::join!(public, admin);
                }
                None => public.await,
            }
        };
        tracing::info!(%addr, "serving gRPC and HTTP");
        let drain_deadline = async {
            let _ = drain_started.wait_for(|started| *started).await;
            tokio::time::sleep(config.server.shutdown_timeout).await;
        };
        tokio::select! {
            () = server => {}
            () = drain_deadline => tracing::warn!("shutdown timeout passed; closing open calls"),
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Everything but the transport: connect, migrate (unless switched off), load the signing keys.
pub async fn build_service(config: &Config, clock: Clock) -> anyhow::Result<Parts> {
    let store = connect(config).await?;
    if config.database.migrate_on_start {
        Migrator::up(store.connection(), None)
            .await
            .context("applying migrations")?;
    }
    let keys = Keys::load(&store, config.keys.jwt_private_key_file.as_deref(), &clock)
        .await
        .context(
            "loading signing keys (if the schema is missing, run `auth-service migrate up`)",
        )?;
    let hasher = PasswordHasher::new(
        HashingParams::from(config.passwords.argon2_params()?),
        config.passwords.hashing_threads(),
        config.passwords.hashing_queue_timeout,
    )?;
    let keys = Arc::new(keys);
    let tokens = AccessTokens::new(
        keys.clone(),
        config.tokens.issuer.clone(),
        config.tokens.audience.clone(),
        config.tokens.access_token_ttl,
    );
    let service = AuthService::new(
        store.clone(),
        hasher,
        tokens,
        clock.clone(),
        settings(config),
    );
    Ok(Parts {
        store,
        service: Arc::new(service),
        keys,
        clock,
    })
}

/// `auth-service migrate ...`
pub async fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let store = connect(config).await?;
    let db = store.connection();
    match action {
        MigrateAction::Up => Migrator::up(db, None).await?,
        MigrateAction::Down => Migrator::down(db, Some(1)).await?,
        MigrateAction::Status => Migrator::status(db).await?,
        MigrateAction::Fresh => Migrator::fresh(db).await?,
    }
    store.close().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    Store::connect(
        config.database.url(),
        config.database.database_max_connections,
    )
    .await
    .context("AUTH_DATABASE_URL: cannot connect to the database")
}

/// What housekeeping keeps, and how much it deletes per statement.
pub fn retention(config: &Config) -> housekeeping::Retention {
    let settings = &config.housekeeping;
    housekeeping::Retention {
        refresh_tokens: settings.cleanup_refresh_tokens_after,
        login_attempts: settings.cleanup_login_attempts_after,
        batch_size: settings.cleanup_batch_size,
    }
}

fn settings(config: &Config) -> AuthSettings {
    AuthSettings {
        password_policy: PasswordPolicy {
            min_length: config.passwords.password_min_length,
        },
        refresh_token_ttl: config.tokens.refresh_token_ttl,
        session_max_lifetime: config.tokens.session_max_lifetime,
        refresh_reuse_grace: config.tokens.refresh_reuse_grace,
        liveness_cache_ttl: config.tokens.liveness_cache_ttl,
        lockout: GuessLimit {
            max_failures: config.guessing.lockout_max_failures,
            window: config.guessing.lockout_window,
        },
        ip_throttle: GuessLimit {
            max_failures: config.guessing.ip_throttle_max_failures,
            window: config.guessing.ip_throttle_window,
        },
    }
}
