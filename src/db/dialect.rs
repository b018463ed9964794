//! Everything that differs between the databases, decided once at connect time. Each operation
//! that differs is one method here with one visible `match`; everything else in `db` is written
//! once for all three.
//!
//! | what | SQLite | PostgreSQL | MariaDB/MySQL |
//! | --- | --- | --- | --- |
//! | pool | 2 connections, WAL (one writer: more only queue in its busy handler) | 10 | 10 |
//! | rotation | batched by one writer task (`sqlite`) | one statement (`postgres`) | a transaction (`rotation`) |
//! | login gate | the write lock, taken as the transaction begins | guard rows | guard rows |
//! | login's finish | a transaction | one statement | a transaction |
//! | read-then-write transactions | `BEGIN IMMEDIATE` | default | default |
//! | revoking transactions | `BEGIN IMMEDIATE` | REPEATABLE READ, retried | default |
//! | revocations reach replicas | polling | NOTIFY, and polling | polling |
//!
//! Why each differs, measured: docs/ARCHITECTURE.md and docs/PERFORMANCE.md.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, IsolationLevel,
    RuntimeErr, SqliteTransactionMode, TransactionOptions, sqlx,
};
use uuid::Uuid;

use super::{
    RevocationListener, attempts, postgres, rotation, sqlite,
    tokens::{NewRefreshToken, NewSession, StoredRefreshToken},
};
use crate::{domain::TokenHash, error::AuthError};

/// PostgreSQL and MariaDB: see docs/PERFORMANCE.md.
const SERVER_CONNECTIONS: u32 = 10;

#[derive(Debug, Clone)]
pub(super) enum Dialect {
    /// With the task every rotation goes through.
    Sqlite(sqlite::RotationWriter),
    Postgres,
    MySql,
}

/// What a transaction is for, which decides how it begins.
#[derive(Debug, Clone, Copy)]
pub(super) enum TransactionPurpose {
    /// Reads, then writes what it read decided.
    ReadThenWrite,
    /// Revokes sessions; must see every rotation committed before it.
    Revoke,
}

impl Dialect {
    /// Start-up only: connects with the settings each database needs.
    pub(super) async fn connect(
        url: &str,
        max_connections: Option<u32>,
    ) -> Result<(DatabaseConnection, Self), DbErr> {
        let is_sqlite = url.starts_with("sqlite:");
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections.unwrap_or(if is_sqlite {
                sqlite::CONNECTIONS
            } else {
                SERVER_CONNECTIONS
            }))
            .min_connections(1)
            .connect_timeout(std::time::Duration::from_secs(5))
            .acquire_timeout(std::time::Duration::from_secs(5))
            .sqlx_logging(false);
        if is_sqlite {
            sqlite::configure(&mut options);
        }
        let conn = Database::connect(options).await?;
        let dialect = match conn.get_database_backend() {
            sea_orm::DbBackend::Sqlite => Self::Sqlite(sqlite::RotationWriter::spawn(conn.clone())),
            sea_orm::DbBackend::Postgres => Self::Postgres,
            // MySQL, and whatever a later SeaORM adds: the portable way.
            _ => Self::MySql,
        };
        Ok((conn, dialect))
    }

    /// A SQLite transaction that reads before it writes takes the write lock as it begins: a
    /// deferred one that has read fails at once when it comes to write if another writer committed
    /// after its read (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out), and the rotation
    /// writer commits all the time. A PostgreSQL revocation runs under REPEATABLE READ (see
    /// `Store::revoking`); InnoDB updates read the latest committed rows, so MariaDB needs neither.
    pub(super) fn transaction(&self, purpose: TransactionPurpose) -> TransactionOptions {
        let (isolation_level, sqlite_transaction_mode) = match (self, purpose) {
            (Self::Sqlite(_), _) => (None, Some(SqliteTransactionMode::Immediate)),
            (Self::Postgres, TransactionPurpose::Revoke) => {
                (Some(IsolationLevel::RepeatableRead), None)
            }
            (Self::Postgres | Self::MySql, _) => (None, None),
        };
        TransactionOptions {
            isolation_level,
            sqlite_transaction_mode,
            ..TransactionOptions::default()
        }
    }

    pub(super) async fn rotate_presented(
        &self,
        conn: &DatabaseConnection,
        presented: &TokenHash,
        successor: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        match self {
            Self::Sqlite(writer) => writer.rotate(presented, successor, now).await,
            Self::Postgres => postgres::rotate_presented(conn, presented, successor, now).await,
            Self::MySql => {
                rotation::rotate_presented_in_transaction(conn, presented, successor, now).await
            }
        }
    }

    /// An open transaction in which no other attempt on the same `keys` can be counted or
    /// recorded. SQLite needs no guard row: it has one writer, and a transaction that takes the
    /// write lock as it begins keeps every other attempt out until it ends.
    pub(super) async fn open_gate(
        &self,
        conn: &DatabaseConnection,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<DatabaseTransaction, AuthError> {
        use sea_orm::TransactionTrait;
        match self {
            Self::Sqlite(_) => conn
                .begin_with_options(self.transaction(TransactionPurpose::ReadThenWrite))
                .await
                .map_err(db_error),
            Self::Postgres | Self::MySql => attempts::lock_guard_rows(conn, keys, now).await,
        }
    }

    pub(super) async fn finish_successful_login(
        &self,
        conn: &DatabaseConnection,
        attempt: Uuid,
        session: &NewSession,
        first_token: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match self {
            Self::Postgres => {
                postgres::finish_successful_login(conn, attempt, session, first_token, now).await
            }
            Self::Sqlite(_) | Self::MySql => {
                attempts::finish_successful_login_in_transaction(
                    conn,
                    attempt,
                    session,
                    first_token,
                    now,
                )
                .await
            }
        }
    }

    /// Tells the other replicas, when `transaction` commits, that it revoked something.
    pub(super) async fn announce_revocation(
        &self,
        transaction: &DatabaseTransaction,
    ) -> Result<(), DbErr> {
        match self {
            Self::Postgres => postgres::announce_revocation(transaction).await,
            Self::Sqlite(_) | Self::MySql => Ok(()),
        }
    }

    pub(super) async fn revocation_listener(
        &self,
        conn: &DatabaseConnection,
    ) -> Result<Option<RevocationListener>, AuthError> {
        match self {
            Self::Postgres => RevocationListener::connect(conn).await.map(Some),
            Self::Sqlite(_) | Self::MySql => Ok(None),
        }
    }
}

/// Outages and lock timeouts are UNAVAILABLE (worth a retry); everything else is a bug or a
/// surprise, and INTERNAL.
pub(crate) fn db_error(error: DbErr) -> AuthError {
    if is_unavailable(&error) {
        AuthError::Unavailable(error.into())
    } else {
        AuthError::Internal(error.into())
    }
}

/// What each database reports for a conflict worth retrying: SQLite busy or locked (5, 6 and
/// their extended codes); PostgreSQL serialization failure (40001) and deadlock (40P01); MariaDB's
/// deadlock, which it reports as 40001 too.
fn retryable_code(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
        || code
            .parse::<u32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

fn database_code(error: &DbErr) -> Option<String> {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            match error.as_ref() {
                sqlx::Error::Database(database) => database.code().map(|code| code.into_owned()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// PostgreSQL's "could not serialize access due to concurrent update".
pub(super) fn is_serialization_failure(error: &DbErr) -> bool {
    database_code(error).as_deref() == Some("40001")
}

fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            match error.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(database) => {
                    database.code().is_some_and(|code| retryable_code(&code))
                }
                _ => false,
            }
        }
        _ => false,
    }
}
