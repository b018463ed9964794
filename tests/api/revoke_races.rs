//! A revoke that waits on a rotation still in flight must also revoke the successor that rotation
//! commits. Only databases with row locks can interleave the two; SQLite runs one writer at a time.

use std::time::{Duration, Instant};

use auth_service::{
    auth::refresh_token,
    db::entities::refresh_tokens,
    grpc::proto::{RevokeRequest, TokenPair},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, Statement, TransactionTrait, sea_query::Expr,
};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, on};

/// Consumes the session's token and stores a successor in `transaction`, left uncommitted: a
/// rotation caught between its last statement and its commit. Returns the successor's token.
async fn rotation_in_flight(transaction: &DatabaseTransaction, session: &TokenPair) -> String {
    let hash = refresh_token::parse(&session.refresh_token).unwrap();
    let current = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash.as_str()))
        .one(transaction)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(current.id))
        .exec(transaction)
        .await
        .unwrap();
    let (successor, successor_hash) = refresh_token::generate().unwrap();
    let row = refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(current.user_id),
        token_hash: Set(successor_hash.as_str().to_owned()),
        token_family: Set(current.token_family),
        session_started_at: Set(current.session_started_at),
        session_ends_at: Set(current.session_ends_at),
        idle_expires_at: Set(current.idle_expires_at),
        revoked_at: Set(None),
        user_agent: Set(None),
        ip_address: Set(None),
        created_at: Set(now),
        parent_id: Set(Some(current.id)),
    };
    refresh_tokens::Entity::insert(row)
        .exec_without_returning(transaction)
        .await
        .unwrap();
    successor
}

/// Waits until some statement on the app's database waits for a row lock.
async fn wait_for_a_lock_wait(app: &TestApp) {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) AS waiting FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'"
        }
        _ => {
            "SELECT COUNT(*) AS waiting FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = app
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let waiting: i64 = row.try_get("", "waiting").unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the revoke never waited on the rotation"
        );
        // Slower than MariaDB's lock tables refresh: they serve a cached copy to reads that come
        // less than 100 ms after the previous one.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn a_revoke_racing_a_rotation_also_revokes_its_successor(
    backend: Backend,
    all_sessions: bool,
) {
    let app = TestApp::spawn(backend).await;
    let session = app.session("ada@example.com").await;
    let rotation = app.db.begin().await.unwrap();
    let successor = rotation_in_flight(&rotation, &session).await;
    let mut client = app.client.clone();
    let revoke = tokio::spawn(async move {
        let request = RevokeRequest {
            refresh_token: session.refresh_token,
            all_sessions,
        };
        client.revoke(request).await
    });
    wait_for_a_lock_wait(&app).await;
    rotation.commit().await.unwrap();
    let revoked = revoke.await.unwrap().unwrap().into_inner().revoked_sessions;
    assert_eq!(
        revoked, 1,
        "{backend:?}: the session was live when the revoke began"
    );
    let refreshed = app.refresh(&successor).await;
    assert!(
        refreshed
            .as_ref()
            .is_err_and(|status| status.code() == Code::Unauthenticated),
        "{backend:?}: the successor outlived the revoke: {:?}",
        refreshed.map(|_| "refresh answered a new pair")
    );
    app.finish().await;
}

/// On PostgreSQL, then MariaDB: the two databases whose writers can interleave.
async fn on_databases_with_row_locks(all_sessions: bool) {
    for backend in [Backend::Postgres, Backend::MySql] {
        on(backend, |backend| {
            a_revoke_racing_a_rotation_also_revokes_its_successor(backend, all_sessions)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_session_while_it_rotates_revokes_the_successor() {
    on_databases_with_row_locks(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_all_sessions_while_one_rotates_revokes_the_successor() {
    on_databases_with_row_locks(true).await;
}

/// SQLite: a deferred transaction that reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT,
/// no busy wait) when another writer committed after its read. Revoking all of a user's sessions
/// reads them first, while other users' rotations commit all the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_revoking_all_sessions_succeeds_while_others_rotate() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    let app = Arc::new(TestApp::spawn(Backend::Sqlite).await);
    let stop = Arc::new(AtomicBool::new(false));
    let mut rotating = Vec::new();
    for caller in 0..4 {
        let (app, stop) = (app.clone(), stop.clone());
        let mut token = app
            .session(&format!("r{caller}@example.com"))
            .await
            .refresh_token;
        rotating.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                token = app.refresh(&token).await.unwrap().refresh_token;
                // Commits often enough to land between a revoke's read and its write, with gaps
                // for the other writers: this is about stale reads, not a starved lock.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    let mut refused = Vec::new();
    for _ in 0..40 {
        let session = app.session("ada@example.com").await;
        if let Err(status) = app.revoke(&session.refresh_token, true).await {
            refused.push(status.code());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in rotating {
        task.await.unwrap();
    }
    assert!(refused.is_empty(), "{refused:?}");
    Arc::into_inner(app).unwrap().finish().await;
}
