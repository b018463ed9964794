use auth_service::grpc::proto::{ChangePasswordRequest, ClientInfo, LoginRequest, Role};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::helpers::{Backend, PASSWORD, TestApp, as_user, assert_code};

async fn login_returns_the_user_and_a_bearer_token_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let registered = app.register("ada@example.com").await;
    let response = app.login(" ADA@example.com", PASSWORD).await.unwrap();
    let user = response.user.unwrap();
    let tokens = response.tokens.unwrap();
    assert_eq!(user.id, registered.id);
    assert_eq!(user.role(), Role::User);
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 15 * 60);
    assert_eq!(tokens.access_token.split('.').count(), 3);
    assert_eq!(tokens.refresh_token.len(), 43, "32 bytes, base64url");
    let refresh_expires = tokens.refresh_expires_at.unwrap().seconds;
    let in_seven_days = app.clock.now().timestamp() + 7 * 24 * 3600;
    assert!((refresh_expires - in_seven_days).abs() <= 5);
    app.finish().await;
}

async fn unknown_email_and_wrong_password_look_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let wrong_password = assert_code(
        app.login("ada@example.com", "wrong password").await,
        Code::Unauthenticated,
    );
    let unknown_email = assert_code(
        app.login("nobody@example.com", PASSWORD).await,
        Code::Unauthenticated,
    );
    assert_eq!(wrong_password.message(), unknown_email.message());
    app.finish().await;
}

async fn a_deactivated_user_with_the_right_password_is_permission_denied(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    app.deactivate("ada@example.com").await;
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::PermissionDenied,
    );
    assert_code(
        app.login("ada@example.com", "wrong password").await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn bad_login_input_is_invalid_argument(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let status = assert_code(app.login("", PASSWORD).await, Code::InvalidArgument);
    assert!(status.message().starts_with("email"));
    let status = assert_code(
        app.login("ada@example.com", "").await,
        Code::InvalidArgument,
    );
    assert!(status.message().starts_with("password"));
    app.finish().await;
}

async fn every_attempt_is_recorded_with_its_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    app.login("ada@example.com", "wrong password")
        .await
        .unwrap_err();
    app.login("nobody@example.com", PASSWORD).await.unwrap_err();
    app.login("ada@example.com", PASSWORD).await.unwrap();
    app.deactivate("ada@example.com").await;
    app.login("ada@example.com", PASSWORD).await.unwrap_err();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT email, success, failure_reason FROM login_attempts ORDER BY attempted_at",
        ))
        .await
        .unwrap();
    let recorded: Vec<(String, bool, Option<String>)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "email").unwrap(),
                row.try_get("", "success").unwrap(),
                row.try_get("", "failure_reason").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        vec![
            (
                "ada@example.com".into(),
                false,
                Some("wrong_password".into())
            ),
            (
                "nobody@example.com".into(),
                false,
                Some("unknown_email".into())
            ),
            ("ada@example.com".into(), true, None),
            (
                "ada@example.com".into(),
                false,
                Some("account_disabled".into())
            ),
        ]
    );
    app.finish().await;
}

async fn a_hash_made_with_other_parameters_is_upgraded_on_login(backend: Backend) {
    let old = TestApp::spawn(backend).await;
    old.register("ada@example.com").await;
    let upgraded = old.spawn_beside(&["--argon2-memory-kib", "128"]).await;
    upgraded.login("ada@example.com", PASSWORD).await.unwrap();
    let hash = password_hash(&upgraded, "ada@example.com").await;
    assert!(hash.starts_with("$argon2id$v=19$m=128,t=1,p=1$"), "{hash}");
    assert!(upgraded.login("ada@example.com", PASSWORD).await.is_ok());
    let mut upgraded = upgraded;
    upgraded.stop_server().await;
    old.finish().await;
}

