//! Ed25519 key material: generation, PKCS#8 PEM, RFC 7638 key ids and public JWKs.

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::EncodingKey;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "EdDSA";

pub fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|error| anyhow::anyhow!("no randomness for a key: {error}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn from_pem(pem: &str) -> anyhow::Result<SigningKey> {
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|error| anyhow::anyhow!("not a PKCS#8 PEM Ed25519 private key: {error}"))
}

pub fn to_pem(key: &SigningKey) -> anyhow::Result<SecretString> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("encode signing key")?;
    Ok(SecretString::from(pem.to_string()))
}

pub fn encoding_key(key: &SigningKey) -> anyhow::Result<EncodingKey> {
    let der = key.to_pkcs8_der().context("encode signing key")?;
    Ok(EncodingKey::from_ed_der(der.as_bytes()))
}

fn x(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())
}

/// RFC 7638 thumbprint: stable, so the same key always has the same id on every replica.
pub fn kid(key: &SigningKey) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, x(key));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

pub fn public_jwk(key: &SigningKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "x": x(key), "kid": kid(key), "use": "sig", "alg": ALGORITHM,
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

    #[test]
    fn a_key_survives_pem() {
        let key = generate().unwrap();
        let pem = to_pem(&key).unwrap();
        assert_eq!(
            kid(&from_pem(secrecy::ExposeSecret::expose_secret(&pem)).unwrap()),
            kid(&key)
        );
    }
}
