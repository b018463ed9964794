//! The schema, as an ordered list of reversible migrations. One definition serves SQLite, PostgreSQL
//! and MariaDB/MySQL; nothing here imports the service's code.

use std::collections::HashSet;

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::{sea_orm::EntityTrait, seaql_migrations};

mod m20261122_000001_create_users;
mod m20261122_000002_create_refresh_tokens;
mod m20261122_000003_create_login_attempts;
mod m20261122_000004_create_signing_keys;
mod m20261122_000005_add_refresh_token_parent;
mod m20261122_000006_index_login_attempts_by_address;
mod m20261122_000007_create_login_guards;
mod m20261122_000008_add_signing_key_activation;
mod m20261123_000009_create_revocations;
mod m20261123_000010_index_login_attempts_that_count;
mod m20261205_000011_store_refresh_token_session_end;
mod timestamps;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_refresh_tokens::Migration),
            Box::new(m20261122_000003_create_login_attempts::Migration),
            Box::new(m20261122_000004_create_signing_keys::Migration),
            Box::new(m20261122_000005_add_refresh_token_parent::Migration),
            Box::new(m20261122_000006_index_login_attempts_by_address::Migration),
            Box::new(m20261122_000007_create_login_guards::Migration),
            Box::new(m20261122_000008_add_signing_key_activation::Migration),
            Box::new(m20261123_000009_create_revocations::Migration),
            Box::new(m20261123_000010_index_login_attempts_that_count::Migration),
            Box::new(m20261205_000011_store_refresh_token_session_end::Migration),
        ]
    }
}

impl Migrator {
    /// Whether every migration of this build is applied. Migrations of a newer release may be
    /// applied too, so old replicas keep serving through a rolling deploy.
    pub async fn is_current<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
        let applied: HashSet<String> = seaql_migrations::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|row| row.version)
            .collect();
        Ok(Self::migrations()
            .iter()
            .all(|migration| applied.contains(migration.name())))
    }
}
