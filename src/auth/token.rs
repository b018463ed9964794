//! Access tokens: the one owner of jsonwebtoken. EdDSA JWTs with `typ: at+jwt` (RFC 9068).
//! Time is a parameter: `issue(.., now)`, `verify(.., now)`.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::Keys;
use crate::{
    domain::{Role, User},
    error::AuthError,
};

const TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    email: String,
    role: String,
    sid: String,
    iat: i64,
    exp: i64,
    jti: String,
}

pub struct IssuedAccessToken {
    pub token: String,
    pub expires_in: Duration,
}

/// What a verified token says.
#[derive(Debug, Clone)]
pub struct AccessClaims {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    pub session_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

pub struct AccessTokens {
    keys: Arc<Keys>,
    issuer: String,
    audience: String,
    ttl: Duration,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(keys: Arc<Keys>, issuer: String, audience: String, ttl: Duration) -> Self {
        // Pinned once: only our algorithm, issuer and audience; `exp` is checked against our clock.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            keys,
            issuer,
            audience,
            ttl,
            validation,
        }
    }

    pub fn jwks_json(&self, now: DateTime<Utc>) -> String {
        self.keys.ring().jwks_json(now)
    }

    /// A token for `session_id` that lives for the configured TTL but never past `not_after`, when
    /// the session ends: offline validators see only the token's `exp`.
    pub fn issue(
        &self,
        user: &User,
        session_id: Uuid,
        not_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, AuthError> {
        let expires_at = chrono::Duration::from_std(self.ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .ok_or_else(|| {
                AuthError::internal(anyhow::anyhow!("access token lifetime out of range"))
            })?
            .min(not_after);
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id.to_string(),
            email: user.email.to_string(),
            role: user.role.as_str().to_owned(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.to_owned());
        let ring = self.keys.ring();
        let (kid, key) = ring
            .signer(now)
            .ok_or_else(|| AuthError::internal(anyhow::anyhow!("no signing key is available")))?;
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key).map_err(AuthError::internal)?;
        Ok(IssuedAccessToken {
            token,
            expires_in: (expires_at - now).to_std().unwrap_or_default(),
        })
    }

    /// Signature, algorithm, key id, typ, iss, aud and exp. Every failure looks the same to callers.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidAccessToken)?;
        let typ_ok = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        let ring = self.keys.ring();
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| ring.verifier(kid, now));
        let (true, Algorithm::EdDSA, Some(key)) = (typ_ok, header.alg, key) else {
            return Err(AuthError::InvalidAccessToken);
        };
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| AuthError::InvalidAccessToken)?
            .claims;
        parse_claims(claims, now).ok_or(AuthError::InvalidAccessToken)
    }
}

fn parse_claims(claims: Claims, now: DateTime<Utc>) -> Option<AccessClaims> {
    let expires_at = Utc.timestamp_opt(claims.exp, 0).single()?;
    if expires_at <= now {
        return None;
    }
    Some(AccessClaims {
        user_id: Uuid::parse_str(&claims.sub).ok()?,
        email: claims.email,
        role: Role::from_claim(&claims.role)?,
        session_id: Uuid::parse_str(&claims.sid).ok()?,
        expires_at,
    })
}
