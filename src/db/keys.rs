use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr};
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
}

impl Store {
    /// Start-up only. A key already stored (the same file on every replica) is left as it is.
    pub async fn insert_signing_key(&self, key: StoredSigningKey) -> anyhow::Result<()> {
        let model = signing_keys::ActiveModel {
            kid: Set(key.kid),
            algorithm: Set(key.algorithm),
            private_key: Set(key
                .private_key_pem
                .map(|pem| pem.expose_secret().to_owned())),
            public_jwk: Set(key.public_jwk),
            created_at: Set(key.created_at),
            retired_at: Set(None),
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

    pub async fn active_signing_keys(&self) -> anyhow::Result<Vec<StoredSigningKey>> {
        let models = signing_keys::Entity::find()
            .filter(signing_keys::Column::RetiredAt.is_null())
            .all(&self.conn)
            .await?;
        Ok(models
            .into_iter()
            .map(|model| StoredSigningKey {
                kid: model.kid,
                algorithm: model.algorithm,
                private_key_pem: model.private_key.map(SecretString::from),
                public_jwk: model.public_jwk,
                created_at: model.created_at,
            })
            .collect())
    }
}
