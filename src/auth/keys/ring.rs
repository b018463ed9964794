//! Which key signs now, and which keys verify: decided per call from the loaded keys' windows.

use anyhow::Context;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use secrecy::ExposeSecret;

use super::material;
use crate::db::StoredSigningKey;

struct Entry {
    kid: String,
    signer: Option<EncodingKey>,
    verifier: DecodingKey,
    jwk: serde_json::Value,
    /// Signs from then on (until a newer key activates).
    activates_at: DateTime<Utc>,
    /// Verifies until then; published until then.
    retired_at: Option<DateTime<Utc>>,
}

/// The keys this replica knows, as loaded from the database (and the key file, when there is one).
pub struct KeyRing {
    entries: Vec<Entry>,
    /// A key file's key signs, whatever the database holds.
    file_signer: Option<(String, EncodingKey)>,
}

impl KeyRing {
    pub fn new(
        stored: &[StoredSigningKey],
        file_signer: Option<(String, EncodingKey)>,
    ) -> anyhow::Result<Self> {
        let entries = stored
            .iter()
            .map(|key| {
                let jwk: serde_json::Value =
                    serde_json::from_str(&key.public_jwk).context("stored JWK")?;
                let x = jwk["x"].as_str().context("stored JWK has no x")?;
                let signer = match &key.private_key_pem {
                    Some(pem) => Some(material::encoding_key(&material::from_pem(
                        pem.expose_secret(),
                    )?)?),
                    None => None,
                };
                Ok(Entry {
                    kid: key.kid.clone(),
                    signer,
                    verifier: DecodingKey::from_ed_components(x)?,
                    jwk,
                    activates_at: key.activates_at,
                    retired_at: key.retired_at,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            entries,
            file_signer,
        })
    }

    /// The newest activated key; before any has activated (a clock behind), the earliest.
    pub fn signer(&self, now: DateTime<Utc>) -> Option<(&str, &EncodingKey)> {
        if let Some((kid, key)) = &self.file_signer {
            return Some((kid, key));
        }
        let signing = || {
            self.entries
                .iter()
                .filter_map(|entry| entry.signer.as_ref().map(|key| (entry, key)))
        };
        let active = signing()
            .filter(|(entry, _)| entry.activates_at <= now)
            .max_by_key(|(entry, _)| entry.activates_at);
        let chosen = active.or_else(|| signing().min_by_key(|(entry, _)| entry.activates_at));
        chosen.map(|(entry, key)| (entry.kid.as_str(), key))
    }

    pub fn verifier(&self, kid: &str, now: DateTime<Utc>) -> Option<&DecodingKey> {
        self.live(now)
            .find(|entry| entry.kid == kid)
            .map(|entry| &entry.verifier)
    }

    /// Every key that may still verify a live token, including one about to sign.
    pub fn jwks_json(&self, now: DateTime<Utc>) -> String {
        let keys: Vec<&serde_json::Value> = self.live(now).map(|entry| &entry.jwk).collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    fn live(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |entry| entry.retired_at.is_none_or(|retired_at| retired_at > now))
    }
}
