//! Behaviours an operator relies on: the call and audit logs (and no secrets in them), no default accounts, state shared by replicas,
//! configurable session lifetimes.

use std::time::Duration;

use auth_service::{
    db::entities::users,
    grpc::proto::{GetUserRequest, SetUserRoleRequest, admin_service_client::AdminServiceClient},
};
use sea_orm::{EntityTrait, PaginatorTrait};
use tonic::Code;

use crate::helpers::{Backend, PASSWORD, ServerProcess, TestApp, as_user, assert_code};

const HOUR: Duration = Duration::from_secs(3600);

async fn a_fresh_service_has_no_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(users::Entity::find().count(&app.db).await.unwrap(), 0);
    app.finish().await;
}

async fn failed_logins_on_one_replica_lock_the_email_on_another(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let mut b = a.spawn_beside(&[]).await;
    a.register("ada@example.com").await;
    for _ in 0..5 {
        assert_code(
            a.login("ada@example.com", "wrong").await,
            Code::Unauthenticated,
        );
    }
    assert_code(
        b.login("ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    b.stop_server().await;
    a.finish().await;
}

async fn idle_expiry_and_session_lifetime_are_configurable(backend: Backend) {
    let flags = ["--refresh-token-ttl", "1h", "--session-max-lifetime", "2h"];
    let app = TestApp::spawn_with(backend, &flags).await;
    let idle = app.session("ada@example.com").await;
    let mut kept_busy = app.session("ada@example.com").await;
    for _ in 0..2 {
        app.clock.advance(HOUR - Duration::from_secs(60));
        kept_busy = app.refresh(&kept_busy.refresh_token).await.unwrap();
    }
    assert_code(
        app.refresh(&idle.refresh_token).await,
        Code::Unauthenticated,
    );
    app.clock.advance(Duration::from_secs(121));
    assert_code(
        app.refresh(&kept_busy.refresh_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

/// The real binary with JSON logs: every admin action names its actor and its target.
async fn every_admin_action_is_logged_with_actor_and_target(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.cli(
        &["users", "create-admin", "--email", "root@example.com"],
        PASSWORD,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let ada = app.register("ada@example.com").await;
    let server = ServerProcess::start(&app.database_url(), &[]).await;
    let root = server.login("root@example.com").await;
    let tokens = root.tokens.unwrap();
    let (root_id, token, refresh_token) = (
        root.user.unwrap().id,
        tokens.access_token.clone(),
        tokens.refresh_token,
    );
    let mut admin = AdminServiceClient::new(server.channel.clone());
    admin
        .get_user(as_user(
            GetUserRequest {
                user_id: ada.id.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap();
    let promote = SetUserRoleRequest {
        user_id: ada.id.clone(),
        role: auth_service::grpc::proto::Role::Admin.into(),
    };
    admin.set_user_role(as_user(promote, &token)).await.unwrap();

    let lines = server.stop();
    for action in ["get_user", "set_role"] {
        let logged = lines
            .iter()
            .find(|line| line["action"] == action)
            .unwrap_or_else(|| panic!("{action} not logged"));
        assert_eq!(logged["actor"], format!("user:{root_id}"));
        assert_eq!(logged["target"], ada.id);
    }
    // One line per call, with its method, code and latency.
    let call = lines
        .iter()
        .find(|line| line["method"] == "SetUserRole")
        .expect("SetUserRole logged as a call");
    assert_eq!(call["code"], "Ok");
    assert!(
        call["latency_ms"]
            .as_str()
            .is_some_and(|ms| ms.parse::<f64>().is_ok()),
        "{call}"
    );
    for secret in [PASSWORD, token.as_str(), refresh_token.as_str()] {
        assert!(
            lines.iter().all(|line| !line.to_string().contains(secret)),
            "a secret in the log"
        );
    }
    app.finish().await;
}

crate::on_every_database!(
    a_fresh_service_has_no_accounts,
    failed_logins_on_one_replica_lock_the_email_on_another,
    idle_expiry_and_session_lifetime_are_configurable,
    every_admin_action_is_logged_with_actor_and_target,
);

/// ValidateToken comes with every request of every consuming service, so an OK answer logs at
/// debug; a refusal still logs at info, like every other call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_token_logs_its_refusals_not_every_yes() {
    crate::helpers::on(Backend::Sqlite, |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.register("ada@example.com").await;
        let server = ServerProcess::start(&app.database_url(), &[]).await;
        let tokens = server.login("ada@example.com").await.tokens.unwrap();
        let validate = |access_token: String| {
            let mut auth = server.client.clone();
            async move {
                let request = auth_service::grpc::proto::ValidateTokenRequest { access_token };
                auth.validate_token(request).await
            }
        };
        assert!(validate(tokens.access_token).await.is_ok());
        assert!(validate("not a token".into()).await.is_err());

        let lines = server.stop();
        let validations: Vec<_> = lines
            .iter()
            .filter(|line| line["method"] == "ValidateToken")
            .collect();
        assert_eq!(validations.len(), 1, "{validations:?}");
        assert_eq!(validations[0]["code"], "Unauthenticated");
        assert!(lines.iter().any(|line| line["method"] == "Login"));
        app.finish().await;
    })
    .await;
}
