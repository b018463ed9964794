//! Ed25519 signing keys: generation, PEM import, RFC 7638 key ids, and the JWK Set.
//! Keys live in the database so every replica and every restart signs and verifies with the same.

use std::{collections::HashMap, path::Path};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{
    clock::Clock,
    db::{Store, StoredSigningKey},
};

pub const ALGORITHM: &str = "EdDSA";

/// The key that signs new tokens.
pub struct CurrentKey {
    pub kid: String,
    pub encoding: EncodingKey,
}

/// Every key that may verify a live token, and the one that signs.
pub struct KeyRing {
    pub current: CurrentKey,
    verifying: HashMap<String, DecodingKey>,
    jwks_json: String,
}

impl KeyRing {
    /// Start-up only. With a key file, that key signs (its public half is recorded so replicas
    /// without the file can still verify); otherwise the newest stored key does, and the first start
    /// creates one.
    pub async fn load(
        store: &Store,
        key_file: Option<&Path>,
        clock: &Clock,
    ) -> anyhow::Result<Self> {
        let from_file = match key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).with_context(|| {
                    format!("AUTH_JWT_PRIVATE_KEY_FILE: cannot read {}", path.display())
                })?;
                let key = SigningKey::from_pkcs8_pem(&pem).map_err(|error| {
                    anyhow::anyhow!(
                        "AUTH_JWT_PRIVATE_KEY_FILE: not a PKCS#8 PEM Ed25519 private key: {error}"
                    )
                })?;
                store.insert_signing_key(stored(&key, None, clock)?).await?;
                Some(key)
            }
            None => None,
        };
        let mut active = store.active_signing_keys().await?;
        let signer = match from_file {
            Some(key) => key,
            None => match newest_private(&active)? {
                Some(key) => key,
                None => {
                    let key = generate()?;
                    let pem = key
                        .to_pkcs8_pem(LineEnding::LF)
                        .context("encode new signing key")?;
                    store
                        .insert_signing_key(stored(&key, Some(pem.to_string().into()), clock)?)
                        .await?;
                    active = store.active_signing_keys().await?;
                    key
                }
            },
        };
        Self::assemble(&signer, &active)
    }

    fn assemble(signer: &SigningKey, active: &[StoredSigningKey]) -> anyhow::Result<Self> {
        let der = signer.to_pkcs8_der().context("encode signing key")?;
        let current = CurrentKey {
            kid: kid(signer),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
        };
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for key in active {
            let jwk: serde_json::Value =
                serde_json::from_str(&key.public_jwk).context("stored JWK")?;
            let x = jwk["x"].as_str().context("stored JWK has no x")?;
            verifying.insert(key.kid.clone(), DecodingKey::from_ed_components(x)?);
            jwks.push(jwk);
        }
        anyhow::ensure!(
            verifying.contains_key(&current.kid),
            "signing key {} is not stored",
            current.kid
        );
        let jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        Ok(Self {
            current,
            verifying,
            jwks_json,
        })
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }
}

fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|error| anyhow::anyhow!("no randomness for a key: {error}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

fn newest_private(active: &[StoredSigningKey]) -> anyhow::Result<Option<SigningKey>> {
    let newest = active
        .iter()
        .filter(|key| key.private_key_pem.is_some())
        .max_by_key(|key| key.created_at);
    newest
        .and_then(|key| key.private_key_pem.as_ref())
        .map(|pem| {
            SigningKey::from_pkcs8_pem(pem.expose_secret())
                .map_err(|error| anyhow::anyhow!("stored signing key unreadable: {error}"))
        })
        .transpose()
}

fn x(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())
}

/// RFC 7638 thumbprint: stable, so the same key always has the same id on every replica.
fn kid(key: &SigningKey) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, x(key));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn public_jwk(key: &SigningKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "x": x(key), "kid": kid(key), "use": "sig", "alg": ALGORITHM,
    })
}

fn stored(
    key: &SigningKey,
    private_key_pem: Option<SecretString>,
    clock: &Clock,
) -> anyhow::Result<StoredSigningKey> {
    Ok(StoredSigningKey {
        kid: kid(key),
        algorithm: ALGORITHM.to_owned(),
        private_key_pem,
        public_jwk: public_jwk(key).to_string(),
        created_at: clock.now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example key.
        let seed = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = SigningKey::from_bytes(&seed.try_into().unwrap());
        assert_eq!(x(&key), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(kid(&key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
