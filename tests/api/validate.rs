use std::time::Duration;

use auth_service::{db::entities::refresh_tokens, grpc::proto::Role};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ConnectionTrait, EntityTrait, Statement, sea_query::Expr};
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{Backend, TestApp, assert_code};

async fn a_fresh_access_token_validates_to_its_claims(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let login = app.login_new("ada@example.com").await;
    let tokens = login.tokens.unwrap();
    let claims = app.validate(&tokens.access_token).await.unwrap();
    assert_eq!(claims.user_id, login.user.unwrap().id);
    assert_eq!(claims.email, "ada@example.com");
    assert_eq!(claims.role(), Role::User);
    assert!(uuid::Uuid::parse_str(&claims.session_id).is_ok());
    let expires = claims.expires_at.unwrap().seconds;
    assert!((expires - (app.clock.now().timestamp() + 900)).abs() <= 5);
    app.finish().await;
}

async fn an_expired_access_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_code(
        app.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn a_deactivated_users_token_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    app.deactivate("ada@example.com").await;
    assert_code(
        app.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

async fn an_empty_token_is_invalid_argument(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let status = assert_code(app.validate("").await, Code::InvalidArgument);
    assert!(status.message().starts_with("access_token"));
    app.finish().await;
}

/// The server's own signing key, read from the database as an attacker with a backup might.
async fn signing_key(app: &TestApp) -> (String, EncodingKey, String) {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT kid, private_key, public_jwk FROM signing_keys",
        ))
        .await
        .unwrap()
        .unwrap();
    let kid: String = row.try_get("", "kid").unwrap();
    let pem: String = row.try_get("", "private_key").unwrap();
    let jwk: String = row.try_get("", "public_jwk").unwrap();
    let x = serde_json::from_str::<Value>(&jwk).unwrap()["x"]
        .as_str()
        .unwrap()
        .to_owned();
    (kid, EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(), x)
}

