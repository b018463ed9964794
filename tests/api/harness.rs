//! The harness itself: what the suite relies on to leave the database servers as it found them.

use sea_orm::{ConnectionTrait, Database, Statement};

use crate::helpers::{Backend, TestDatabase, on};

/// What unwinding from a panicking test does to its database: dropped without `finish`.
async fn a_test_database_is_dropped_even_when_its_test_never_finishes(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let name = database.name().to_owned();
    assert!(exists(backend, &name).await, "the database was made");
    drop(database);
    assert!(!exists(backend, &name).await, "{name} was left behind");
}

async fn exists(backend: Backend, name: &str) -> bool {
    let admin = Database::connect(backend.admin_url().unwrap())
        .await
        .unwrap();
    let sql = match backend {
        Backend::Postgres => format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        _ => format!("SELECT 1 FROM information_schema.schemata WHERE schema_name = '{name}'"),
    };
    let statement = Statement::from_string(admin.get_database_backend(), sql);
    let found = admin.query_one_raw(statement).await.unwrap().is_some();
    admin.close().await.unwrap();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_test_databases_are_dropped_on_unwind() {
    on(
        Backend::Postgres,
        a_test_database_is_dropped_even_when_its_test_never_finishes,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_test_databases_are_dropped_on_unwind() {
    on(
        Backend::MySql,
        a_test_database_is_dropped_even_when_its_test_never_finishes,
    )
    .await;
}
