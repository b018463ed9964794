//! Brute force across accounts: failed logins counted per client address.

use std::time::Duration;

use auth_service::grpc::proto::{ClientInfo, LoginRequest};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{Backend, PASSWORD, TestApp, assert_code};

const THREE_PER_MINUTE: &[&str] = &[
    "--ip-throttle-max-failures",
    "3",
    "--ip-throttle-window",
    "1m",
];

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Result<(), Status> {
    let client = Some(ClientInfo {
        ip_address: ip.into(),
        user_agent: String::new(),
    });
    let request = LoginRequest {
        email: email.into(),
        password: password.into(),
        client,
    };
    app.client.clone().login(request).await.map(|_| ())
}

async fn failures_across_emails_from_one_address_throttle_that_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, THREE_PER_MINUTE).await;
    app.register("ada@example.com").await;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_code(
            login_from(&app, "203.0.113.9", email, "guess").await,
            Code::Unauthenticated,
        );
    }
    let status = assert_code(
        login_from(&app, "203.0.113.9", "ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    let retry = status.get_details_retry_info().expect("a RetryInfo detail");
    let delay = retry.retry_delay.unwrap();
    assert!(
        delay > Duration::from_secs(50) && delay <= Duration::from_secs(60),
        "{delay:?}"
    );
    assert!(
        login_from(&app, "198.51.100.1", "ada@example.com", PASSWORD)
            .await
            .is_ok(),
        "other addresses are unaffected"
    );
    app.clock.advance(Duration::from_secs(61));
    assert!(
        login_from(&app, "203.0.113.9", "ada@example.com", PASSWORD)
            .await
            .is_ok()
    );
    app.finish().await;
}

async fn an_untrusted_caller_cannot_spoof_its_address(backend: Backend) {
    let flags = [THREE_PER_MINUTE, &["--trusted-proxies", "10.0.0.0/8"]].concat();
    let app = TestApp::spawn_with(backend, &flags).await;
    app.register("ada@example.com").await;
    for (i, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .iter()
        .enumerate()
    {
        let spoofed = format!("203.0.113.{i}");
        assert_code(
            login_from(&app, &spoofed, email, "guess").await,
            Code::Unauthenticated,
        );
    }
    // All three came from this test's own address, whatever ClientInfo claimed.
    assert_code(
        login_from(&app, "192.0.2.77", "ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    app.finish().await;
}

async fn a_locked_email_reports_how_long_to_wait(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    for _ in 0..5 {
        app.login("ada@example.com", "wrong").await.unwrap_err();
    }
    let status = assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    let delay = status
        .get_details_retry_info()
        .expect("a RetryInfo detail")
        .retry_delay
        .unwrap();
    assert!(
        delay > Duration::from_secs(14 * 60) && delay <= Duration::from_secs(15 * 60),
        "{delay:?}"
    );
    app.finish().await;
}

crate::on_every_database!(
    failures_across_emails_from_one_address_throttle_that_address,
    an_untrusted_caller_cannot_spoof_its_address,
    a_locked_email_reports_how_long_to_wait,
);

async fn logins_beyond_what_the_hashing_pool_can_take_fail_fast(backend: Backend) {
    // One hashing thread, slow hashes, and almost no patience for a free thread.
    let flags = [
        "--hashing-threads",
        "1",
        "--hashing-queue-timeout",
        "10ms",
        "--argon2-memory-kib",
        "8192",
        "--argon2-iterations",
        "20",
    ];
    let app = TestApp::spawn_with(backend, &flags).await;
    app.register("ada@example.com").await;
    let logins = (0..8).map(|i| {
        let mut client = app.client.clone();
        let client_info = Some(ClientInfo {
            ip_address: format!("198.51.100.{i}"),
            user_agent: String::new(),
        });
        let request = LoginRequest {
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
            client: client_info,
        };
        async move {
            client
                .login(request)
                .await
                .map(|_| ())
                .map_err(|status| status.code())
        }
    });
    let outcomes = crate::helpers::join_all(logins).await;
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    assert!(
        outcomes.contains(&Err(Code::ResourceExhausted)),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, Ok(()) | Err(Code::ResourceExhausted))),
        "{outcomes:?}"
    );
    app.finish().await;
}

crate::on_every_database!(logins_beyond_what_the_hashing_pool_can_take_fail_fast);

async fn logins_refused_for_a_busy_service_do_not_count_toward_the_lockout(backend: Backend) {
    // One hashing thread, slow hashes, and no patience at all for a free thread.
    let flags = [
        "--hashing-threads",
        "1",
        "--hashing-queue-timeout",
        "0s",
        "--argon2-memory-kib",
        "8192",
        "--argon2-iterations",
        "100",
    ];
    let app = TestApp::spawn_with(backend, &flags).await;
    app.register("ada@example.com").await;
    app.register("bob@example.com").await;
    let holds_the_thread = app.login_in_background("bob@example.com");
    // Bob's hash takes far longer than this; it only has to have started.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..6 {
        assert_code(
            app.login("ada@example.com", PASSWORD).await,
            Code::ResourceExhausted,
        );
    }
    holds_the_thread.await.unwrap().unwrap();
    assert!(
        app.login("ada@example.com", PASSWORD).await.is_ok(),
        "the service was busy, not the user wrong"
    );
    app.finish().await;
}

crate::on_every_database!(logins_refused_for_a_busy_service_do_not_count_toward_the_lockout);
