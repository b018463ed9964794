use auth_service::grpc::proto::GetJwksRequest;
use ed25519_dalek::pkcs8::{EncodePrivateKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

async fn jwks(app: &TestApp) -> String {
    app.client
        .clone()
        .get_jwks(GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .jwks_json
}

async fn the_jwks_lists_the_signing_key_as_an_ed25519_jwk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document: Value = serde_json::from_str(&jwks(&app).await).unwrap();
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    for (field, expected) in [
        ("kty", "OKP"),
        ("crv", "Ed25519"),
        ("use", "sig"),
        ("alg", "EdDSA"),
    ] {
        assert_eq!(key[field], expected, "{field}");
    }
    assert_eq!(key["x"].as_str().unwrap().len(), 43);
    assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
    assert!(key.get("d").is_none(), "no private part");
    app.finish().await;
}

async fn a_login_token_verifies_with_a_standard_library_given_only_the_jwks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    let set: JwkSet = serde_json::from_str(&jwks(&app).await).unwrap();
    let header = jsonwebtoken::decode_header(&tokens.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["auth-service"]);
    validation.set_issuer(&["auth-service"]);
    let claims = jsonwebtoken::decode::<Value>(
        &tokens.access_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    for claim in [
        "iss", "aud", "sub", "email", "role", "sid", "iat", "exp", "jti",
    ] {
        assert!(claims.get(claim).is_some(), "missing {claim}");
    }
    assert_eq!(claims["role"], "user");
    app.finish().await;
}

async fn every_replica_and_restart_uses_the_same_keys(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let tokens = first.session("ada@example.com").await;
    let mut second = first.spawn_beside(&[]).await;
    assert_eq!(jwks(&first).await, jwks(&second).await);
    assert!(second.validate(&tokens.access_token).await.is_ok());
    second.stop_server().await;
    first.finish().await;
}

async fn a_key_file_signs_and_is_published(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    std::fs::write(&path, key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let app =
        TestApp::spawn_with(backend, &["--jwt-private-key-file", path.to_str().unwrap()]).await;
    let tokens = app.session("ada@example.com").await;
    let set: JwkSet = serde_json::from_str(&jwks(&app).await).unwrap();
    let kid = jsonwebtoken::decode_header(&tokens.access_token)
        .unwrap()
        .kid
        .unwrap();
    let jwk: Value = serde_json::to_value(set.find(&kid).unwrap()).unwrap();
    let x = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        key.verifying_key().as_bytes(),
    );
    assert_eq!(jwk["x"], x);
    assert!(app.validate(&tokens.access_token).await.is_ok());
    app.finish().await;
}

crate::on_every_database!(
    the_jwks_lists_the_signing_key_as_an_ed25519_jwk,
    a_login_token_verifies_with_a_standard_library_given_only_the_jwks,
    every_replica_and_restart_uses_the_same_keys,
    a_key_file_signs_and_is_published,
);
