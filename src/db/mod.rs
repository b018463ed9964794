//! Storage: SeaORM queries behind plain methods that take and return domain values. Constraint
//! violations and outages become domain errors here; nothing above sees a SeaORM type.

mod admin;
mod attempts;
mod cleanup;
pub mod entities;
mod group_commit;
mod keys;
mod postgres_rotation;
mod revocations;
mod rotation;
mod sessions;
mod users;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, IsolationLevel, RuntimeErr,
    SqliteTransactionMode, TransactionOptions,
    sqlx::{
        self,
        sqlite::{SqliteJournalMode, SqliteSynchronous},
    },
};

pub use admin::AccountChange;
pub use attempts::{AttemptGate, RecentAttempts};
pub use keys::StoredSigningKey;
pub use revocations::{RecordedRevocation, RevocationListener, Wakeup};
pub use rotation::{RotatedSession, SuccessorDraft};
pub use sessions::{NewRefreshToken, StoredRefreshToken};
pub use users::{NewUser, StoredCredentials};

use crate::error::AuthError;
use group_commit::RotationWriter;

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite has one writer at a time; more connections only queue more writers in its busy handler,
/// which sleeps in steps of up to 100 ms. Measured in docs/PERFORMANCE.md (Refresh p99 at 8 callers:
/// 16 ms with 2, 39 ms with 5, 82 ms with 10), and ValidateToken is served from memory.
const SQLITE_CONNECTIONS: u32 = 2;

/// PostgreSQL and MariaDB: see docs/PERFORMANCE.md.
const SERVER_CONNECTIONS: u32 = 10;

#[derive(Debug, Clone)]
pub struct Store {
    conn: DatabaseConnection,
    /// SQLite only: one writer there, so rotations are committed in batches.
    rotation_writer: Option<RotationWriter>,
}

impl Store {
    /// Start-up only.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Self, DbErr> {
        let is_sqlite = url.starts_with("sqlite:");
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections.unwrap_or(if is_sqlite {
                SQLITE_CONNECTIONS
            } else {
                SERVER_CONNECTIONS
            }))
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|options| {
                options
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            });
        let conn = Database::connect(options).await?;
        let rotation_writer = is_sqlite.then(|| RotationWriter::spawn(conn.clone()));
        Ok(Self {
            conn,
            rotation_writer,
        })
    }

    /// For migrations at start-up.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub async fn ping(&self) -> Result<(), AuthError> {
        self.conn.ping().await.map_err(db_error)
    }

    /// Whether the schema has every migration this build needs.
    pub async fn schema_is_current(&self) -> Result<bool, AuthError> {
        migration::Migrator::is_current(&self.conn)
            .await
            .map_err(db_error)
    }

    pub async fn close(&self) {
        if let Err(error) = self.conn.close_by_ref().await {
            tracing::warn!(error = %error, "closing the database pool failed");
        }
    }
}

/// For a transaction that reads before it writes. On SQLite it takes the write lock as it begins:
/// a deferred one that has read fails at once when it comes to write if another writer committed
/// after its read (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out), and the rotation
/// writer commits all the time.
pub(crate) fn read_then_write(
    backend: DbBackend,
    isolation_level: Option<IsolationLevel>,
) -> TransactionOptions {
    TransactionOptions {
        isolation_level,
        sqlite_transaction_mode: (backend == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
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

/// PostgreSQL's "could not serialize access due to concurrent update".
fn is_serialization_failure(error: &DbErr) -> bool {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            matches!(error.as_ref(), sqlx::Error::Database(database)
                if database.code().as_deref() == Some("40001"))
        }
        _ => false,
    }
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
                // SQLite busy/locked (5, 6 and their extended codes), PostgreSQL serialization
                // failure and deadlock.
                sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                    matches!(code.as_ref(), "40001" | "40P01")
                        || code
                            .parse::<u32>()
                            .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
                }),
                _ => false,
            }
        }
        _ => false,
    }
}
