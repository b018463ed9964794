//! The schema, as an ordered list of reversible migrations. One definition serves SQLite, PostgreSQL
//! and MariaDB/MySQL; nothing here imports the service's code.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_users;
mod m20261122_000002_create_refresh_tokens;
mod m20261122_000003_create_login_attempts;
mod m20261122_000004_create_signing_keys;
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
        ]
    }
}
