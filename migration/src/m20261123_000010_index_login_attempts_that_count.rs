use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

/// The lockout reads the latest attempts for one email that bear on it, and the throttle the latest
/// counted failures from one address. Their indexes held every attempt, so both read past every
/// refusal recorded since the lock began: an attacker hammering a locked email made each refusal
/// cost more than the last. Each now reads an index of only the attempts it counts, kept by the
/// database itself in generated columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// As the service's `LoginFailure::COUNTED`, whose test holds the two together.
const COUNTED: [&str; 4] = ["pending", "unknown_email", "wrong_password", "no_password"];
const ADMIN_UNLOCK: &str = "admin_unlock";

const LOCKOUT_INDEX: &str = "idx_login_attempts_email_counts_for_lockout";
const THROTTLE_INDEX: &str = "idx_login_attempts_ip_address_counts_for_throttle";
const OLD_EMAIL_INDEX: &str = "idx_login_attempts_email_attempted_at";
const OLD_ADDRESS_INDEX: &str = "idx_login_attempts_ip_address_attempted_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let lockout = Expr::col(LoginAttempts::Success).or(Expr::col(LoginAttempts::FailureReason)
            .is_in(COUNTED.into_iter().chain([ADMIN_UNLOCK])));
        let throttle = Expr::col(LoginAttempts::FailureReason).is_in(COUNTED);
        for (column, expression) in [
            (LoginAttempts::CountsForLockout, lockout),
            (LoginAttempts::CountsForThrottle, throttle),
        ] {
            // SQLite can only add a virtual generated column to a table; the others store it.
            let stored = manager.get_database_backend() != DatabaseBackend::Sqlite;
            let column = ColumnDef::new(column)
                .boolean()
                .generated(expression, stored)
                .to_owned();
            manager
                .alter_table(
                    Table::alter()
                        .table(LoginAttempts::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let by = [
            (
                LOCKOUT_INDEX,
                LoginAttempts::Email,
                LoginAttempts::CountsForLockout,
            ),
            (
                THROTTLE_INDEX,
                LoginAttempts::IpAddress,
                LoginAttempts::CountsForThrottle,
            ),
        ];
        for (name, key, counts) in by {
            let index = Index::create()
                .name(name)
                .table(LoginAttempts::Table)
                .col(key)
                .col(counts)
                .col(LoginAttempts::AttemptedAt)
                .to_owned();
            manager.create_index(index).await?;
        }
        for name in [OLD_EMAIL_INDEX, OLD_ADDRESS_INDEX] {
            drop_index(manager, name).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, key) in [
            (OLD_EMAIL_INDEX, LoginAttempts::Email),
            (OLD_ADDRESS_INDEX, LoginAttempts::IpAddress),
        ] {
            let index = Index::create()
                .name(name)
                .table(LoginAttempts::Table)
                .col(key)
                .col(LoginAttempts::AttemptedAt)
                .to_owned();
            manager.create_index(index).await?;
        }
        for name in [LOCKOUT_INDEX, THROTTLE_INDEX] {
            drop_index(manager, name).await?;
        }
        for column in [
            LoginAttempts::CountsForLockout,
            LoginAttempts::CountsForThrottle,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LoginAttempts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(name)
                .table(LoginAttempts::Table)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Email,
    IpAddress,
    Success,
    FailureReason,
    AttemptedAt,
    CountsForLockout,
    CountsForThrottle,
}
