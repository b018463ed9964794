//! gRPC health: SERVING while the database answers and has the schema this build needs;
//! NOT_SERVING otherwise and from the start of shutdown.

use std::time::Duration;

use tokio::sync::watch;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    db::Store,
    grpc::proto::{admin_service_server, auth_service_server},
};

/// Pings the database every `interval` and publishes the result for "" and auth.v1.AuthService,
/// and to `ready` for the HTTP readiness probe.
/// This task owns every status change, including the last one, so no stale probe can overwrite
/// NOT_SERVING once shutdown began.
pub async fn probe_database(
    reporter: HealthReporter,
    ready: watch::Sender<bool>,
    store: Store,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let deadline = interval.clamp(Duration::from_secs(1), Duration::from_secs(5));
    let mut published = None;
    let mut schema_seen_current = false;
    loop {
        let check = async {
            store.ping().await?;
            // Until the schema is seen complete once (migrations may run elsewhere, e.g. a job).
            if !schema_seen_current {
                schema_seen_current = store.schema_is_current().await?;
            }
            Ok::<bool, crate::error::AuthError>(schema_seen_current)
        };
        let status = match tokio::time::timeout(deadline, check).await {
            Ok(Ok(true)) => ServingStatus::Serving,
            Ok(Ok(false)) => ServingStatus::NotServing,
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "database check failed");
                ServingStatus::NotServing
            }
            Err(_) => ServingStatus::NotServing,
        };
        if published != Some(status) {
            match status {
                ServingStatus::Serving => tracing::info!("database ready: SERVING"),
                _ => tracing::warn!("database unreachable or migrations pending: NOT_SERVING"),
            }
            publish(&reporter, status).await;
            ready.send_replace(status == ServingStatus::Serving);
            published = Some(status);
        }
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    ready.send_replace(false);
    publish(&reporter, ServingStatus::NotServing).await;
}

pub async fn publish(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter
        .set_service_status(auth_service_server::SERVICE_NAME, status)
        .await;
    reporter
        .set_service_status(admin_service_server::SERVICE_NAME, status)
        .await;
}
