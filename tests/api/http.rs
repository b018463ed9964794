//! The listener's plain-HTTP side: JWK Set, discovery, probes; gRPC still on the same port.

use hyper::{Method, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;

use crate::helpers::{
    Backend, TestApp,
    http::{get, request},
};

async fn a_login_token_verifies_with_keys_fetched_from_the_http_jwk_set(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    let response = get(&app.url("/.well-known/jwks.json")).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "application/json");
    assert_eq!(response.header("cache-control"), "public, max-age=300");
    let set: JwkSet = serde_json::from_str(&response.body).unwrap();
    let kid = jsonwebtoken::decode_header(&tokens.access_token)
        .unwrap()
        .kid
        .unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["auth-service"]);
    validation.set_issuer(&["auth-service"]);
    let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(&tokens.access_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["email"], "ada@example.com");
    app.finish().await;
}

async fn the_jwk_set_answers_its_own_etag_with_not_modified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.url("/.well-known/jwks.json");
    let first = get(&url).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    let again = request(Method::GET, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let stale = request(Method::GET, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(stale.status, StatusCode::OK);
    app.finish().await;
}

async fn a_rotated_key_appears_in_the_http_jwk_set(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--key-refresh-interval", "50ms"]).await;
    let before: JwkSet =
        serde_json::from_str(&get(&app.url("/.well-known/jwks.json")).await.body).unwrap();
    assert!(app.cli(&["keys", "rotate"], "").status.success());
    for _ in 0..500 {
        let now: JwkSet =
            serde_json::from_str(&get(&app.url("/.well-known/jwks.json")).await.body).unwrap();
        if now.keys.len() > before.keys.len() {
            app.finish().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the rotated key never appeared in the HTTP JWK Set");
}

async fn discovery_points_at_the_jwk_set_under_a_url_issuer(backend: Backend) {
    let issuer = "https://auth.example.com";
    let app = TestApp::spawn_with(backend, &["--issuer", issuer]).await;
    let response = get(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(response.status, StatusCode::OK);
    let document: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(document["issuer"], issuer);
    assert_eq!(
        document["jwks_uri"],
        "https://auth.example.com/.well-known/jwks.json"
    );
    assert!(document.get("authorization_endpoint").is_none());
    app.finish().await;
}

async fn discovery_needs_a_url_to_point_at(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = get(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let public = app
        .spawn_beside(&["--public-url", "http://auth.internal:50051/"])
        .await;
    let document: Value = serde_json::from_str(
        &get(&public.url("/.well-known/openid-configuration"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(document["issuer"], "auth-service");
    assert_eq!(
        document["jwks_uri"],
        "http://auth.internal:50051/.well-known/jwks.json"
    );
    public.finish().await;
    app.finish().await;
}

async fn probes_answer_and_unknown_paths_and_methods_are_refused(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    assert_eq!(get(&app.url("/healthz")).await.status, StatusCode::OK);
    assert_eq!(get(&app.url("/readyz")).await.status, StatusCode::OK);
    assert_eq!(get(&app.url("/nope")).await.status, StatusCode::NOT_FOUND);
    let post = request(Method::POST, &app.url("/.well-known/jwks.json"), &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    // gRPC still works on the same port, over the same kind of connection.
    app.session("ada@example.com").await;
    app.stop_server().await;
    app.finish().await;
}

crate::on_every_database!(
    a_login_token_verifies_with_keys_fetched_from_the_http_jwk_set,
    the_jwk_set_answers_its_own_etag_with_not_modified,
    a_rotated_key_appears_in_the_http_jwk_set,
    discovery_points_at_the_jwk_set_under_a_url_issuer,
    discovery_needs_a_url_to_point_at,
    probes_answer_and_unknown_paths_and_methods_are_refused,
);
