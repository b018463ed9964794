use migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

use crate::helpers::{Backend, TestApp};

async fn every_migration_rolls_back_and_applies_again(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    app.stop_server().await;

    Migrator::down(&app.db, None).await.unwrap();
    assert!(!Migrator::is_current(&app.db).await.unwrap());
    let users_gone = app.db.execute_unprepared("SELECT 1 FROM users").await;
    assert!(users_gone.is_err(), "down removes the tables");

    Migrator::up(&app.db, None).await.unwrap();
    assert!(Migrator::is_current(&app.db).await.unwrap());
    let restarted = TestApp::start(&app.database_url(), &[], app.clock.clone()).await;
    restarted.register("ada@example.com").await;
    let mut restarted = restarted;
    restarted.stop_server().await;
    app.finish().await;
}

crate::on_every_database!(every_migration_rolls_back_and_applies_again);
