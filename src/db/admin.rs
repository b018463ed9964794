//! Queries behind administration: listing users, and role/activity changes that never leave the
//! service without an active admin.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use uuid::Uuid;

use super::{
    Store, db_error,
    entities::users,
    users::{db_role, to_user},
};
use crate::{
    domain::{Role, User, UserQuery},
    error::AuthError,
};

/// What an admin changes about an account.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange {
    Role(Role),
    Active(bool),
}

const LAST_ADMIN: &str = "the last active admin cannot be demoted or deactivated";

impl Store {
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError> {
        let mut filter = Condition::all();
        if let Some(after) = query.after {
            filter = filter.add(users::Column::Id.gt(after));
        }
        if let Some(prefix) = &query.email_prefix {
            let pattern = LikeExpr::new(format!("{}%", escape_like(prefix))).escape('!');
            filter = filter.add(Expr::col(users::Column::Email).like(pattern));
        }
        if let Some(role) = query.role {
            filter = filter.add(users::Column::Role.eq(db_role(role)));
        }
        if let Some(is_active) = query.is_active {
            filter = filter.add(users::Column::IsActive.eq(is_active));
        }
        // Ids are UUIDv7: ordering by id is creation order, and a page resumes after the last id.
        let models = users::Entity::find()
            .filter(filter)
            .order_by_asc(users::Column::Id)
            .limit(query.limit)
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(models.into_iter().map(to_user).collect())
    }

    /// Applies `change` unless it would leave no active admin. Every active admin row is locked
    /// first, so concurrent demotions queue behind one another and the count they see is exact.
    pub async fn change_account(
        &self,
        user_id: Uuid,
        change: AccountChange,
        now: DateTime<Utc>,
    ) -> Result<User, AuthError> {
        let transaction = self.conn.begin().await.map_err(db_error)?;
        lock_active_admins(&transaction).await?;
        let target = users::Entity::find_by_id(user_id)
            .one(&transaction)
            .await
            .map_err(db_error)?;
        let target = target.ok_or(AuthError::NotFound)?;
        let removes_an_admin = target.role == users::Role::Admin
            && target.is_active
            && match change {
                AccountChange::Role(role) => role != Role::Admin,
                AccountChange::Active(active) => !active,
            };
        if removes_an_admin && other_active_admins(&transaction, user_id).await? == 0 {
            transaction.rollback().await.map_err(db_error)?;
            return Err(AuthError::FailedPrecondition(LAST_ADMIN));
        }
        let update = users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user_id));
        let update = match change {
            AccountChange::Role(role) => {
                update.col_expr(users::Column::Role, Expr::value(role.as_str()))
            }
            AccountChange::Active(active) => {
                update.col_expr(users::Column::IsActive, Expr::value(active))
            }
        };
        update.exec(&transaction).await.map_err(db_error)?;
        let updated = users::Entity::find_by_id(user_id)
            .one(&transaction)
            .await
            .map_err(db_error)?;
        transaction.commit().await.map_err(db_error)?;
        updated.map(to_user).ok_or(AuthError::NotFound)
    }
}

/// A no-op write on every active admin: row locks on PostgreSQL and MariaDB, the write lock on SQLite.
async fn lock_active_admins(transaction: &DatabaseTransaction) -> Result<(), AuthError> {
    users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::col(users::Column::Role))
        .filter(users::Column::Role.eq(users::Role::Admin))
        .filter(users::Column::IsActive.eq(true))
        .exec(transaction)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn other_active_admins(
    transaction: &DatabaseTransaction,
    user_id: Uuid,
) -> Result<u64, AuthError> {
    users::Entity::find()
        .filter(users::Column::Role.eq(users::Role::Admin))
        .filter(users::Column::IsActive.eq(true))
        .filter(users::Column::Id.ne(user_id))
        .count(transaction)
        .await
        .map_err(db_error)
}

/// `%` and `_` in a prefix match themselves, not any text.
fn escape_like(prefix: &str) -> String {
    prefix.chars().fold(String::new(), |mut escaped, c| {
        if matches!(c, '!' | '%' | '_') {
            escaped.push('!');
        }
        escaped.push(c);
        escaped
    })
}
