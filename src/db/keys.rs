use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, SqlErr,
    sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretString};

use super::{Store, entities::signing_keys};

/// A signing key as kept in `signing_keys`.
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: String,
    /// PKCS#8 PEM; `None` for keys that live in a file.
    pub private_key_pem: Option<SecretString>,
    pub public_jwk: String,
    pub created_at: DateTime<Utc>,
    /// Signs from then on, until a newer key activates.
    pub activates_at: DateTime<Utc>,
    /// Verifies, and is published, until then.
    pub retired_at: Option<DateTime<Utc>>,
}

impl Store {
    /// A key already stored (the same file on every replica) is left as it is.
    pub async fn insert_signing_key(&self, key: StoredSigningKey) -> anyhow::Result<()> {
        let model = signing_keys::ActiveModel {
            kid: Set(key.kid),
            algorithm: Set(key.algorithm),
            private_key: Set(key
                .private_key_pem
                .map(|pem| pem.expose_secret().to_owned())),
            public_jwk: Set(key.public_jwk),
            created_at: Set(key.created_at),
            activates_at: Set(Some(key.activates_at)),
            retired_at: Set(key.retired_at),
        };
        match signing_keys::Entity::insert(model)
            .exec_without_returning(&self.conn)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Every key not retired by `now`.
    pub async fn signing_keys_in_use(
        &self,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<StoredSigningKey>> {
        let not_retired = Condition::any()
            .add(signing_keys::Column::RetiredAt.is_null())
            .add(signing_keys::Column::RetiredAt.gt(now));
        let models = signing_keys::Entity::find()
            .filter(not_retired)
            .all(&self.conn)
            .await?;
        Ok(models.into_iter().map(stored).collect())
    }

    /// Every key ever stored, oldest first (`auth-service keys list`).
    pub async fn all_signing_keys(&self) -> anyhow::Result<Vec<StoredSigningKey>> {
        let models = signing_keys::Entity::find()
            .order_by_asc(signing_keys::Column::CreatedAt)
            .all(&self.conn)
            .await?;
        Ok(models.into_iter().map(stored).collect())
    }

    /// Schedules every key but `kid` that has no retirement yet to retire at `at`.
    pub async fn retire_signing_keys_except(
        &self,
        kid: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(at))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .filter(signing_keys::Column::Kid.ne(kid))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}

fn stored(model: signing_keys::Model) -> StoredSigningKey {
    StoredSigningKey {
        kid: model.kid,
        algorithm: model.algorithm,
        private_key_pem: model.private_key.map(SecretString::from),
        public_jwk: model.public_jwk,
        activates_at: model.activates_at.unwrap_or(model.created_at),
        created_at: model.created_at,
        retired_at: model.retired_at,
    }
}
