//! Follows the revocations every replica records, so that this replica forgets the sessions another
//! one ended: it reads the log every poll interval and, on PostgreSQL, as soon as a NOTIFY says a
//! revocation committed. Rows are read by age with a generous lookback, not by position, because
//! rows commit in a different order than they were written; ids already applied are skipped.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::AuthService;
use crate::db::{RevocationListener, Wakeup};

/// How often a lost PostgreSQL listener is remade; polling covers the time between.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

/// How far back each read reaches beyond twice the poll interval: covers the time from a
/// revocation's timestamp to its commit, and clock differences between replicas.
const LOOKBACK_MARGIN: Duration = Duration::from_secs(10);

pub async fn follow_revocations(
    service: Arc<AuthService>,
    poll_interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    if poll_interval.is_zero() {
        return;
    }
    let mut follower = Follower::new(poll_interval);
    let mut listener = None;
    let mut next_listen_attempt = Instant::now();
    loop {
        if listener.is_none() && Instant::now() >= next_listen_attempt {
            listener = connect_listener(&service).await;
            next_listen_attempt = Instant::now() + LISTEN_RETRY;
        }
        follower.catch_up(&service).await;
        tokio::select! {
            () = tokio::time::sleep(poll_interval) => {}
            wakeup = next_wakeup(&mut listener) => match wakeup {
                Ok(Wakeup::Revoked) => {}
                Ok(Wakeup::Reconnected) => tracing::info!("revocation listener reconnected"),
                Err(error) => {
                    tracing::warn!(error = %error, "revocation listener lost; polling only");
                    listener = None;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

async fn connect_listener(service: &AuthService) -> Option<RevocationListener> {
    match service.store.revocation_listener().await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(error = %error, "cannot listen for revocations; polling only");
            None
        }
    }
}

async fn next_wakeup(
    listener: &mut Option<RevocationListener>,
) -> Result<Wakeup, crate::error::AuthError> {
    match listener {
        Some(listener) => listener.next().await,
        None => std::future::pending().await,
    }
}

struct Follower {
    lookback: chrono::Duration,
    /// Revocations already applied, by id, with when they were recorded.
    applied: HashMap<Uuid, DateTime<Utc>>,
    last_read_at: Option<DateTime<Utc>>,
    failing: bool,
}

impl Follower {
    fn new(poll_interval: Duration) -> Self {
        let lookback = poll_interval
            .saturating_mul(2)
            .saturating_add(LOOKBACK_MARGIN);
        Self {
            lookback: chrono::Duration::from_std(lookback).unwrap_or(chrono::Duration::MAX),
            applied: HashMap::new(),
            last_read_at: None,
            failing: false,
        }
    }

    async fn catch_up(&mut self, service: &AuthService) {
        let now = service.clock.now();
        let since = now - self.lookback;
        let recorded = match service.store.revocations_since(since).await {
            Ok(recorded) => recorded,
            Err(error) => {
                // Once per outage, not once per poll.
                if !self.failing {
                    tracing::warn!(error = %error, "cannot read the revocation log");
                    self.failing = true;
                }
                return;
            }
        };
        if std::mem::take(&mut self.failing) {
            tracing::info!("reading the revocation log again");
        }
        // Reads too far apart may have missed a revocation between them.
        if self
            .last_read_at
            .is_some_and(|last_read_at| now - last_read_at >= self.lookback)
        {
            service.cache.forget_all_sessions();
        }
        for entry in recorded {
            if self.applied.insert(entry.id, entry.recorded_at).is_none() {
                service.cache.forget(entry.revocation);
            }
        }
        self.applied.retain(|_, recorded_at| *recorded_at >= since);
        self.last_read_at = Some(now);
    }
}
