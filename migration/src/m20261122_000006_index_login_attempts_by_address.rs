use sea_orm_migration::prelude::*;

/// The per-address throttle reads the latest failures from one client address.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_login_attempts_ip_address_attempted_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::IpAddress)
                    .col(LoginAttempts::AttemptedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(LoginAttempts::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    IpAddress,
    AttemptedAt,
}
