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

async fn without_client_info_the_forwarded_for_metadata_is_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let mut request = tonic::Request::new(login_request());
    request.metadata_mut().insert(
        "x-forwarded-for",
        MetadataValue::from_static("198.51.100.4, 10.0.0.1"),
    );
    app.client.clone().login(request).await.unwrap();
    let (ip, user_agent) = session_client(&app).await;
    assert_eq!(ip.as_deref(), Some("198.51.100.4"));
    assert!(
        user_agent.is_some_and(|agent| agent.contains("tonic")),
        "the client's own user-agent"
    );
    app.finish().await;
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
    without_any_hint_the_peer_address_is_used,
);