/// From `PASSWORD` to "a brand new passphrase".
async fn change_password(app: &TestApp, access_token: &str) {
    let change = ChangePasswordRequest {
        current_password: PASSWORD.into(),
        new_password: "a brand new passphrase".into(),
    };
    let request = as_user(change, access_token);
    app.client.clone().change_password(request).await.unwrap();
}

/// The upgrade hashes the password the login proved; a password changed while it hashed stands.
async fn an_upgrade_does_not_undo_a_password_change_made_meanwhile(backend: Backend) {
    let old = TestApp::spawn(backend).await;
    let tokens = old.session("ada@example.com").await;
    // Hashing at these parameters takes far longer than the password change below.
    let slow = ["--argon2-memory-kib", "8192", "--argon2-iterations", "200"];
    let upgrading = old.spawn_beside(&slow).await;
    let login = upgrading.login_in_background("ada@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    change_password(&old, &tokens.access_token).await;
    login.await.unwrap().unwrap();
    assert!(
        old.login("ada@example.com", "a brand new passphrase")
            .await
            .is_ok(),
        "the new password stands"
    );
    let mut upgrading = upgrading;
    upgrading.stop_server().await;
    old.finish().await;
}

/// A login checks the password it read before its hash ran; a change that committed meanwhile
/// revoked every session it could see, so the login's own must not outlive it.
async fn a_login_that_proved_a_password_changed_meanwhile_gets_no_session(backend: Backend) {
    let fast = TestApp::spawn(backend).await;
    let tokens = fast.session("ada@example.com").await;
    // One hashing thread, held for a long while by another user's login.
    let flags = [
        "--hashing-threads",
        "1",
        "--hashing-queue-timeout",
        "30s",
        "--argon2-memory-kib",
        "8192",
        "--argon2-iterations",
        "200",
    ];
    let busy = fast.spawn_beside(&flags).await;
    busy.register("bob@example.com").await;
    let holds_the_thread = busy.login_in_background("bob@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Reads Ada's current hash, then waits for the thread.
    let stale = busy.login_in_background("ada@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    change_password(&fast, &tokens.access_token).await;
    holds_the_thread.await.unwrap().unwrap();
    assert_code(stale.await.unwrap(), Code::Unauthenticated);
    let mut busy = busy;
    busy.stop_server().await;
    fast.finish().await;
}

async fn password_hash(app: &TestApp, email: &str) -> String {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT password_hash FROM users WHERE email = '{email}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "password_hash").unwrap()
}

async fn stored_hashes_are_argon2id_with_their_own_salt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("a@example.com").await;
    app.register("b@example.com").await;
    let (a, b) = (
        password_hash(&app, "a@example.com").await,
        password_hash(&app, "b@example.com").await,
    );
    assert!(a.starts_with("$argon2id$"));
    assert_ne!(a, b, "same password, different salts");
    app.finish().await;
}

async fn a_login_records_the_client_the_gateway_reports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let request = LoginRequest {
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        client: Some(ClientInfo {
            ip_address: "203.0.113.7".into(),
            user_agent: "Browser/1.0".into(),
        }),
    };
    app.client.clone().login(request).await.unwrap();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT ip_address, user_agent FROM refresh_tokens",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "ip_address").unwrap(),
        "203.0.113.7"
    );
    assert_eq!(
        row.try_get::<String>("", "user_agent").unwrap(),
        "Browser/1.0"
    );
    app.finish().await;
}

crate::on_every_database!(
    login_returns_the_user_and_a_bearer_token_pair,
    unknown_email_and_wrong_password_look_the_same,
    a_deactivated_user_with_the_right_password_is_permission_denied,
    bad_login_input_is_invalid_argument,
    every_attempt_is_recorded_with_its_reason,
    a_hash_made_with_other_parameters_is_upgraded_on_login,
    an_upgrade_does_not_undo_a_password_change_made_meanwhile,
    a_login_that_proved_a_password_changed_meanwhile_gets_no_session,
    stored_hashes_are_argon2id_with_their_own_salt,
    a_login_records_the_client_the_gateway_reports,
);
