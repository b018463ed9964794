//! The physical limits each scenario is held against, measured in the same run on the same machine.

use std::time::{Duration, Instant};

use argon2::{Argon2, Block};
use auth_service::{
    auth::{password::HashingParams, refresh_token},
    db::{NewRefreshToken, Store},
    domain::ClientContext,
};
use uuid::Uuid;

/// Argon2 verifications per second with the service's parameters on `threads` threads, each
/// reusing its memory as the service's hashing threads do: the most logins per second the machine
/// can check.
pub fn argon2_verifications_per_second(
    params: &HashingParams,
    threads: usize,
    duration: Duration,
) -> f64 {
    let hasher = Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.argon2().clone(),
    );
    let salt = b"load-bench-salt!";
    let password = b"a bench passphrase";
    let mut expected = [0u8; 32];
    let mut memory = vec![Block::default(); params.argon2().block_count()];
    hasher
        .hash_password_into_with_memory(password, salt, &mut expected, &mut memory)
        .expect("hash");
    let started = Instant::now();
    let deadline = started + duration;
    let verified: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut memory = vec![Block::default(); params.argon2().block_count()];
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        let mut output = [0u8; 32];
                        let _ = hasher.hash_password_into_with_memory(
                            password,
                            salt,
                            &mut output,
                            &mut memory,
                        );
                        assert_eq!(output, expected);
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or(0))
            .sum()
    });
    // Over the time actually taken: each thread's last hash ends after the deadline.
    verified as f64 / started.elapsed().as_secs_f64()
}

/// Rotations per second of the raw transaction (find by hash, then conditional revoke and insert
/// successor in one transaction) issued through the service's own SeaORM store, one chain per
/// caller. The service itself rotates in fewer round trips where the database allows it (one
/// statement on PostgreSQL, batches on SQLite); this stays the textbook transaction.
pub async fn raw_rotations_per_second(
    database_url: &str,
    refresh_tokens: Vec<String>,
    duration: Duration,
) -> anyhow::Result<f64> {
    let store = Store::connect(database_url, None).await?;
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let chains = refresh_tokens.into_iter().map(|token| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut hash = refresh_token::parse(&token).expect("a token the service issued");
            let mut rotations = 0u64;
            while Instant::now() < deadline {
                let Ok(Some(current)) = store.find_refresh_token(&hash).await else {
                    break;
                };
                let Ok((_, next_hash)) = refresh_token::generate() else {
                    break;
                };
                let successor = NewRefreshToken {
                    id: Uuid::now_v7(),
                    token_hash: next_hash.clone(),
                    client: ClientContext::default(),
                    idle_expires_at: chrono::Utc::now() + chrono::Duration::days(7),
                };
                if !matches!(
                    store
                        .rotate_replacing(current.id, &current, &successor, chrono::Utc::now())
                        .await,
                    Ok(true)
                ) {
                    break;
                }
                hash = next_hash;
                rotations += 1;
            }
            rotations
        })
    });
    let mut total = 0;
    for chain in chains.collect::<Vec<_>>() {
        total += chain.await.unwrap_or(0);
    }
    store.close().await;
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
