use sea_orm_migration::prelude::*;

use crate::timestamps::utc;

/// Each refresh token carries when its session ends, set once when the session starts and copied
/// to every successor: the rule "a session ends a fixed time after it began" then has one
/// definition (where the session starts), instead of being computed again at every rotation, in
/// Rust and in SQL. `expires_at` becomes `idle_expires_at`, the token's own limit; a token is
/// usable while both lie ahead. Housekeeping keeps a session's rotated tokens, and so its theft
/// detection, until its end, and finds them by this column.
///
/// Rows written before this migration get `session_ends_at = expires_at`: their true end depends
/// on the session lifetime configured then, which the schema never saw, and `expires_at` is the
/// one value known not to exceed it. A session begun before the upgrade therefore ends no later
/// than its current token would have expired (at most the refresh token lifetime): never later
/// than it would have, possibly earlier.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Only a fallback while the column is added; every insert names it. A row that somehow lacks it
/// reads as a session that has already ended.
const EPOCH: &str = "1970-01-01 00:00:00";

const OLD_EXPIRY_INDEX: &str = "idx_refresh_tokens_expires_at";
const SESSION_END_INDEX: &str = "idx_refresh_tokens_session_ends_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(
            manager,
            RefreshTokens::ExpiresAt,
            RefreshTokens::IdleExpiresAt,
        )
        .await?;
        let session_ends_at = utc(manager, RefreshTokens::SessionEndsAt)
            .default(EPOCH)
            .take();
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(session_ends_at)
                    .to_owned(),
            )
            .await?;
        let backfill = Query::update()
            .table(RefreshTokens::Table)
            .value(
                RefreshTokens::SessionEndsAt,
                Expr::col(RefreshTokens::IdleExpiresAt),
            )
            .to_owned();
        manager.exec_stmt(backfill).await?;
        // Nothing looks tokens up by their own expiry any more; housekeeping looks by session end.
        drop_index(manager, OLD_EXPIRY_INDEX).await?;
        create_index(manager, SESSION_END_INDEX, RefreshTokens::SessionEndsAt).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, SESSION_END_INDEX).await?;
        // Back to one expiry, the earlier of the two limits, as it was kept before.
        let earlier = Expr::case(
            Expr::col(RefreshTokens::SessionEndsAt).lt(Expr::col(RefreshTokens::IdleExpiresAt)),
            Expr::col(RefreshTokens::SessionEndsAt),
        )
        .finally(Expr::col(RefreshTokens::IdleExpiresAt));
        let restore = Query::update()
            .table(RefreshTokens::Table)
            .value(RefreshTokens::IdleExpiresAt, earlier)
            .to_owned();
        manager.exec_stmt(restore).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::SessionEndsAt)
                    .to_owned(),
            )
            .await?;
        rename(
            manager,
            RefreshTokens::IdleExpiresAt,
            RefreshTokens::ExpiresAt,
        )
        .await?;
        create_index(manager, OLD_EXPIRY_INDEX, RefreshTokens::ExpiresAt).await
    }
}

async fn rename(
    manager: &SchemaManager<'_>,
    from: RefreshTokens,
    to: RefreshTokens,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(RefreshTokens::Table)
                .rename_column(from, to)
                .to_owned(),
        )
        .await
}

async fn create_index(
    manager: &SchemaManager<'_>,
    name: &str,
    column: RefreshTokens,
) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(name)
                .table(RefreshTokens::Table)
                .col(column)
                .to_owned(),
        )
        .await
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(name)
                .table(RefreshTokens::Table)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    ExpiresAt,
    IdleExpiresAt,
    SessionEndsAt,
}
