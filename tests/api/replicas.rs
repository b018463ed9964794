//! Replicas as separate processes, each with its own caches, on one PostgreSQL database.

use std::time::{Duration, Instant};

use auth_service::grpc::proto::{RevokeRequest, ValidateTokenRequest};
use tonic::Code;

use crate::helpers::{Backend, ServerProcess, TestApp, on};

/// With polling all but off and a long TTL, only NOTIFY can tell b in time.
const NOTIFY_ONLY: [(&str, &str); 2] = [
    ("AUTH_REVOCATION_POLL_INTERVAL", "1h"),
    ("AUTH_LIVENESS_CACHE_TTL", "60s"),
];

/// The bound documented for PostgreSQL is the NOTIFY round trip (milliseconds); a second leaves a
/// loaded CI machine ample room while staying far below the TTL.
const BOUND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_in_one_process_reaches_another_through_notify() {
    on(Backend::Postgres, |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.register("ada@example.com").await;
        let a = ServerProcess::start(&app.database_url(), &NOTIFY_ONLY).await;
        let b = ServerProcess::start(&app.database_url(), &NOTIFY_ONLY).await;
        // b reads the log once as it starts; that read must come before the revoke.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let tokens = a.login("ada@example.com").await.tokens.unwrap();
        let validate = || {
            let mut client = b.client.clone();
            let request = ValidateTokenRequest {
                access_token: tokens.access_token.clone(),
            };
            async move { client.validate_token(request).await }
        };
        assert!(validate().await.is_ok(), "b has seen the session live");
        let revoke = RevokeRequest {
            refresh_token: tokens.refresh_token.clone(),
            all_sessions: false,
        };
        a.client.clone().revoke(revoke).await.unwrap();
        let revoked_at = Instant::now();
        let seen_after = loop {
            match validate().await {
                Err(status) if status.code() == Code::Unauthenticated => {
                    break revoked_at.elapsed();
                }
                Ok(_) if revoked_at.elapsed() < BOUND => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => panic!("b still answers {other:?} {BOUND:?} after the revoke"),
            }
        };
        eprintln!("b refused the revoked session {seen_after:?} after a revoked it");
        for process in [a, b] {
            let lines = process.stop();
            assert!(
                lines
                    .iter()
                    .all(|line| !line.to_string().contains("polling only")),
                "the listener worked throughout"
            );
        }
        app.finish().await;
    })
    .await;
}
