use auth_service::grpc::proto::LoginRequest;
use sea_orm::{ConnectionTrait, Statement};
use tonic::metadata::MetadataValue;

use crate::helpers::{Backend, PASSWORD, TestApp};

async fn session_client(app: &TestApp) -> (Option<String>, Option<String>) {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT ip_address, user_agent FROM refresh_tokens",
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "ip_address").unwrap(),
        row.try_get("", "user_agent").unwrap(),
    )
}

fn login_request() -> LoginRequest {
    LoginRequest {
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        client: None,
    }
}

/// Where a login with `forwarded_for` from a loopback peer is recorded to come from.
async fn recorded_address(backend: Backend, flags: &[&str], forwarded_for: &'static str) -> String {
    let app = TestApp::spawn_with(backend, flags).await;
    app.register("ada@example.com").await;
    let mut request = tonic::Request::new(login_request());
    request
        .metadata_mut()
        .insert("x-forwarded-for", MetadataValue::from_static(forwarded_for));
    app.client.clone().login(request).await.unwrap();
    let (ip, user_agent) = session_client(&app).await;
    assert!(
        user_agent.is_some_and(|agent| agent.contains("tonic")),
        "the client's own user-agent"
    );
    app.finish().await;
    ip.unwrap()
}

/// The proxies named in `AUTH_TRUSTED_PROXIES` are skipped from the right.
async fn without_client_info_the_forwarded_for_metadata_is_used(backend: Backend) {
    let flags = ["--trusted-proxies", "127.0.0.0/8,10.0.0.0/8"];
    let address = recorded_address(backend, &flags, "198.51.100.4, 10.0.0.1").await;
    assert_eq!(address, "198.51.100.4");
}

/// A list of nothing but trusted proxies goes as far back as it can: its left-most entry.
async fn a_list_of_trusted_proxies_only_gives_its_first(backend: Backend) {
    let flags = ["--trusted-proxies", "127.0.0.0/8,10.0.0.0/8"];
    let address = recorded_address(backend, &flags, "10.0.0.2, 10.0.0.1").await;
    assert_eq!(address, "10.0.0.2");
}

/// Proxies append the address they saw to whatever list the client sent, so only entries added by
/// trusted proxies can be believed: the right-most untrusted one is the client.
async fn a_client_cannot_choose_its_address_by_sending_forwarded_for_itself(backend: Backend) {
    let address = recorded_address(backend, &[], "192.0.2.66, 203.0.113.7").await;
    assert_eq!(address, "203.0.113.7");
}

/// A list whose client entry is no address is ignored, and the peer taken instead.
async fn a_forwarded_for_entry_that_is_no_address_is_ignored(backend: Backend) {
    let address = recorded_address(backend, &[], "198.51.100.4, not-an-address").await;
    assert_eq!(address, "127.0.0.1");
}

async fn without_any_hint_the_peer_address_is_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    app.client.clone().login(login_request()).await.unwrap();
    assert_eq!(session_client(&app).await.0.as_deref(), Some("127.0.0.1"));
    app.finish().await;
}

crate::on_every_database!(
    without_client_info_the_forwarded_for_metadata_is_used,
    a_list_of_trusted_proxies_only_gives_its_first,
    a_client_cannot_choose_its_address_by_sending_forwarded_for_itself,
    a_forwarded_for_entry_that_is_no_address_is_ignored,
    without_any_hint_the_peer_address_is_used,
);
