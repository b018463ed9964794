use sea_orm_migration::{prelude::*, schema::*};

use crate::timestamps::utc;

/// One row per email and per client address that has tried to log in: locked while an attempt is
/// counted and recorded, so concurrent guesses are counted one after another, exactly.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginGuards::Table)
                    // "email:<address>" or "ip:<address>".
                    .col(string_len(LoginGuards::Key, 300).primary_key())
                    .col(big_integer(LoginGuards::Attempts).default(0))
                    .col(utc(manager, LoginGuards::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginGuards::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoginGuards {
    Table,
    Key,
    Attempts,
    UpdatedAt,
}
