use tonic::Code;

use crate::helpers::{Backend, TestApp, assert_code};

async fn revoking_a_token_ends_its_session_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let phone = app.session("ada@example.com").await;
    let laptop = app.session("ada@example.com").await;
    assert_eq!(app.revoke(&phone.refresh_token, false).await.unwrap(), 1);
    assert_code(
        app.refresh(&phone.refresh_token).await,
        Code::Unauthenticated,
    );
    assert_code(
        app.validate(&phone.access_token).await,
        Code::Unauthenticated,
    );
    assert!(app.validate(&laptop.access_token).await.is_ok());
    assert!(app.refresh(&laptop.refresh_token).await.is_ok());
    app.finish().await;
}

async fn revoking_all_sessions_ends_every_session_of_the_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sessions = [
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
    ];
    let bystander = app.session("bob@example.com").await;
    assert_eq!(
        app.revoke(&sessions[0].refresh_token, true).await.unwrap(),
        3
    );
    for session in &sessions {
        assert_code(
            app.refresh(&session.refresh_token).await,
            Code::Unauthenticated,
        );
        assert_code(
            app.validate(&session.access_token).await,
            Code::Unauthenticated,
        );
    }
    assert!(app.validate(&bystander.access_token).await.is_ok());
    app.finish().await;
}

async fn revoke_is_idempotent_and_silent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    assert_eq!(app.revoke(&tokens.refresh_token, false).await.unwrap(), 1);
    assert_eq!(app.revoke(&tokens.refresh_token, false).await.unwrap(), 0);
    assert_eq!(app.revoke(&"A".repeat(43), false).await.unwrap(), 0);
    assert_eq!(app.revoke("garbage", true).await.unwrap(), 0);
    app.finish().await;
}

async fn all_sessions_needs_a_token_that_is_still_valid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.session("ada@example.com").await;
    let live = app.session("ada@example.com").await;
    app.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(
        app.revoke(&first.refresh_token, true).await.unwrap(),
        0,
        "a rotated token revokes nothing"
    );
    assert!(app.refresh(&live.refresh_token).await.is_ok());
    app.finish().await;
}

async fn a_missing_token_is_invalid_argument(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let status = assert_code(app.revoke("", false).await, Code::InvalidArgument);
    assert!(status.message().starts_with("refresh_token"));
    app.finish().await;
}

crate::on_every_database!(
    revoking_a_token_ends_its_session_only,
    revoking_all_sessions_ends_every_session_of_the_user,
    revoke_is_idempotent_and_silent,
    all_sessions_needs_a_token_that_is_still_valid,
    a_missing_token_is_invalid_argument,
);
