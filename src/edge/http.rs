//! The plain-HTTP side of the listener: what gateways, JWT libraries and load balancers fetch.
//! Every answer is a GET without a body; anything else is 404 or 405.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::{auth::AuthService, auth::keys::ALGORITHM};

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// No route reads a body; this only bounds what a client can make the server buffer.
const MAX_BODY_BYTES: usize = 1024;

/// What the HTTP routes need from the rest of the service.
#[derive(Clone)]
pub struct HttpState {
    pub service: Arc<AuthService>,
    pub ready: watch::Receiver<bool>,
    /// `None` when neither AUTH_ISSUER nor AUTH_PUBLIC_URL is a URL: there is no discovery then.
    pub discovery: Option<Arc<str>>,
    pub jwks_cache_control: HeaderValue,
}

impl HttpState {
    pub fn new(
        service: Arc<AuthService>,
        ready: watch::Receiver<bool>,
        issuer: &str,
        public_url: Option<&str>,
        jwks_max_age: Duration,
    ) -> Self {
        let base = if crate::config::is_http_url(issuer) {
            Some(issuer)
        } else {
            public_url
        };
        let discovery = base.map(|base| {
            serde_json::json!({
                "issuer": issuer,
                "jwks_uri": format!("{}{JWKS_PATH}", base.trim_end_matches('/')),
                "id_token_signing_alg_values_supported": [ALGORITHM],
            })
            .to_string()
            .into()
        });
        let cache_control = format!("public, max-age={}", jwks_max_age.as_secs());
        Self {
            service,
            ready,
            discovery,
            jwks_cache_control: HeaderValue::from_str(&cache_control)
                .unwrap_or(HeaderValue::from_static("no-cache")),
        }
    }
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route(JWKS_PATH, get(jwks))
        .route(DISCOVERY_PATH, get(discovery))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .route("/readyz", get(readyz))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn jwks(State(state): State<HttpState>, request: HeaderMap) -> Response {
    let body = state.service.jwks_json();
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            state
                .jwks_cache_control
                .to_str()
                .unwrap_or("no-cache")
                .to_owned(),
        ),
    ];
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(header::CONTENT_TYPE, "application/json".to_owned())],
        body,
    )
        .into_response()
}

async fn discovery(State(state): State<HttpState>) -> Response {
    match state.discovery {
        Some(document) => (
            [(header::CONTENT_TYPE, "application/json")],
            document.to_string(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn readyz(State(state): State<HttpState>) -> StatusCode {
    if *state.ready.borrow() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}
