//! Signing keys live in the database, so every replica and every restart signs and verifies with
//! the same ones. A rotated-in key is published at once but signs only from its activation, one
//! refresh interval later, by which time every replica has loaded it; the key it replaces keeps
//! verifying until every token it signed has expired.

mod material;
mod ring;

use std::{
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use secrecy::SecretString;
use tokio::sync::watch;

pub use material::ALGORITHM;
pub use ring::KeyRing;

use crate::{
    clock::Clock,
    db::{Store, StoredSigningKey},
};

/// The replica's current view of the keys, swapped whole on each reload.
pub struct Keys {
    ring: RwLock<Arc<KeyRing>>,
    file_key: Option<SigningKey>,
}

impl Keys {
    /// Start-up only. With a key file, its key signs (its public half is recorded so replicas
    /// without the file can still verify); otherwise the stored keys do, and the first start
    /// creates one.
    pub async fn load(
        store: &Store,
        key_file: Option<&Path>,
        clock: &Clock,
    ) -> anyhow::Result<Self> {
        let file_key = match key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).with_context(|| {
                    format!("AUTH_JWT_PRIVATE_KEY_FILE: cannot read {}", path.display())
                })?;
                let key = material::from_pem(&pem).context("AUTH_JWT_PRIVATE_KEY_FILE")?;
                store
                    .insert_signing_key(stored(&key, None, clock.now(), None))
                    .await?;
                Some(key)
            }
            None => None,
        };
        if file_key.is_none()
            && !store
                .signing_keys_in_use(clock.now())
                .await?
                .iter()
                .any(|key| key.private_key_pem.is_some())
        {
            let key = material::generate()?;
            store
                .insert_signing_key(stored(
                    &key,
                    Some(material::to_pem(&key)?),
                    clock.now(),
                    None,
                ))
                .await?;
        }
        let keys = Self {
            ring: RwLock::new(Arc::new(KeyRing::new(&[], None)?)),
            file_key,
        };
        keys.reload(store, clock.now()).await?;
        Ok(keys)
    }

    /// Loads every key not yet retired.
    pub async fn reload(&self, store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
        let stored = store.signing_keys_in_use(now).await?;
        let file_signer = match &self.file_key {
            Some(key) => Some((material::kid(key), material::encoding_key(key)?)),
            None => None,
        };
        let ring = Arc::new(KeyRing::new(&stored, file_signer)?);
        anyhow::ensure!(ring.signer(now).is_some(), "no signing key is available");
        if let Ok(mut current) = self.ring.write() {
            *current = ring;
        }
        Ok(())
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(ring) => ring.clone(),
            // A writer panicked mid-swap; the Arc it held is still a whole ring.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Reloads the keys every `interval` until `stop`, so rotations reach this replica in time.
pub async fn refresh_periodically(
    keys: Arc<Keys>,
    store: Store,
    clock: Clock,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = keys.reload(&store, clock.now()).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "reloading signing keys failed; keeping the ones loaded"
            );
        }
    }
}

/// `auth-service keys rotate`: a new key, signing from `activates_at`; every older key retires
/// once the tokens it may still sign until then have expired.
pub async fn rotate(
    store: &Store,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
    retire_at: DateTime<Utc>,
) -> anyhow::Result<String> {
    let key = material::generate()?;
    let kid = material::kid(&key);
    store
        .insert_signing_key(stored(
            &key,
            Some(material::to_pem(&key)?),
            now,
            Some(activates_at),
        ))
        .await?;
    store.retire_signing_keys_except(&kid, retire_at).await?;
    Ok(kid)
}

fn stored(
    key: &SigningKey,
    private_key_pem: Option<SecretString>,
    now: DateTime<Utc>,
    activates_at: Option<DateTime<Utc>>,
) -> StoredSigningKey {
    StoredSigningKey {
        kid: material::kid(key),
        algorithm: ALGORITHM.to_owned(),
        private_key_pem,
        public_jwk: material::public_jwk(key).to_string(),
        created_at: now,
        activates_at: activates_at.unwrap_or(now),
        retired_at: None,
    }
}
