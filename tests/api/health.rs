use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use auth_service::clock::Clock;
use tokio::{net::TcpListener, task::JoinHandle};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::helpers::{Backend, PASSWORD, TestApp, TestDatabase, assert_code, replace_authority};

async fn health_is_serving_for_the_server_and_the_auth_service(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.health_status("").await.unwrap(), ServingStatus::Serving);
    assert_eq!(
        app.health_status("auth.v1.AuthService").await.unwrap(),
        ServingStatus::Serving
    );
    assert_code(app.health_status("no.such.Service").await, Code::NotFound);
    app.finish().await;
}

async fn health_turns_not_serving_when_shutdown_begins(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let request = HealthCheckRequest {
        service: String::new(),
    };
    let mut updates = app
        .health
        .clone()
        .watch(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        updates.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );
    app.begin_shutdown();
    assert_eq!(
        updates.message().await.unwrap().unwrap().status(),
        ServingStatus::NotServing
    );
    drop(updates);
    app.stop_server().await;
    app.finish().await;
}

/// A TCP relay to the database that can be cut and restored: a real outage, seen over a real socket.
struct FlakyProxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl FlakyProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let acceptor = tokio::spawn({
            let (up, connections) = (up.clone(), connections.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the connection is refused as soon as it opens
                    }
                    let target = target.clone();
                    let relay = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(relay);
                }
            }
        });
        Self {
            addr,
            up,
            connections,
            acceptor,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for relay in self.connections.lock().unwrap().drain(..) {
            relay.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.cut();
        self.acceptor.abort();
    }
}

async fn health_follows_the_database_down_and_up_again(backend: Backend) {
    if matches!(backend, Backend::Sqlite) {
        return; // a local file cannot become unreachable
    }
    let database = TestDatabase::create(backend).await;
    let (proxied_url, target) = replace_authority(&database.url, "127.0.0.1:0");
    let proxy = FlakyProxy::start(target).await;
    let (proxied_url, _) = replace_authority(&proxied_url, &proxy.addr.to_string());
    let mut app = TestApp::start(&proxied_url, &[], Clock::system()).await;
    app.register("ada@example.com").await;

    proxy.cut();
    app.wait_until(ServingStatus::NotServing).await;
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::Unavailable,
    );

    proxy.restore();
    app.wait_until(ServingStatus::Serving).await;
    assert!(app.login("ada@example.com", PASSWORD).await.is_ok());

    app.stop_server().await;
    drop(proxy);
    database.drop_database().await;
}

async fn a_replica_missing_a_migration_stays_not_serving_until_it_is_applied(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let migrated = TestApp::spawn(backend).await;
    let migrations = <migration::Migrator as migration::MigratorTrait>::migrations();
    let last = migrations.last().unwrap().name().to_owned();
    let forget = format!("DELETE FROM seaql_migrations WHERE version = '{last}'");
    migrated.db.execute_unprepared(&forget).await.unwrap();
    let mut replica = TestApp::start_unready(
        &migrated.database_url(),
        &["--migrate-on-start", "false"],
        Clock::system(),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        replica.health_status("").await.unwrap(),
        ServingStatus::NotServing
    );
    let applied =
        format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{last}', 0)");
    migrated.db.execute_unprepared(&applied).await.unwrap();
    replica.wait_until(ServingStatus::Serving).await;
    replica.stop_server().await;
    migrated.finish().await;
}

crate::on_every_database!(
    a_replica_missing_a_migration_stays_not_serving_until_it_is_applied,
    health_is_serving_for_the_server_and_the_auth_service,
    health_turns_not_serving_when_shutdown_begins,
    health_follows_the_database_down_and_up_again,
);
