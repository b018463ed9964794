//! Signing key rotation: published at once, signing one refresh interval later, retired once every
//! token it signed has expired. No restart.

use std::time::Duration;

use auth_service::grpc::proto::GetJwksRequest;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

const FAST_RELOAD: &[&str] = &["--key-refresh-interval", "50ms"];

async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks = app
        .client
        .clone()
        .get_jwks(GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .jwks_json;
    let document: Value = serde_json::from_str(&jwks).unwrap();
    document["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls (bounded: 10 s) until the replica publishes `count` keys.
async fn wait_for_published(app: &TestApp, count: usize) -> Vec<String> {
    for _ in 0..500 {
        let kids = published_kids(app).await;
        if kids.len() == count {
            return kids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never published {count} keys");
}

fn kid_of(access_token: &str) -> String {
    jsonwebtoken::decode_header(access_token)
        .unwrap()
        .kid
        .unwrap()
}

async fn a_rotated_key_is_published_at_once_and_signs_after_one_interval(backend: Backend) {
    let app = TestApp::spawn_with(backend, FAST_RELOAD).await;
    let mut replica = app.spawn_beside(FAST_RELOAD).await;
    let before = app.session("ada@example.com").await;
    let old_kid = kid_of(&before.access_token);

    let rotated = app.cli(&["keys", "rotate", "--key-refresh-interval", "30s"], "");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let kids = wait_for_published(&app, 2).await;
    wait_for_published(&replica, 2).await;
    let new_kid = kids.into_iter().find(|kid| *kid != old_kid).unwrap();
    assert_eq!(
        kid_of(&app.session("ada@example.com").await.access_token),
        old_kid,
        "not before activation"
    );

    app.clock.advance(Duration::from_secs(31));
    let after = app.session("ada@example.com").await;
    assert_eq!(kid_of(&after.access_token), new_kid);
    assert!(
        replica.validate(&after.access_token).await.is_ok(),
        "the other replica knows the new key"
    );
    assert!(
        replica.validate(&before.access_token).await.is_ok(),
        "the old key still verifies"
    );

    // Retired once every token the old key signed has expired: activation + 15m TTL + interval.
    app.clock.advance(Duration::from_secs(15 * 60 + 31));
    assert_eq!(wait_for_published(&app, 1).await, [new_kid]);
    replica.stop_server().await;
    app.finish().await;
}

async fn keys_list_shows_every_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = published_kids(&app).await.remove(0);
    assert!(app.cli(&["keys", "rotate"], "").status.success());
    let listed = app.cli(&["keys", "list"], "");
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(
        listed.lines().count(),
        3,
        "a header and two keys:\n{listed}"
    );
    assert!(listed.contains(&first));
    app.finish().await;
}

async fn rotation_is_refused_when_a_key_file_signs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let pem =
        ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, Default::default()).unwrap();
    std::fs::write(&path, pem.as_bytes()).unwrap();
    let refused = app.cli(
        &[
            "keys",
            "rotate",
            "--jwt-private-key-file",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("AUTH_JWT_PRIVATE_KEY_FILE"));
    app.finish().await;
}

crate::on_every_database!(
    a_rotated_key_is_published_at_once_and_signs_after_one_interval,
    keys_list_shows_every_key,
    rotation_is_refused_when_a_key_file_signs,
);
