use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20261122_000001_create_users::Users, timestamps::utc};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(pk_uuid(LoginAttempts::Id))
                    .col(uuid_null(LoginAttempts::UserId))
                    .col(string_len(LoginAttempts::Email, 254))
                    .col(string_len_null(LoginAttempts::IpAddress, 45))
                    .col(string_len_null(LoginAttempts::UserAgent, 512))
                    .col(boolean(LoginAttempts::Success))
                    .col(string_len_null(LoginAttempts::FailureReason, 32))
                    .col(utc(manager, LoginAttempts::AttemptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_login_attempts_user_id")
                            .from(LoginAttempts::Table, LoginAttempts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .check((
                        "ck_login_attempts_outcome",
                        Expr::col(LoginAttempts::Success)
                            .eq(true)
                            .and(Expr::col(LoginAttempts::FailureReason).is_null())
                            .or(Expr::col(LoginAttempts::Success)
                                .eq(false)
                                .and(Expr::col(LoginAttempts::FailureReason).is_not_null())),
                    ))
                    .to_owned(),
            )
            .await?;
        // The lockout reads the latest attempts for one email; this index answers it in order.
        let indexes: [(&str, &[LoginAttempts]); 3] = [
            (
                "idx_login_attempts_email_attempted_at",
                &[LoginAttempts::Email, LoginAttempts::AttemptedAt],
            ),
            (
                "idx_login_attempts_attempted_at",
                &[LoginAttempts::AttemptedAt],
            ),
            ("idx_login_attempts_user_id", &[LoginAttempts::UserId]),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create()
                .name(name)
                .table(LoginAttempts::Table)
                .to_owned();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginAttempts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginAttempts {
    Table,
    Id,
    UserId,
    Email,
    IpAddress,
    UserAgent,
    Success,
    FailureReason,
    AttemptedAt,
}
