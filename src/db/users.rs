use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr, UpdateMany};
use uuid::Uuid;

use super::{Store, db_error, entities::users};
use crate::{
    domain::{Email, FullName, Role, User, Username},
    error::AuthError,
};

#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub username: Option<Username>,
    pub full_name: Option<FullName>,
    pub password_hash: String,
    pub role: Role,
}

/// A user with the hash their password is checked against (none for Google accounts).
pub struct StoredCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}

impl Store {
    pub async fn insert_user(&self, new: NewUser, now: DateTime<Utc>) -> Result<User, AuthError> {
        let model = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(new.email.as_str().to_owned()),
            username: Set(new.username.as_ref().map(|name| name.as_str().to_owned())),
            full_name: Set(new.full_name.as_ref().map(|name| name.as_str().to_owned())),
            password_hash: Set(Some(new.password_hash)),
            auth_provider: Set(users::AuthProvider::Email),
            google_id: Set(None),
            role: Set(db_role(new.role)),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match users::Entity::insert(model)
            .exec_with_returning(&self.conn)
            .await
        {
            Ok(model) => Ok(to_user(model)),
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(self.which_is_taken(&new.email).await)
            }
            Err(error) => Err(db_error(error)),
        }
    }

    /// Constraint messages differ by database; asking again is simpler and exact.
    async fn which_is_taken(&self, email: &Email) -> AuthError {
        match self.find_credentials_by_email(email).await {
            Ok(Some(_)) => AuthError::EmailTaken,
            Ok(None) => AuthError::UsernameTaken,
            Err(error) => error,
        }
    }

    pub async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<StoredCredentials>, AuthError> {
        let model = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(model.map(credentials))
    }

    pub async fn find_credentials(&self, id: Uuid) -> Result<Option<StoredCredentials>, AuthError> {
        let model = users::Entity::find_by_id(id)
            .one(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(model.map(credentials))
    }

    pub async fn update_password_hash(
        &self,
        user_id: Uuid,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        password_hash_update(user_id, hash, now)
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Replaces `verified`, the hash a login just proved, with `hash` at the current parameters;
    /// false when the hash changed meanwhile (a password change, which must stand).
    pub async fn upgrade_password_hash(
        &self,
        user_id: Uuid,
        verified: &str,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let result = password_hash_update(user_id, hash, now)
            .filter(users::Column::PasswordHash.eq(verified))
            .exec(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }
}

fn password_hash_update(
    user_id: Uuid,
    hash: String,
    now: DateTime<Utc>,
) -> UpdateMany<users::Entity> {
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            users::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(users::Column::Id.eq(user_id))
}

pub(super) fn db_role(role: Role) -> users::Role {
    match role {
        Role::User => users::Role::User,
        Role::Admin => users::Role::Admin,
    }
}

fn credentials(model: users::Model) -> StoredCredentials {
    let password_hash = model.password_hash.clone();
    StoredCredentials {
        user: to_user(model),
        password_hash,
    }
}

pub(super) fn to_user(model: users::Model) -> User {
    User {
        id: model.id,
        email: Email::from_trusted(model.email),
        username: model.username,
        full_name: model.full_name,
        role: match model.role {
            users::Role::User => Role::User,
            users::Role::Admin => Role::Admin,
        },
        is_active: model.is_active,
        created_at: model.created_at,
        updated_at: model.updated_at,
    }
}
