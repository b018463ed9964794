use auth_service::grpc::proto::{
    ChangePasswordRequest, GetMeRequest, ListSessionsRequest, RevokeSessionRequest, TokenPair,
};
use tonic::{Code, Request, metadata::MetadataValue};

use crate::helpers::{Backend, PASSWORD, TestApp, as_user, assert_code};

const NEW_PASSWORD: &str = "a much better passphrase";

async fn change_password(
    app: &TestApp,
    tokens: &TokenPair,
    current: &str,
    new: &str,
) -> Result<u32, tonic::Status> {
    let request = ChangePasswordRequest {
        current_password: current.into(),
        new_password: new.into(),
    };
    let response = app
        .client
        .clone()
        .change_password(as_user(request, &tokens.access_token))
        .await?;
    Ok(response.into_inner().revoked_sessions)
}

async fn get_me_returns_the_callers_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let login = app.login_new("ada@example.com").await;
    let tokens = login.tokens.unwrap();
    let me = app
        .client
        .clone()
        .get_me(as_user(GetMeRequest {}, &tokens.access_token))
        .await
        .unwrap();
    assert_eq!(me.into_inner().user.unwrap(), login.user.unwrap());
    app.finish().await;
}

async fn calls_without_a_valid_bearer_token_are_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    assert_code(
        app.client.clone().get_me(GetMeRequest {}).await,
        Code::Unauthenticated,
    );
    let mut basic = Request::new(GetMeRequest {});
    basic.metadata_mut().insert(
        "authorization",
        MetadataValue::from_static("Basic YWRhOnB3"),
    );
    assert_code(
        app.client.clone().get_me(basic).await,
        Code::Unauthenticated,
    );
    assert_code(
        app.client
            .clone()
            .get_me(as_user(GetMeRequest {}, "not.a.jwt"))
            .await,
        Code::Unauthenticated,
    );
    app.revoke(&tokens.refresh_token, false).await.unwrap();
    let revoked = as_user(GetMeRequest {}, &tokens.access_token);
    assert_code(
        app.client.clone().get_me(revoked).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn list_sessions_shows_each_live_session_and_marks_the_current_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.session("ada@example.com").await;
    let second = app.session("ada@example.com").await;
    let ended = app.session("ada@example.com").await;
    app.revoke(&ended.refresh_token, false).await.unwrap();
    app.clock.advance(std::time::Duration::from_secs(60));
    let second = app.refresh(&second.refresh_token).await.unwrap();
    app.session("bob@example.com").await;

    let request = as_user(ListSessionsRequest {}, &second.access_token);
    let sessions = app
        .client
        .clone()
        .list_sessions(request)
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<_> = sessions.iter().filter(|session| session.current).collect();
    assert_eq!(current.len(), 1);
    let current = current[0];
    assert_eq!(
        current.session_id,
        app.validate(&second.access_token).await.unwrap().session_id
    );
    assert!(current.last_refreshed_at.unwrap().seconds >= current.created_at.unwrap().seconds + 60);
    assert_eq!(current.ip_address, "127.0.0.1");
    assert!(!current.user_agent.is_empty());
    let other = sessions.iter().find(|session| !session.current).unwrap();
    assert_eq!(
        other.session_id,
        app.validate(&first.access_token).await.unwrap().session_id
    );
    app.finish().await;
}

async fn revoke_session_ends_one_of_the_callers_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let phone = app.session("ada@example.com").await;
    let laptop = app.session("ada@example.com").await;
    let phone_session = app.validate(&phone.access_token).await.unwrap().session_id;
    let request = as_user(
        RevokeSessionRequest {
            session_id: phone_session,
        },
        &laptop.access_token,
    );
    app.client.clone().revoke_session(request).await.unwrap();
    assert_code(
        app.refresh(&phone.refresh_token).await,
        Code::Unauthenticated,
    );
    assert_code(
        app.validate(&phone.access_token).await,
        Code::Unauthenticated,
    );
    assert!(app.validate(&laptop.access_token).await.is_ok());
    app.finish().await;
}

async fn another_users_session_is_not_found_and_left_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.session("ada@example.com").await;
    let bob = app.session("bob@example.com").await;
    let bobs_session = app.validate(&bob.access_token).await.unwrap().session_id;
    let cases = [bobs_session, uuid::Uuid::new_v4().to_string()];
    let mut messages = Vec::new();
    for session_id in cases {
        let request = as_user(RevokeSessionRequest { session_id }, &ada.access_token);
        messages.push(
            assert_code(
                app.client.clone().revoke_session(request).await,
                Code::NotFound,
            )
            .message()
            .to_owned(),
        );
    }
    assert_eq!(messages[0], messages[1], "no hint that the session exists");
    assert!(app.refresh(&bob.refresh_token).await.is_ok());
    let malformed = as_user(
        RevokeSessionRequest {
            session_id: "nope".into(),
        },
        &ada.access_token,
    );
    assert_code(
        app.client.clone().revoke_session(malformed).await,
        Code::InvalidArgument,
    );
    app.finish().await;
}

async fn change_password_keeps_the_calling_session_and_ends_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.session("ada@example.com").await;
    let calling = app.session("ada@example.com").await;
    assert_eq!(
        change_password(&app, &calling, PASSWORD, NEW_PASSWORD)
            .await
            .unwrap(),
        1
    );
    assert_code(
        app.refresh(&other.refresh_token).await,
        Code::Unauthenticated,
    );
    assert!(app.validate(&calling.access_token).await.is_ok());
    assert!(app.refresh(&calling.refresh_token).await.is_ok());
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::Unauthenticated,
    );
    assert!(app.login("ada@example.com", NEW_PASSWORD).await.is_ok());
    app.finish().await;
}

async fn change_password_checks_the_current_one_and_counts_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    for weak in ["short", "password123", "ada is my name"] {
        let status = assert_code(
            change_password(&app, &tokens, PASSWORD, weak).await,
            Code::InvalidArgument,
        );
        assert!(
            status.message().starts_with("new_password"),
            "{}",
            status.message()
        );
    }
    for _ in 0..5 {
        assert_code(
            change_password(&app, &tokens, "wrong guess", NEW_PASSWORD).await,
            Code::Unauthenticated,
        );
    }
    assert_code(
        change_password(&app, &tokens, PASSWORD, NEW_PASSWORD).await,
        Code::ResourceExhausted,
    );
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    app.finish().await;
}

crate::on_every_database!(
    get_me_returns_the_callers_account,
    calls_without_a_valid_bearer_token_are_unauthenticated,
    list_sessions_shows_each_live_session_and_marks_the_current_one,
    revoke_session_ends_one_of_the_callers_sessions,
    another_users_session_is_not_found_and_left_alone,
    change_password_keeps_the_calling_session_and_ends_the_others,
    change_password_checks_the_current_one_and_counts_failures,
);
