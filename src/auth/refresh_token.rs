//! Opaque refresh tokens: 32 random bytes, base64url. The service keeps only their SHA-256.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{domain::TokenHash, error::AuthError};

const TOKEN_BYTES: usize = 32;
/// base64url without padding of 32 bytes.
const ENCODED_LENGTH: usize = 43;

/// A new token for the client and the hash to store.
pub fn generate() -> Result<(String, TokenHash), AuthError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|error| AuthError::internal(anyhow::anyhow!("no randomness: {error}")))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

/// The hash of a presented token, or `None` when it cannot be one of ours (then no lookup is needed).
pub fn parse(presented: &str) -> Option<TokenHash> {
    let well_formed = presented.len() == ENCODED_LENGTH
        && URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
    well_formed.then(|| hash(presented))
}

fn hash(token: &str) -> TokenHash {
    let digest = Sha256::digest(token.as_bytes());
    // A token has 256 bits of entropy, so a fast unsalted hash is enough: there is nothing to guess.
    TokenHash::from_digest(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_to_its_own_hash() {
        let (token, hash) = generate().unwrap();
        assert_eq!(token.len(), ENCODED_LENGTH);
        assert_eq!(parse(&token), Some(hash));
    }

    #[test]
    fn tokens_are_unique() {
        assert_ne!(generate().unwrap().0, generate().unwrap().0);
    }

    #[test]
    fn malformed_tokens_are_rejected_without_hashing() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("not-a-token"), None);
        assert_eq!(parse(&"!".repeat(ENCODED_LENGTH)), None);
    }
}
