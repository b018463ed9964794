//! Argon2id password hashing. The work runs on the blocking pool behind a semaphore sized to the
//! cores, so it never stalls the async workers and cannot queue without bound in memory.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::{config::Config, error::AuthError};

/// The cost parameters new hashes are made with.
#[derive(Debug, Clone)]
pub struct HashingParams(Params);

impl HashingParams {
    pub fn from_config(config: &Config) -> Result<Self, crate::config::ConfigError> {
        Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map(Self)
        .map_err(|error| {
            crate::config::ConfigError::new(
                "AUTH_ARGON2_MEMORY_KIB/AUTH_ARGON2_ITERATIONS/AUTH_ARGON2_PARALLELISM",
                error.to_string(),
            )
        })
    }

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
    permits: Arc<Semaphore>,
    /// Verified against when there is no stored hash, so unknown accounts cost the same time.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Start-up only: computes the dummy hash once.
    pub fn new(params: HashingParams, threads: usize) -> anyhow::Result<Self> {
        let dummy_hash = hash_now(&params.0, &SecretString::from(random_password()?))?;
        Ok(Self {
            params: params.0,
            permits: Arc::new(Semaphore::new(threads)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let params = self.params.clone();
        self.run_blocking(move || hash_now(&params, &password).map_err(AuthError::Internal))
            .await
    }

    /// Verifies against `stored`, or against the dummy hash when there is none (then never matches).
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Verification, AuthError> {
        let params = self.params.clone();
        let dummy = self.dummy_hash.clone();
        self.run_blocking(move || {
            let has_hash = stored.is_some();
            let phc = stored.as_deref().unwrap_or(&dummy);
            let parsed = PasswordHash::new(phc).map_err(|error| {
                AuthError::internal(anyhow::anyhow!("stored password hash unreadable: {error}"))
            })?;
            let matches = Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Ok(Verification {
                matches: matches && has_hash,
                needs_rehash: has_hash && !uses(&parsed, &params),
            })
        })
        .await
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Overloaded)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .await
        .map_err(AuthError::internal)?
    }
}

fn hash_now(params: &Params, password: &SecretString) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| anyhow::anyhow!("no randomness for a salt: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| anyhow::anyhow!("salt: {error}"))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = hasher
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
    Ok(hash.to_string())
}

fn uses(hash: &PasswordHash<'_>, params: &Params) -> bool {
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(u32::from(Version::V0x13))
        && Params::try_from(hash).is_ok_and(|stored| {
            stored.m_cost() == params.m_cost()
                && stored.t_cost() == params.t_cost()
                && stored.p_cost() == params.p_cost()
        })
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
        let hasher = PasswordHasher::new(cheap(), 2).unwrap();
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
    async fn each_hash_has_its_own_salt() {
        let hasher = PasswordHasher::new(cheap(), 1).unwrap();
        let first = hasher.hash(SecretString::from("same")).await.unwrap();
        let second = hasher.hash(SecretString::from("same")).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn no_stored_hash_never_matches() {
        let hasher = PasswordHasher::new(cheap(), 1).unwrap();
        let result = hasher
            .verify(SecretString::from("anything"), None)
            .await
            .unwrap();
        assert!(!result.matches && !result.needs_rehash);
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_needs_rehash() {
        let old =
            PasswordHasher::new(HashingParams(Params::new(32, 1, 1, None).unwrap()), 1).unwrap();
        let hash = old.hash(SecretString::from("pw")).await.unwrap();
        let current = PasswordHasher::new(cheap(), 1).unwrap();
        let result = current
            .verify(SecretString::from("pw"), Some(hash))
            .await
            .unwrap();
        assert!(result.matches && result.needs_rehash);
    }
}
