//! The reuse grace window: a client that lost a refresh response may retry once, briefly.

use std::time::Duration;

use crate::helpers::{Backend, TestApp};

const GRACE: &[&str] = &["--refresh-reuse-grace", "30s"];

async fn a_retry_within_the_window_gets_a_fresh_pair_in_the_same_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, GRACE).await;
    let first = app.session("ada@example.com").await;
    let _lost = app.refresh(&first.refresh_token).await.unwrap();
    app.clock.advance(Duration::from_secs(5));
    let retried = app.refresh(&first.refresh_token).await.unwrap();
    let session = app.validate(&first.access_token).await.unwrap().session_id;
    assert_eq!(
        app.validate(&retried.access_token)
            .await
            .unwrap()
            .session_id,
        session
    );
    assert!(
        app.refresh(&retried.refresh_token).await.is_ok(),
        "the session goes on"
    );
    app.finish().await;
}

async fn the_response_the_retry_replaced_stops_working(backend: Backend) {
    let app = TestApp::spawn_with(backend, GRACE).await;
    let first = app.session("ada@example.com").await;
    let lost = app.refresh(&first.refresh_token).await.unwrap();
    let retried = app.refresh(&first.refresh_token).await.unwrap();
    // Never two live tokens: the replaced one is now a rotated token, so presenting it is reuse.
    app.assert_reuse_ends_session(&lost.refresh_token, &retried.refresh_token)
        .await;
    app.finish().await;
}

async fn only_one_retry_is_allowed(backend: Backend) {
    let app = TestApp::spawn_with(backend, GRACE).await;
    let first = app.session("ada@example.com").await;
    app.refresh(&first.refresh_token).await.unwrap();
    let retried = app.refresh(&first.refresh_token).await.unwrap();
    app.assert_reuse_ends_session(&first.refresh_token, &retried.refresh_token)
        .await;
    app.finish().await;
}

async fn a_retry_after_the_window_is_reuse(backend: Backend) {
    let app = TestApp::spawn_with(backend, GRACE).await;
    let first = app.session("ada@example.com").await;
    let second = app.refresh(&first.refresh_token).await.unwrap();
    app.clock.advance(Duration::from_secs(31));
    app.assert_reuse_ends_session(&first.refresh_token, &second.refresh_token)
        .await;
    app.finish().await;
}

async fn an_older_ancestor_within_the_window_is_reuse(backend: Backend) {
    let app = TestApp::spawn_with(backend, GRACE).await;
    let first = app.session("ada@example.com").await;
    let second = app.refresh(&first.refresh_token).await.unwrap();
    let third = app.refresh(&second.refresh_token).await.unwrap();
    app.assert_reuse_ends_session(&first.refresh_token, &third.refresh_token)
        .await;
    app.finish().await;
}

async fn without_a_window_a_retry_is_reuse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.session("ada@example.com").await;
    let second = app.refresh(&first.refresh_token).await.unwrap();
    app.assert_reuse_ends_session(&first.refresh_token, &second.refresh_token)
        .await;
    app.finish().await;
}

crate::on_every_database!(
    a_retry_within_the_window_gets_a_fresh_pair_in_the_same_session,
    the_response_the_retry_replaced_stops_working,
    only_one_retry_is_allowed,
    a_retry_after_the_window_is_reuse,
    an_older_ancestor_within_the_window_is_reuse,
    without_a_window_a_retry_is_reuse,
);
