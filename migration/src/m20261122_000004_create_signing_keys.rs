use sea_orm_migration::{prelude::*, schema::*};

use crate::timestamps::{utc, utc_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    // RFC 7638 thumbprint of the public key.
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(string_len(SigningKeys::Algorithm, 16))
                    // PKCS#8 PEM; null when the key lives in a file given to every replica.
                    .col(text_null(SigningKeys::PrivateKey))
                    .col(text(SigningKeys::PublicJwk))
                    .col(utc(manager, SigningKeys::CreatedAt))
                    .col(utc_null(manager, SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Algorithm,
    PrivateKey,
    PublicJwk,
    CreatedAt,
    RetiredAt,
}
