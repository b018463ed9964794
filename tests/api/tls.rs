//! TLS and mTLS on the listener, with certificates made here and files replaced while it serves.

use std::{path::Path, time::Duration};

use auth_service::{clock::Clock, config::Cli, startup::Application};
use clap::Parser;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{
    Backend, TestApp, TestDatabase,
    certs::{Leaf, TestCa},
    on,
};

struct Files {
    _dir: tempfile::TempDir,
    cert: String,
    key: String,
    client_ca: String,
}

impl Files {
    fn new(server: &Leaf, client_ca: &TestCa) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let files = Self {
            cert: path("tls.crt"),
            key: path("tls.key"),
            client_ca: path("client-ca.crt"),
            _dir: dir,
        };
        files.replace(server);
        std::fs::write(&files.client_ca, &client_ca.pem).unwrap();
        files
    }

    fn replace(&self, server: &Leaf) {
        std::fs::write(&self.cert, &server.cert).unwrap();
        std::fs::write(&self.key, &server.key).unwrap();
    }

    fn flags(&self) -> Vec<&str> {
        vec![
            "--tls-cert-file",
            &self.cert,
            "--tls-key-file",
            &self.key,
            "--tls-reload-interval",
            "50ms",
        ]
    }
}

fn trusting(ca: &TestCa) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost")
}

/// A fresh connection and one health check on it.
async fn health_check(app: &TestApp, scheme: &str, tls: Option<ClientTlsConfig>) -> bool {
    let mut endpoint = Channel::from_shared(format!("{scheme}://{}", app.addr)).unwrap();
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).unwrap();
    }
    let endpoint = endpoint.connect_timeout(Duration::from_secs(5));
    let Ok(channel) = endpoint.connect().await else {
        return false;
    };
    let request = HealthCheckRequest {
        service: String::new(),
    };
    let mut client = HealthClient::new(channel);
    let call = client.check(request);
    matches!(
        tokio::time::timeout(Duration::from_secs(5), call).await,
        Ok(Ok(_))
    )
}

async fn login_works_over_tls_and_plaintext_clients_fail(backend: Backend) {
    let ca = TestCa::new("test CA");
    let files = Files::new(&ca.leaf("server"), &ca);
    let app = TestApp::spawn_tls(backend, &files.flags(), trusting(&ca)).await;
    app.session("ada@example.com").await;
    assert!(!health_check(&app, "http", None).await);
    app.finish().await;
}

async fn with_a_client_ca_only_clients_with_a_certificate_get_in(backend: Backend) {
    let ca = TestCa::new("test CA");
    let clients = TestCa::new("client CA");
    let files = Files::new(&ca.leaf("server"), &clients);
    let mut flags = files.flags();
    flags.extend(["--tls-client-ca-file", &files.client_ca]);
    let client = clients.leaf("a service");
    let with_cert = trusting(&ca).identity(Identity::from_pem(&client.cert, &client.key));
    let app = TestApp::spawn_tls(backend, &flags, with_cert.clone()).await;
    assert!(health_check(&app, "https", Some(with_cert)).await);
    assert!(!health_check(&app, "https", Some(trusting(&ca))).await);
    let stranger = ca.leaf("not from the client CA");
    let wrong_cert = trusting(&ca).identity(Identity::from_pem(&stranger.cert, &stranger.key));
    assert!(!health_check(&app, "https", Some(wrong_cert)).await);
    app.finish().await;
}

async fn replaced_certificate_files_reach_the_next_connection(backend: Backend) {
    let old_ca = TestCa::new("old CA");
    let new_ca = TestCa::new("new CA");
    let files = Files::new(&old_ca.leaf("server"), &old_ca);
    let app = TestApp::spawn_tls(backend, &files.flags(), trusting(&old_ca)).await;
    assert!(!health_check(&app, "https", Some(trusting(&new_ca))).await);
    files.replace(&new_ca.leaf("server"));
    for _ in 0..200 {
        if health_check(&app, "https", Some(trusting(&new_ca))).await {
            // The connection opened before the change still works.
            app.health_status("").await.unwrap();
            app.finish().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the new certificate was never served");
}

async fn start_up_error(database: &TestDatabase, flags: &[&str]) -> String {
    let mut args = vec!["auth-service", "--database-url", &database.url];
    args.extend(["--listen-addr", "127.0.0.1:0"]);
    args.extend_from_slice(flags);
    let config = Cli::try_parse_from(args).unwrap().config;
    if let Err(error) = config.validate() {
        return error.to_string();
    }
    match Application::build(config, Clock::system()).await {
        Ok(_) => panic!("start-up succeeded with {flags:?}"),
        Err(error) => format!("{error:#}"),
    }
}

async fn half_a_tls_configuration_stops_start_up_naming_the_variable_and_file(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let ca = TestCa::new("test CA");
    let files = Files::new(&ca.leaf("server"), &ca);
    let error = start_up_error(&database, &["--tls-cert-file", &files.cert]).await;
    assert!(error.contains("AUTH_TLS_KEY_FILE"), "{error}");
    let missing = Path::new(&files.cert).with_file_name("missing.crt");
    let missing = missing.to_str().unwrap();
    let error = start_up_error(
        &database,
        &["--tls-cert-file", missing, "--tls-key-file", &files.key],
    )
    .await;
    assert!(
        error.contains("AUTH_TLS_CERT_FILE") && error.contains(missing),
        "{error}"
    );
    let other = ca.leaf("another");
    std::fs::write(&files.key, &other.key).unwrap();
    let error = start_up_error(&database, &files.flags()).await;
    assert!(
        error.contains("AUTH_TLS_KEY_FILE") && error.contains(&files.key),
        "{error}"
    );
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_login_works_and_plaintext_clients_fail() {
    on(
        Backend::Sqlite,
        login_works_over_tls_and_plaintext_clients_fail,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_client_ca_admits_only_clients_with_a_certificate() {
    on(
        Backend::Sqlite,
        with_a_client_ca_only_clients_with_a_certificate_get_in,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_replaced_files_reach_the_next_connection() {
    on(
        Backend::Sqlite,
        replaced_certificate_files_reach_the_next_connection,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_half_a_configuration_stops_start_up_naming_the_variable_and_file() {
    on(
        Backend::Sqlite,
        half_a_tls_configuration_stops_start_up_naming_the_variable_and_file,
    )
    .await;
}
