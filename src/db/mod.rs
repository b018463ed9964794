//! Storage: SeaORM queries behind plain methods that take and return domain values. Constraint
//! violations and outages become domain errors here; nothing above sees a SeaORM type.
//!
//! What differs per database is decided once, at connect time, into a [`dialect::Dialect`]; the
//! rest is written once for all three. Words: the domain's *session* is stored as a *token family*
//! (see `tokens`).

mod admin;
mod attempts;
mod cleanup;
mod dialect;
pub mod entities;
mod keys;
mod postgres;
mod revocation_log;
mod revoke;
mod rotation;
mod sqlite;
mod tokens;
mod users;

use sea_orm::{DatabaseConnection, DbErr};

pub use admin::AccountChange;
pub use attempts::{AttemptGate, RecentAttempts};
pub(crate) use dialect::db_error;
pub use keys::StoredSigningKey;
pub use postgres::{RevocationListener, Wakeup};
pub use revocation_log::RecordedRevocation;
pub use tokens::{NewRefreshToken, NewSession, StoredRefreshToken};
pub use users::{NewUser, StoredCredentials};

use crate::error::AuthError;
use dialect::Dialect;

#[derive(Debug, Clone)]
pub struct Store {
    conn: DatabaseConnection,
    dialect: Dialect,
}

impl Store {
    /// Start-up only.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Self, DbErr> {
        let (conn, dialect) = Dialect::connect(url, max_connections).await?;
        Ok(Self { conn, dialect })
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
