//! Old refresh tokens, login attempts and revocations are deleted, in batches, by the server and by
//! the CLI.

use std::time::Duration;

use auth_service::db::entities::{login_attempts, refresh_tokens, revocations};
use sea_orm::{EntityTrait, PaginatorTrait, sea_query::Expr};

use crate::helpers::{Backend, TestApp};

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn tokens(app: &TestApp) -> u64 {
    refresh_tokens::Entity::find().count(&app.db).await.unwrap()
}

async fn revocations(app: &TestApp) -> u64 {
    revocations::Entity::find().count(&app.db).await.unwrap()
}

async fn attempts(app: &TestApp) -> u64 {
    login_attempts::Entity::find().count(&app.db).await.unwrap()
}

/// Polls (bounded: 10 s) until `count` reports `expected`.
async fn wait_for<F, Fut>(expected: u64, count: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    for _ in 0..500 {
        if count().await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count().await, expected);
}

async fn the_server_deletes_what_is_past_retention_and_keeps_the_rest(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--cleanup-interval", "50ms"]).await;
    let ended = app.session("ada@example.com").await;
    app.revoke(&ended.refresh_token, false).await.unwrap();
    let live = app.session("ada@example.com").await;
    assert_eq!(tokens(&app).await, 2);
    assert_eq!(revocations(&app).await, 1);
    let recorded = attempts(&app).await;

    // Revoked 8 days ago: gone. Expired only 1 day ago: kept (for 7 days after its expiry).
    app.clock.advance(8 * DAY);
    wait_for(1, || tokens(&app)).await;
    wait_for(0, || revocations(&app)).await;
    assert_eq!(
        attempts(&app).await,
        recorded,
        "attempts are kept for 90 days"
    );
    assert_eq!(
        app.refresh(&live.refresh_token).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );

    app.clock.advance(90 * DAY);
    wait_for(0, || tokens(&app)).await;
    wait_for(0, || attempts(&app)).await;
    app.finish().await;
}

async fn the_cleanup_command_deletes_in_batches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..5 {
        let tokens = app.session("ada@example.com").await;
        app.revoke(&tokens.refresh_token, false).await.unwrap();
    }
    let long_ago = app.clock.now() - chrono::Duration::days(365);
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(long_ago))
        .exec(&app.db)
        .await
        .unwrap();
    login_attempts::Entity::update_many()
        .col_expr(login_attempts::Column::AttemptedAt, Expr::value(long_ago))
        .exec(&app.db)
        .await
        .unwrap();
    let kept = app.session("bob@example.com").await;

    let output = app.cli(&["cleanup", "--cleanup-batch-size", "2"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("deleted 5 refresh tokens, 6 login attempts"),
        "{stdout}"
    );
    assert_eq!(tokens(&app).await, 1);
    assert!(app.refresh(&kept.refresh_token).await.is_ok());
    app.finish().await;
}

crate::on_every_database!(
    the_server_deletes_what_is_past_retention_and_keeps_the_rest,
    the_cleanup_command_deletes_in_batches,
);
