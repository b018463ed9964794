use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use tempfile::TempDir;

use super::*;
use crate::{
    db::{NewUser, Store, sessions},
    domain::{ClientContext, Email, Role, TokenHash},
};

fn token(user_id: Uuid, hash_byte: u8, parent_id: Option<Uuid>) -> NewRefreshToken {
    let now = Utc::now();
    NewRefreshToken {
        id: Uuid::now_v7(),
        user_id,
        token_hash: TokenHash::from_digest(&[hash_byte; 32]),
        token_family: Uuid::new_v4(),
        session_started_at: now,
        expires_at: now + chrono::Duration::days(7),
        client: ClientContext::default(),
        parent_id,
    }
}

/// A migrated SQLite file with one user and three sessions, whose first tokens have the hashes
/// 1, 2 and 3 (see [`token`]).
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
        let user = store.insert_user(new_user, Utc::now()).await.unwrap();
        let firsts: Vec<NewRefreshToken> = (1..=3).map(|n| token(user.id, n, None)).collect();
        for first in &firsts {
            sessions::insert_token(store.connection(), first, Utc::now())
                .await
                .unwrap();
        }
        Self {
            _dir: dir,
            url,
            store,
            user_id: user.id,
            firsts,
        }
    }

    fn successor(&self, session: usize, hash_byte: u8) -> NewRefreshToken {
        token(self.user_id, hash_byte, Some(self.firsts[session].id))
    }

    fn writer(&self) -> RotationWriter {
        self.store.rotation_writer.clone().unwrap()
    }
}

fn draft(hash_byte: u8, idle_limit: DateTime<Utc>) -> SuccessorDraft {
    SuccessorDraft {
        id: Uuid::now_v7(),
        token_hash: TokenHash::from_digest(&[hash_byte; 32]),
        client: ClientContext::default(),
        idle_limit,
        session_lifetime: chrono::Duration::days(30),
    }
}

/// In one batch the rotations are decided as if they came one by one: a token known by id is
/// consumed before the same token presented by hash, and a token presented twice rotates once.
#[tokio::test]
async fn a_batch_rotates_each_token_once_whichever_way_it_came() {
    let sessions = ThreeSessions::new().await;
    let now = Utc::now();
    let writer = sessions.writer();
    let firsts = &sessions.firsts;
    let soon = now + chrono::Duration::hours(1);
    let known_successor = sessions.successor(0, 11);
    let drafts = [draft(12, soon), draft(13, soon), draft(14, soon)];
    // On this test's single-threaded runtime the writer only runs once all four wait.
    let (known, behind_known, presented, presented_again) = tokio::join!(
        writer.rotate(firsts[0].id, &known_successor, now),
        writer.rotate_presented(&firsts[0].token_hash, &drafts[0], now),
        writer.rotate_presented(&firsts[1].token_hash, &drafts[1], now),
        writer.rotate_presented(&firsts[1].token_hash, &drafts[2], now),
    );
    assert!(known.unwrap());
    assert!(behind_known.unwrap().is_none());
    let rotated = presented.unwrap().expect("a live token presented rotates");
    assert_eq!(rotated.token_family, firsts[1].token_family);
    assert_eq!(rotated.user.id, sessions.user_id);
    assert_eq!(
        rotated.successor_expires_at, soon,
        "the earlier of the two limits"
    );
    assert!(presented_again.unwrap().is_none());
    let successor = TokenHash::from_digest(&[13; 32]);
    let next = writer
        .rotate_presented(&successor, &draft(15, soon), now)
        .await;
    assert!(next.unwrap().is_some(), "the successor was stored");
}

/// A token past its expiry, or whose user is deactivated, is left untouched for the long way.
#[tokio::test]
async fn a_token_that_is_not_live_is_left_alone() {
    let sessions = ThreeSessions::new().await;
    let writer = sessions.writer();
    let later = sessions.firsts[0].expires_at + chrono::Duration::seconds(1);
    let soon = later + chrono::Duration::hours(1);
    let first = &sessions.firsts[0].token_hash;
    let expired = writer
        .rotate_presented(first, &draft(11, soon), later)
        .await;
    assert!(expired.unwrap().is_none());
    sessions
        .store
        .connection()
        .execute_unprepared("UPDATE users SET is_active = false")
        .await
        .unwrap();
    let now = Utc::now();
    let second = &sessions.firsts[1];
    let inactive = writer
        .rotate_presented(&second.token_hash, &draft(12, soon), now)
        .await;
    assert!(inactive.unwrap().is_none());
    let untouched = writer
        .rotate(second.id, &sessions.successor(1, 13), now)
        .await;
    assert!(untouched.unwrap(), "nothing was consumed");
}

/// A batch whose insert fails is retried one rotation at a time: the rotation that cannot be
/// stored fails, and only it.
#[tokio::test]
async fn a_rotation_that_fails_fails_alone() {
    let sessions = ThreeSessions::new().await;
    let now = Utc::now();
    // The second successor reuses the first session's token hash, which is unique.
    let successors = [
        sessions.successor(0, 11),
        sessions.successor(1, 1),
        sessions.successor(2, 13),
    ];
    let writer = sessions.writer();
    let firsts = &sessions.firsts;
    // On this test's single-threaded runtime the writer only runs once all three wait.
    let (first, second, third) = tokio::join!(
        writer.rotate(firsts[0].id, &successors[0], now),
        writer.rotate(firsts[1].id, &successors[1], now),
        writer.rotate(firsts[2].id, &successors[2], now),
    );
    assert!(first.unwrap());
    assert!(second.is_err());
    assert!(third.unwrap());
    assert!(
        writer
            .rotate(firsts[1].id, &sessions.successor(1, 12), now)
            .await
            .unwrap(),
        "the failed rotation consumed nothing"
    );
}

/// The same for rotations presented by hash: the one whose successor cannot be stored fails alone,
/// and its token stays live.
#[tokio::test]
async fn a_presented_rotation_that_fails_fails_alone() {
    let sessions = ThreeSessions::new().await;
    let now = Utc::now();
    let soon = now + chrono::Duration::hours(1);
    // The second draft reuses the third session's token hash, which is unique.
    let drafts = [draft(11, soon), draft(3, soon)];
    let writer = sessions.writer();
    let firsts = &sessions.firsts;
    let known_successor = sessions.successor(2, 14);
    let (first, second, known) = tokio::join!(
        writer.rotate_presented(&firsts[0].token_hash, &drafts[0], now),
        writer.rotate_presented(&firsts[1].token_hash, &drafts[1], now),
        writer.rotate(firsts[2].id, &known_successor, now),
    );
    assert!(first.unwrap().is_some());
    assert!(second.is_err());
    assert!(known.unwrap());
    let again = writer
        .rotate_presented(&firsts[1].token_hash, &draft(12, soon), now)
        .await;
    assert!(
        again.unwrap().is_some(),
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
    let rotations: Vec<_> = (0..3)
        .map(|session| {
            let writer = writer.clone();
            let current = sessions.firsts[session].id;
            let successor = sessions.successor(session, 11 + session as u8);
            tokio::spawn(async move { writer.rotate(current, &successor, Utc::now()).await })
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
