use sea_orm_migration::{prelude::*, schema::*};

use crate::timestamps::utc;

/// A short log of revocations, written in the transaction that revokes: the other replicas read it
/// to forget what they remember about those sessions (PostgreSQL also wakes them with NOTIFY).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .col(uuid(Revocations::Id).primary_key())
                    // "session": one session (subject_id); "user": every session of a user
                    // (subject_id) but kept_session_id.
                    .col(string_len(Revocations::Scope, 16))
                    .col(uuid(Revocations::SubjectId))
                    .col(uuid_null(Revocations::KeptSessionId))
                    .col(utc(manager, Revocations::RecordedAt))
                    .check((
                        "ck_revocations_scope",
                        Expr::col(Revocations::Scope).is_in(["session", "user"]),
                    ))
                    .check((
                        "ck_revocations_kept_session",
                        Expr::col(Revocations::Scope)
                            .eq("user")
                            .or(Expr::col(Revocations::KeptSessionId).is_null()),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revocations_recorded_at")
                    .table(Revocations::Table)
                    .col(Revocations::RecordedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Revocations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Id,
    Scope,
    SubjectId,
    KeptSessionId,
    RecordedAt,
}
