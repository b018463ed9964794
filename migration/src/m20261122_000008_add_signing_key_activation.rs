use sea_orm_migration::prelude::*;

use crate::timestamps::utc_null;

/// A rotated-in key is published before it signs: it signs from `activates_at` on (null: from its
/// creation), by which time every replica has loaded it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(utc_null(manager, SigningKeys::ActivatesAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .drop_column(SigningKeys::ActivatesAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    ActivatesAt,
}
