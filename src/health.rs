//! gRPC health: SERVING while the database answers, NOT_SERVING while it does not and on shutdown.

use std::time::Duration;

use tokio::sync::watch;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{db::Store, grpc::proto::auth_service_server::SERVICE_NAME};

/// Pings the database every `interval` and publishes the result for "" and auth.v1.AuthService.
/// This task owns every status change, including the last one, so no stale probe can overwrite
/// NOT_SERVING once shutdown began.
pub async fn probe_database(
    reporter: HealthReporter,
    store: Store,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let deadline = interval.clamp(Duration::from_secs(1), Duration::from_secs(5));
    let mut published = None;
    loop {
        let status = match tokio::time::timeout(deadline, store.ping()).await {
            Ok(Ok(())) => ServingStatus::Serving,
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "database ping failed");
                ServingStatus::NotServing
            }
            Err(_) => ServingStatus::NotServing,
        };
        if published != Some(status) {
            match status {
                ServingStatus::Serving => tracing::info!("database reachable: SERVING"),
                _ => tracing::warn!("database unreachable: NOT_SERVING"),
            }
            publish(&reporter, status).await;
            published = Some(status);
        }
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    publish(&reporter, ServingStatus::NotServing).await;
}

pub async fn publish(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(SERVICE_NAME, status).await;
}