fn sign(claims: &Value, kid: &str, typ: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn unsigned(header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.", encode(header), encode(claims))
}

async fn forged_and_mangled_tokens_are_all_refused_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.session("ada@example.com").await;
    let genuine = app.validate(&tokens.access_token).await.unwrap();
    let (kid, key, x) = signing_key(&app).await;
    let now = app.clock.now().timestamp();
    let claims = |overrides: Value| {
        let mut claims = json!({
            "iss": "auth-service", "aud": "auth-service", "sub": genuine.user_id, "email": genuine.email,
            "role": "admin", "sid": genuine.session_id, "iat": now, "exp": now + 600, "jti": "x",
        });
        for (name, value) in overrides.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    // Control: a token we sign ourselves with the right claims is accepted, so the refusals below
    // are about the one thing each case changes.
    assert!(
        app.validate(&sign(&claims(json!({})), &kid, "at+jwt", &key))
            .await
            .is_ok()
    );

    let mut hs256_header = Header::new(Algorithm::HS256);
    hs256_header.kid = Some(kid.clone());
    hs256_header.typ = Some("at+jwt".into());
    let hs256 = jsonwebtoken::encode(
        &hs256_header,
        &claims(json!({})),
        &EncodingKey::from_secret(x.as_bytes()),
    )
    .unwrap();
    let mut tampered_parts: Vec<String> =
        tokens.access_token.split('.').map(str::to_owned).collect();
    tampered_parts[1] = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());

    let refused = [
        (
            "alg none",
            unsigned(
                &json!({"alg": "none", "typ": "at+jwt", "kid": kid}),
                &claims(json!({})),
            ),
        ),
        ("HMAC keyed with the public key", hs256),
        ("tampered payload", tampered_parts.join(".")),
        ("wrong typ", sign(&claims(json!({})), &kid, "JWT", &key)),
        (
            "wrong issuer",
            sign(&claims(json!({"iss": "evil"})), &kid, "at+jwt", &key),
        ),
        (
            "wrong audience",
            sign(&claims(json!({"aud": "other"})), &kid, "at+jwt", &key),
        ),
        (
            "unknown kid",
            sign(&claims(json!({})), "not-our-key", "at+jwt", &key),
        ),
        (
            "expired",
            sign(&claims(json!({"exp": now - 1})), &kid, "at+jwt", &key),
        ),
        (
            "exp as a string",
            sign(
                &claims(json!({"exp": (now + 600).to_string()})),
                &kid,
                "at+jwt",
                &key,
            ),
        ),
        (
            "no exp",
            sign(&claims(json!({"exp": null})), &kid, "at+jwt", &key),
        ),
        (
            "unknown role",
            sign(&claims(json!({"role": "root"})), &kid, "at+jwt", &key),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    let mut messages = Vec::new();
    for (case, token) in refused {
        let status = app.validate(&token).await.expect_err(case);
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{case}: {}",
            status.message()
        );
        messages.push(status.message().to_owned());
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "one message whatever the reason: {messages:?}"
    );
    app.finish().await;
}

crate::on_every_database!(
    a_fresh_access_token_validates_to_its_claims,
    an_expired_access_token_is_unauthenticated,
    a_deactivated_users_token_is_unauthenticated,
    an_empty_token_is_invalid_argument,
    forged_and_mangled_tokens_are_all_refused_alike,
);

/// A fast poll of the revocation log, and a liveness TTL long enough that only the log can explain a
/// replica seeing a revocation in time.
const FOLLOWING_THE_LOG: [&str; 4] = [
    "--revocation-poll-interval",
    "50ms",
    "--liveness-cache-ttl",
    "60s",
];

async fn a_revoke_on_one_replica_reaches_the_others_through_the_revocation_log(backend: Backend) {
    let a = TestApp::spawn_with(backend, &FOLLOWING_THE_LOG).await;
    let mut b = a.spawn_beside(&FOLLOWING_THE_LOG).await;
    let one = a.session("ada@example.com").await;
    let other = a.session("ada@example.com").await;
    for tokens in [&one, &other] {
        assert!(
            b.validate(&tokens.access_token).await.is_ok(),
            "b has seen it live"
        );
    }
    a.revoke(&one.refresh_token, false).await.unwrap();
    b.wait_until_refused(&one.access_token).await;
    assert!(
        b.validate(&other.access_token).await.is_ok(),
        "a session's revocation ends only that session"
    );
    a.revoke(&other.refresh_token, true).await.unwrap();
    b.wait_until_refused(&other.access_token).await;
    b.stop_server().await;
    a.finish().await;
}

/// A revocation that never reached the log (here: made behind the service's back) cannot be
/// followed; a replica that has not read the log for longer than it looks back forgets every session
/// rather than trust what it might have missed.
async fn a_replica_that_fell_behind_the_log_forgets_every_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, &FOLLOWING_THE_LOG).await;
    let tokens = app.session("ada@example.com").await;
    assert!(app.validate(&tokens.access_token).await.is_ok());
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(app.clock.now()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert!(
        app.validate(&tokens.access_token).await.is_ok(),
        "nothing in the log: the session is still trusted"
    );
    // The log is read 10 s plus two poll intervals back; a longer silence is a gap.
    app.clock.advance(Duration::from_secs(11));
    app.wait_until_refused(&tokens.access_token).await;
    app.finish().await;
}

async fn without_the_revocation_log_a_replica_trusts_a_live_session_for_the_ttl(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let not_following = [
        "--revocation-poll-interval",
        "0s",
        "--liveness-cache-ttl",
        "1s",
    ];
    let mut b = a.spawn_beside(&not_following).await;
    let tokens = a.session("ada@example.com").await;
    assert!(b.validate(&tokens.access_token).await.is_ok());
    a.revoke(&tokens.refresh_token, false).await.unwrap();
    assert_code(
        a.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    assert!(
        b.validate(&tokens.access_token).await.is_ok(),
        "b trusts what it saw, for the TTL"
    );
    a.clock.advance(Duration::from_secs(1));
    assert_code(
        b.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    b.stop_server().await;
    a.finish().await;
}

async fn without_a_liveness_cache_every_call_reads_the_database(backend: Backend) {
    let a = TestApp::spawn_with(backend, &["--liveness-cache-ttl", "0s"]).await;
    let mut b = a.spawn_beside(&["--liveness-cache-ttl", "0s"]).await;
    let tokens = a.session("ada@example.com").await;
    assert!(b.validate(&tokens.access_token).await.is_ok());
    a.revoke(&tokens.refresh_token, false).await.unwrap();
    assert_code(
        b.validate(&tokens.access_token).await,
        Code::Unauthenticated,
    );
    b.stop_server().await;
    a.finish().await;
}

crate::on_every_database!(
    a_revoke_on_one_replica_reaches_the_others_through_the_revocation_log,
    without_the_revocation_log_a_replica_trusts_a_live_session_for_the_ttl,
    a_replica_that_fell_behind_the_log_forgets_every_session,
    without_a_liveness_cache_every_call_reads_the_database,
);
