//! Argon2id password hashing, on the hashing pool's threads (never the async workers), into memory
//! each thread reuses; PHC strings in and out.

use std::{sync::Arc, time::Duration};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString},
};
use secrecy::{ExposeSecret, SecretString};

use super::hashing_pool::{HashingPool, Memory, blocks};

use crate::error::AuthError;

/// The cost parameters new hashes are made with.
#[derive(Debug, Clone)]
pub struct HashingParams(Params);

impl From<Params> for HashingParams {
    fn from(params: Params) -> Self {
        Self(params)
    }
}

impl HashingParams {
    pub fn argon2(&self) -> &Params {
        &self.0
    }

    pub fn memory_kib(&self) -> u32 {
        self.0.m_cost()
    }

    pub fn iterations(&self) -> u32 {
        self.0.t_cost()
    }

    pub fn parallelism(&self) -> u32 {
        self.0.p_cost()
    }
}

pub struct Verification {
    pub matches: bool,
    /// The stored hash was made with other parameters and should be replaced.
    pub needs_rehash: bool,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    pool: Arc<HashingPool>,
    /// Verified against when there is no stored hash, so unknown accounts cost the same time.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Start-up only: starts the pool and computes the dummy hash once.
    pub fn new(
        params: HashingParams,
        threads: usize,
        queue_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let dummy_hash = hash_with(
            &params.0,
            &SecretString::from(random_password()?),
            &mut Memory::new(),
        )?;
        Ok(Self {
            params: params.0,
            pool: Arc::new(HashingPool::new(threads, queue_timeout)?),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let params = self.params.clone();
        self.pool
            .run(move |memory| hash_with(&params, &password, memory).map_err(AuthError::Internal))
            .await?
    }

    /// Verifies against `stored`, or against the dummy hash when there is none (then never matches).
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Verification, AuthError> {
        let params = self.params.clone();
        let dummy = self.dummy_hash.clone();
        self.pool
            .run(move |memory| {
                let has_hash = stored.is_some();
                let phc = stored.as_deref().unwrap_or(&dummy);
                let (matches, current) =
                    verify_with(phc, &password, &params, memory).map_err(AuthError::Internal)?;
                Ok(Verification {
                    matches: matches && has_hash,
                    needs_rehash: has_hash && !current,
                })
            })
            .await?
    }
}

/// A PHC string for `password` with a fresh 16-byte salt, computed in `memory`.
fn hash_with(
    params: &Params,
    password: &SecretString,
    memory: &mut Memory,
) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| anyhow::anyhow!("no randomness for a salt: {error}"))?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            &salt,
            &mut output,
            blocks(memory, params.block_count()),
        )
        .map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| anyhow::anyhow!("salt: {error}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(u32::from(Version::V0x13)),
        params: ParamsString::try_from(params)
            .map_err(|error| anyhow::anyhow!("params: {error}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|error| anyhow::anyhow!("output: {error}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string, compared in constant time, and whether the string
/// was made with the current parameters.
fn verify_with(
    phc: &str,
    password: &SecretString,
    current: &Params,
    memory: &mut Memory,
) -> anyhow::Result<(bool, bool)> {
    let unreadable =
        |error: &dyn std::fmt::Display| anyhow::anyhow!("stored password hash unreadable: {error}");
    let parsed = PasswordHash::new(phc).map_err(|error| unreadable(&error))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|error| unreadable(&error))?;
    let version = Version::try_from(parsed.version.unwrap_or(u32::from(Version::V0x13)))
        .map_err(|error| unreadable(&error))?;
    let params = Params::try_from(&parsed).map_err(|error| unreadable(&error))?;
    let expected = parsed.hash.ok_or_else(|| unreadable(&"no hash"))?;
    let mut salt = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or_else(|| unreadable(&"no salt"))?
        .decode_b64(&mut salt)
        .map_err(|error| unreadable(&error))?;
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            salt,
            &mut output,
            blocks(memory, params.block_count()),
        )
        .map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
    let matches = Output::new(&output).map_err(|error| unreadable(&error))? == expected;
    let is_current = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && params.m_cost() == current.m_cost()
        && params.t_cost() == current.t_cost()
        && params.p_cost() == current.p_cost();
    Ok((matches, is_current))
}

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> HashingParams {
        HashingParams(Params::new(64, 1, 1, None).unwrap())
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(cheap(), 2, Duration::from_secs(5)).unwrap();
        let hash = hasher
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let right = hasher
            .verify(SecretString::from("correct horse"), Some(hash.clone()))
            .await
            .unwrap();
        let wrong = hasher
            .verify(SecretString::from("Correct horse"), Some(hash))
            .await
            .unwrap();
        assert!(right.matches && !right.needs_rehash);
        assert!(!wrong.matches);
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_both_ways() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(cheap(), 1, Duration::from_secs(5)).unwrap();
        let ours = hasher.hash(SecretString::from("pw one")).await.unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw one", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap().0)
            .hash_password(b"pw two", &salt)
            .unwrap();
        let verified = hasher
            .verify(SecretString::from("pw two"), Some(theirs.to_string()))
            .await
            .unwrap();
        assert!(verified.matches && !verified.needs_rehash);
    }

    #[tokio::test]
    async fn each_hash_has_its_own_salt() {
        let hasher = PasswordHasher::new(cheap(), 1, Duration::from_secs(5)).unwrap();
        let first = hasher.hash(SecretString::from("same")).await.unwrap();
        let second = hasher.hash(SecretString::from("same")).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn no_stored_hash_never_matches() {
        let hasher = PasswordHasher::new(cheap(), 1, Duration::from_secs(5)).unwrap();
        let result = hasher
            .verify(SecretString::from("anything"), None)
            .await
            .unwrap();
        assert!(!result.matches && !result.needs_rehash);
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_needs_rehash() {
        let old = PasswordHasher::new(
            HashingParams(Params::new(32, 1, 1, None).unwrap()),
            1,
            Duration::from_secs(5),
        )
        .unwrap();
        let hash = old.hash(SecretString::from("pw")).await.unwrap();
        let current = PasswordHasher::new(cheap(), 1, Duration::from_secs(5)).unwrap();
        let result = current
            .verify(SecretString::from("pw"), Some(hash))
            .await
            .unwrap();
        assert!(result.matches && result.needs_rehash);
    }
}
