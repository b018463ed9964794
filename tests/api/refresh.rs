use std::time::Duration;

use auth_service::{
    auth::refresh_token,
    db::{NewRefreshToken, Store},
    domain::ClientContext,
};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, assert_code, join_all};

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn refresh_rotates_the_token_within_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.session("ada@example.com").await;
    let second = app.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    let before = app.validate(&first.access_token).await.unwrap();
    let after = app.validate(&second.access_token).await.unwrap();
    assert_eq!(before.session_id, after.session_id, "same family");
    assert!(app.refresh(&second.refresh_token).await.is_ok());
    app.finish().await;
}

async fn reusing_a_rotated_token_revokes_the_whole_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.session("ada@example.com").await;
    let second = app.refresh(&first.refresh_token).await.unwrap();
    app.assert_reuse_ends_session(&first.refresh_token, &second.refresh_token)
        .await;
    assert_code(
        app.validate(&second.access_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn reuse_in_one_session_leaves_the_others_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stolen = app.session("ada@example.com").await;
    let other = app.session("ada@example.com").await;
    app.refresh(&stolen.refresh_token).await.unwrap();
    app.refresh(&stolen.refresh_token).await.unwrap_err();
    assert!(app.refresh(&other.refresh_token).await.is_ok());
    app.finish().await;
}

async fn of_twenty_concurrent_refreshes_with_one_token_exactly_one_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    let calls = (0..20).map(|_| {
        let mut client = app.client.clone();
        let request = auth_service::grpc::proto::RefreshRequest {
            refresh_token: tokens.refresh_token.clone(),
            client: None,
        };
        async move { client.refresh(request).await }
    });
    let results = join_all(calls).await;
    let codes: Vec<Code> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(tonic::Status::code, |_| Code::Ok))
        .collect();
    assert_eq!(
        codes.iter().filter(|code| **code == Code::Ok).count(),
        1,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|code| matches!(code, Code::Ok | Code::Unauthenticated)),
        "{codes:?}"
    );
    // The losers presented a rotated token: reuse, so the winner's successor is revoked too.
    let winner = results
        .into_iter()
        .find_map(Result::ok)
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert_code(
        app.refresh(&winner.refresh_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

/// Rotations arriving together may be committed together (SQLite batches them): each must still
/// land in its own session, and of two presenting one token only one may win.
async fn concurrent_refreshes_of_many_sessions_each_rotate_their_own(backend: Backend) {
    const SESSIONS: usize = 12;
    let app = TestApp::spawn(backend).await;
    let mut sessions = Vec::new();
    for n in 0..SESSIONS {
        sessions.push(app.session(&format!("user{n}@example.com")).await);
    }
    // The last session's token is presented twice in the same burst.
    let presented: Vec<String> = sessions
        .iter()
        .map(|tokens| tokens.refresh_token.clone())
        .chain([sessions[SESSIONS - 1].refresh_token.clone()])
        .collect();
    let calls = presented.into_iter().map(|refresh_token| {
        let mut client = app.client.clone();
        let request = auth_service::grpc::proto::RefreshRequest {
            refresh_token,
            client: None,
        };
        async move {
            let response = client.refresh(request).await?;
            Ok::<_, tonic::Status>(response.into_inner().tokens.unwrap())
        }
    });
    let results = join_all(calls).await;
    for (n, (before, after)) in sessions.iter().zip(&results).enumerate().take(SESSIONS - 1) {
        let after = after
            .as_ref()
            .unwrap_or_else(|status| panic!("session {n}: {status:?}"));
        let old = app.validate(&before.access_token).await.unwrap();
        let new = app.validate(&after.access_token).await.unwrap();
        assert_eq!(
            old.session_id, new.session_id,
            "session {n} stays in its family"
        );
        assert_eq!(old.user_id, new.user_id, "session {n} stays with its user");
        assert!(
            app.refresh(&after.refresh_token).await.is_ok(),
            "session {n}"
        );
    }
    let twice = &results[SESSIONS - 1..];
    assert_eq!(
        twice.iter().filter(|result| result.is_ok()).count(),
        1,
        "one token presented twice rotates once"
    );
    app.finish().await;
}

async fn an_expired_refresh_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    app.clock.advance(7 * DAY + Duration::from_secs(1));
    assert_code(
        app.refresh(&tokens.refresh_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn a_session_never_outlives_its_absolute_lifetime(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let deadline = app.clock.now().timestamp() + 30 * 24 * 3600;
    let mut tokens = app.session("ada@example.com").await;
    // Refreshed every 6 days, well within the 7-day TTL, until one day before the 30-day limit.
    for _ in 0..4 {
        app.clock.advance(6 * DAY);
        tokens = app.refresh(&tokens.refresh_token).await.unwrap();
    }
    app.clock.advance(5 * DAY);
    tokens = app.refresh(&tokens.refresh_token).await.unwrap();
    let expires = tokens.refresh_expires_at.unwrap().seconds;
    assert!(
        (deadline - expires).abs() <= 1,
        "capped at the session's end, not now + 7 days"
    );
    app.clock.advance(DAY);
    assert_code(
        app.refresh(&tokens.refresh_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

/// The session's access tokens end with it too: one issued minutes before the end expires there,
/// not a full access token lifetime later.
async fn no_access_token_outlives_its_sessions_absolute_lifetime(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--session-max-lifetime", "1h"]).await;
    let tokens = app.session("ada@example.com").await;
    app.clock.advance(Duration::from_secs(55 * 60));
    let tokens = app.refresh(&tokens.refresh_token).await.unwrap();
    // Whole seconds, from a session start the database stores to the microsecond or millisecond.
    assert!(
        (299..=300).contains(&tokens.expires_in),
        "what is left of the session: {}",
        tokens.expires_in
    );
    app.clock.advance(Duration::from_secs(6 * 60));
    assert_code(
        app.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn malformed_and_unknown_tokens_are_unauthenticated_and_empty_is_invalid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_code(app.refresh("garbage").await, Code::Unauthenticated);
    let unknown = "A".repeat(43);
    assert_code(app.refresh(&unknown).await, Code::Unauthenticated);
    let status = assert_code(app.refresh("").await, Code::InvalidArgument);
    assert!(status.message().starts_with("refresh_token"));
    app.finish().await;
}

async fn a_deactivated_user_cannot_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    app.deactivate("ada@example.com").await;
    assert_code(
        app.refresh(&tokens.refresh_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn only_the_hash_of_a_refresh_token_is_stored(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT token_hash FROM refresh_tokens",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "token_hash").unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&tokens.refresh_token));
    app.finish().await;
}

crate::on_every_database!(
    refresh_rotates_the_token_within_the_session,
    reusing_a_rotated_token_revokes_the_whole_session,
    reuse_in_one_session_leaves_the_others_alone,
    of_twenty_concurrent_refreshes_with_one_token_exactly_one_succeeds,
    concurrent_refreshes_of_many_sessions_each_rotate_their_own,
    an_expired_refresh_token_is_unauthenticated,
    a_session_never_outlives_its_absolute_lifetime,
    no_access_token_outlives_its_sessions_absolute_lifetime,
    malformed_and_unknown_tokens_are_unauthenticated_and_empty_is_invalid,
    a_deactivated_user_cannot_refresh,
    only_the_hash_of_a_refresh_token_is_stored,
    a_live_token_rotates_in_one_step,
);

/// Another writer holding SQLite's lock past the busy timeout (a CLI command, a second process on
/// the file) makes a Refresh UNAVAILABLE, which clients retry, and consumes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_kept_from_sqlites_lock_is_unavailable() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let tokens = app.session("ada@example.com").await;
    let other_writer = app.db.begin().await.unwrap();
    other_writer
        .execute_unprepared("UPDATE users SET full_name = 'someone else writing'")
        .await
        .unwrap();
    assert_code(app.refresh(&tokens.refresh_token).await, Code::Unavailable);
    other_writer.rollback().await.unwrap();
    assert!(
        app.refresh(&tokens.refresh_token).await.is_ok(),
        "the token was not consumed"
    );
    app.finish().await;
}

/// The common refresh takes a live token in one step (one statement on PostgreSQL, the writer's
/// batch on SQLite, a transaction on MariaDB), and leaves a consumed one alone for reuse detection
/// to find. Over gRPC both answer alike, so this asks the store.
async fn a_live_token_rotates_in_one_step(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--session-max-lifetime", "2d"]).await;
    let signed_in_at = app.clock.now();
    let first = app.session("ada@example.com").await;
    app.clock.advance(DAY);
    let now = app.clock.now();
    let store = Store::connect(&app.database_url(), Some(1)).await.unwrap();
    let presented = refresh_token::parse(&first.refresh_token).unwrap();
    let successor = || {
        let (token, token_hash) = refresh_token::generate().unwrap();
        let stored = NewRefreshToken {
            id: Uuid::now_v7(),
            token_hash,
            client: ClientContext::default(),
            idle_expires_at: now + chrono::Duration::days(7),
        };
        (token, stored)
    };

    let (second, stored) = successor();
    let parent = store.rotate_presented(&presented, &stored, now).await;
    let parent = parent.unwrap().expect("a live token rotates in one step");
    assert_eq!(parent.user.email.as_str(), "ada@example.com");
    let ends_at = signed_in_at + chrono::Duration::days(2);
    let off_by = (parent.session_ends_at - ends_at).num_seconds().abs();
    assert!(
        off_by <= 1,
        "the session's end, set at login, travels with its tokens"
    );
    let again = store
        .rotate_presented(&presented, &successor().1, now)
        .await;
    assert!(again.unwrap().is_none(), "a consumed token is left alone");

    let third = app.refresh(&second).await.unwrap();
    let claims = app.validate(&third.access_token).await.unwrap();
    assert_eq!(claims.session_id, parent.token_family.to_string());
    let refresh_expires_at = third.refresh_expires_at.unwrap().seconds;
    assert!(
        (refresh_expires_at - ends_at.timestamp()).abs() <= 1,
        "the successor's successor still ends with the session, not a week from now"
    );
    store.close().await;
    app.finish().await;
}
