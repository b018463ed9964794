//! Housekeeping: old refresh tokens, login attempts, guard rows and revocations are deleted in bounded batches,
//! by a background task on every replica (it is idempotent) and by `auth-service cleanup`.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::{clock::Clock, db::Store, error::AuthError};

/// How long what is kept, and how much goes per statement.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Refresh tokens are kept this long after they expired or were revoked.
    pub refresh_tokens: Duration,
    /// Login attempts are kept this long.
    pub login_attempts: Duration,
    pub batch_size: u64,
}

/// Guard rows are mutexes only; a day without use means nobody is waiting on one.
const IDLE_GUARD: Duration = Duration::from_secs(24 * 3600);

/// Replicas read the revocation log seconds back; a day leaves room for an operator to look.
const REVOCATION_LOG: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub refresh_tokens: u64,
    pub login_attempts: u64,
    pub login_guards: u64,
    pub revocations: u64,
}

pub async fn clean(
    store: &Store,
    now: DateTime<Utc>,
    retention: Retention,
) -> Result<Removed, AuthError> {
    let batch = retention.batch_size;
    Ok(Removed {
        refresh_tokens: drain(batch, || {
            store.delete_dead_refresh_tokens(ago(now, retention.refresh_tokens), batch)
        })
        .await?,
        login_attempts: drain(batch, || {
            store.delete_old_login_attempts(ago(now, retention.login_attempts), batch)
        })
        .await?,
        login_guards: drain(batch, || {
            store.delete_idle_login_guards(ago(now, IDLE_GUARD), batch)
        })
        .await?,
        revocations: drain(batch, || {
            store.delete_old_revocations(ago(now, REVOCATION_LOG), batch)
        })
        .await?,
    })
}

/// Cleans every `interval` until `stop`.
pub async fn clean_periodically(
    store: Store,
    clock: Clock,
    retention: Retention,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(interval) => {}
        }
        match clean(&store, clock.now(), retention).await {
            Ok(removed) if removed != Removed::default() => {
                tracing::info!(?removed, "housekeeping")
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error, "housekeeping failed; trying again next time")
            }
        }
    }
}

/// Runs one batch after another until a batch comes back short.
async fn drain<F, Fut>(size: u64, batch: F) -> Result<u64, AuthError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, AuthError>>,
{
    let mut total = 0;
    loop {
        let removed = batch().await?;
        total += removed;
        if removed < size {
            return Ok(total);
        }
    }
}

fn ago(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
