use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    m20261122_000001_create_users::Users,
    timestamps::{utc, utc_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::UserId))
                    // Hex SHA-256 of the token: the token itself is never stored.
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(uuid(RefreshTokens::TokenFamily))
                    // When the family began: it may not be refreshed past a fixed lifetime from here.
                    .col(utc(manager, RefreshTokens::SessionStartedAt))
                    .col(utc(manager, RefreshTokens::ExpiresAt))
                    .col(utc_null(manager, RefreshTokens::RevokedAt))
                    .col(string_len_null(RefreshTokens::UserAgent, 512))
                    .col(string_len_null(RefreshTokens::IpAddress, 45))
                    .col(utc(manager, RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_user_id")
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_refresh_tokens_user_id", RefreshTokens::UserId),
            (
                "idx_refresh_tokens_token_family",
                RefreshTokens::TokenFamily,
            ),
            ("idx_refresh_tokens_expires_at", RefreshTokens::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RefreshTokens::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    TokenFamily,
    SessionStartedAt,
    ExpiresAt,
    RevokedAt,
    UserAgent,
    IpAddress,
    CreatedAt,
}
