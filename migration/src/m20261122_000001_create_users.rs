use sea_orm_migration::{prelude::*, schema::*};

use crate::timestamps::utc;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let email_account = Expr::col(Users::AuthProvider)
            .eq("email")
            .and(Expr::col(Users::PasswordHash).is_not_null());
        let google_account = Expr::col(Users::AuthProvider)
            .eq("google")
            .and(Expr::col(Users::GoogleId).is_not_null());
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len_null(Users::Username, 32).unique_key())
                    .col(string_len_null(Users::FullName, 200))
                    .col(string_len_null(Users::PasswordHash, 255))
                    .col(string_len(Users::AuthProvider, 16))
                    .col(string_len_null(Users::GoogleId, 255).unique_key())
                    .col(string_len(Users::Role, 16).default("user"))
                    .col(boolean(Users::IsActive).default(true))
                    .col(utc(manager, Users::CreatedAt))
                    .col(utc(manager, Users::UpdatedAt))
                    .check((
                        "ck_users_auth_provider",
                        Expr::col(Users::AuthProvider).is_in(["email", "google"]),
                    ))
                    .check((
                        "ck_users_role",
                        Expr::col(Users::Role).is_in(["user", "admin"]),
                    ))
                    .check(("ck_users_credentials", email_account.or(google_account)))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    Username,
    FullName,
    PasswordHash,
    AuthProvider,
    GoogleId,
    Role,
    IsActive,
    CreatedAt,
    UpdatedAt,
}
