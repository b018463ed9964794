use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use tempfile::TempDir;
use uuid::Uuid;

use super::*;
use crate::{
    db::{
        NewSession, NewUser, Store,
        dialect::Dialect,
        tokens::{Lineage, insert_tokens, token_row},
    },
    domain::{ClientContext, Email, Role, TokenHash},
};

fn token(hash_byte: u8, idle_expires_at: DateTime<Utc>) -> NewRefreshToken {
    NewRefreshToken {
        id: Uuid::now_v7(),
        token_hash: TokenHash::from_digest(&[hash_byte; 32]),
        client: ClientContext::default(),
        idle_expires_at,
    }
}

/// A migrated SQLite file with one user and three sessions, whose first tokens have the hashes
/// 1, 2 and 3 (see [`token`]) and expire in a week.
struct ThreeSessions {
    _dir: TempDir,
    url: String,
    store: Store,
    user_id: Uuid,
    firsts: Vec<NewRefreshToken>,
}

impl ThreeSessions {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display());
        let store = Store::connect(&url, None).await.unwrap();
        Migrator::up(store.connection(), None).await.unwrap();
        let new_user = NewUser {
            email: Email::parse("ada@example.com").unwrap(),
            username: None,
            full_name: None,
            password_hash: "not a real hash".into(),
            role: Role::User,
        };
        let now = Utc::now();
        let user = store.insert_user(new_user, now).await.unwrap();
        let week = now + chrono::Duration::days(7);
        let firsts: Vec<NewRefreshToken> = (1..=3).map(|n| token(n, week)).collect();
        for first in &firsts {
            let session = NewSession {
                id: Uuid::new_v4(),
                user_id: user.id,
                started_at: now,
                ends_at: now + chrono::Duration::days(30),
            };
            let row = token_row(first, &Lineage::Starts(&session), now);
            insert_tokens(store.connection(), [row]).await.unwrap();
        }
        Self {
            _dir: dir,
            url,
            store,
            user_id: user.id,
            firsts,
        }
    }

    fn writer(&self) -> RotationWriter {
        match &self.store.dialect {
            Dialect::Sqlite(writer) => writer.clone(),
            other => panic!("not SQLite: {other:?}"),
        }
    }

    /// Whether the first token of `session` is still unconsumed.
    async fn first_is_unconsumed(&self, session: usize) -> bool {
        let first = &self.firsts[session].token_hash;
        let found = self.store.find_refresh_token(first).await.unwrap();
        found.unwrap().revoked_at.is_none()
    }
}

/// In one batch the rotations are decided as if they came one by one: a token presented twice
/// rotates once.
#[tokio::test]
async fn a_batch_rotates_each_token_once() {
    let sessions = ThreeSessions::new().await;
    let now = Utc::now();
    let writer = sessions.writer();
    let firsts = &sessions.firsts;
    let soon = now + chrono::Duration::hours(1);
    let successors = [token(11, soon), token(12, soon), token(13, soon)];
    // On this test's single-threaded runtime the writer only runs once all three wait.
    let (first, second, second_again) = tokio::join!(
        writer.rotate(&firsts[0].token_hash, &successors[0], now),
        writer.rotate(&firsts[1].token_hash, &successors[1], now),
        writer.rotate(&firsts[1].token_hash, &successors[2], now),
    );
    assert!(first.unwrap().is_some());
    let rotated = second.unwrap().expect("a live token presented rotates");
    assert_eq!(rotated.user.id, sessions.user_id);
    assert!(second_again.unwrap().is_none());
    let next = writer
        .rotate(&successors[1].token_hash, &token(15, soon), now)
        .await;
    let next = next.unwrap().expect("the successor was stored");
    assert_eq!(
        next.token_family, rotated.token_family,
        "in the same session"
    );
}

/// A token past its expiry, or whose user is deactivated, is left untouched.
#[tokio::test]
async fn a_token_that_is_not_live_is_left_alone() {
    let sessions = ThreeSessions::new().await;
    let writer = sessions.writer();
    let later = sessions.firsts[0].idle_expires_at + chrono::Duration::seconds(1);
    let soon = later + chrono::Duration::hours(1);
    let first = &sessions.firsts[0].token_hash;
    let expired = writer.rotate(first, &token(11, soon), later).await;
    assert!(expired.unwrap().is_none());
    sessions
        .store
        .connection()
        .execute_unprepared("UPDATE users SET is_active = false")
        .await
        .unwrap();
    let now = Utc::now();
    let second = &sessions.firsts[1].token_hash;
    let inactive = writer.rotate(second, &token(12, soon), now).await;
    assert!(inactive.unwrap().is_none());
    assert!(sessions.first_is_unconsumed(0).await);
    assert!(sessions.first_is_unconsumed(1).await);
}

/// A batch whose insert fails is retried one rotation at a time: the one whose successor cannot
/// be stored fails, and only it, and its token stays live.
#[tokio::test]
async fn a_rotation_that_fails_fails_alone() {
    let sessions = ThreeSessions::new().await;
    let now = Utc::now();
    let soon = now + chrono::Duration::hours(1);
    // The second successor reuses the third session's token hash, which is unique.
    let successors = [token(11, soon), token(3, soon), token(13, soon)];
    let writer = sessions.writer();
    let firsts = &sessions.firsts;
    let (first, second, third) = tokio::join!(
        writer.rotate(&firsts[0].token_hash, &successors[0], now),
        writer.rotate(&firsts[1].token_hash, &successors[1], now),
        writer.rotate(&firsts[2].token_hash, &successors[2], now),
    );
    assert!(first.unwrap().is_some());
    assert!(second.is_err());
    assert!(third.unwrap().is_some());
    assert!(
        sessions.first_is_unconsumed(1).await,
        "the failed rotation consumed nothing"
    );
}

/// A batch that gave up waiting for SQLite's lock answers every rotation in it UNAVAILABLE at
/// once. Retrying each alone would queue them behind the same lock, one busy timeout each, and
/// every rotation arriving meanwhile behind them.
#[tokio::test]
async fn a_batch_kept_from_the_lock_is_unavailable_at_once() {
    let sessions = ThreeSessions::new().await;
    let other_process = Database::connect(&sessions.url).await.unwrap();
    let mut holding_the_lock = Some(other_process.begin().await.unwrap());
    holding_the_lock
        .as_ref()
        .unwrap()
        .execute_unprepared("UPDATE users SET full_name = 'someone else writing'")
        .await
        .unwrap();
    let writer = sessions.writer();
    let soon = Utc::now() + chrono::Duration::hours(1);
    let rotations: Vec<_> = (0..3)
        .map(|session| {
            let writer = writer.clone();
            let presented = sessions.firsts[session].token_hash.clone();
            let successor = token(11 + session as u8, soon);
            tokio::spawn(async move { writer.rotate(&presented, &successor, Utc::now()).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for (n, rotation) in rotations.into_iter().enumerate() {
        outcomes.push(rotation.await.unwrap());
        if let (0, Some(lock)) = (n, holding_the_lock.take()) {
            // Whatever is still waiting now would get the lock.
            lock.rollback().await.unwrap();
        }
    }
    for outcome in outcomes {
        assert!(
            matches!(outcome, Err(AuthError::Unavailable(_))),
            "{outcome:?}"
        );
    }
}
