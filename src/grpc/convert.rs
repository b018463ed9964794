//! proto <-> domain. Requests are destructured in full, so a new field fails to compile until handled.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::{client_info::Transport, proto};
use crate::{
    auth::{AccessClaims, LoginInput, RegisterInput, TokenPair, UserKey},
    domain::{Email, FullName, LoginPassword, Role, SessionInfo, User, UserQuery, Username},
    error::AuthError,
};

pub fn register_input(request: proto::RegisterRequest) -> Result<RegisterInput, AuthError> {
    let proto::RegisterRequest {
        email,
        password,
        username,
        full_name,
    } = request;
    Ok(RegisterInput {
        email: Email::parse(&email)?,
        password: SecretString::from(password),
        username: Username::parse_optional(&username)?,
        full_name: FullName::parse_optional(&full_name)?,
    })
}

pub fn login_input(
    request: proto::LoginRequest,
    transport: Transport,
) -> Result<LoginInput, AuthError> {
    let proto::LoginRequest {
        email,
        password,
        client,
    } = request;
    Ok(LoginInput {
        email: Email::parse(&email)?,
        password: LoginPassword::parse(SecretString::from(password))?,
        client: transport.resolve(client),
    })
}

pub fn user(user: &User) -> proto::User {
    proto::User {
        id: user.id.to_string(),
        email: user.email.to_string(),
        username: user.username.clone().unwrap_or_default(),
        full_name: user.full_name.clone().unwrap_or_default(),
        role: role(user.role).into(),
        is_active: user.is_active,
        created_at: Some(timestamp(user.created_at)),
        updated_at: Some(timestamp(user.updated_at)),
    }
}

pub fn token_pair(tokens: TokenPair) -> proto::TokenPair {
    let TokenPair {
        access_token,
        refresh_token,
        expires_in,
        refresh_expires_at,
    } = tokens;
    proto::TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX),
        refresh_expires_at: Some(timestamp(refresh_expires_at)),
    }
}

pub fn validate_response(claims: AccessClaims) -> proto::ValidateTokenResponse {
    let AccessClaims {
        user_id,
        email,
        role: claimed_role,
        session_id,
        expires_at,
    } = claims;
    proto::ValidateTokenResponse {
        user_id: user_id.to_string(),
        email,
        role: role(claimed_role).into(),
        session_id: session_id.to_string(),
        expires_at: Some(timestamp(expires_at)),
    }
}

pub fn session(session: &SessionInfo, calling_session: Uuid) -> proto::Session {
    proto::Session {
        session_id: session.id.to_string(),
        created_at: Some(timestamp(session.created_at)),
        last_refreshed_at: Some(timestamp(session.last_refreshed_at)),
        expires_at: Some(timestamp(session.expires_at)),
        ip_address: session.ip_address.clone().unwrap_or_default(),
        user_agent: session.user_agent.clone().unwrap_or_default(),
        current: session.id == calling_session,
    }
}

/// A required UUID field.
pub fn uuid(field: &'static str, value: &str) -> Result<Uuid, AuthError> {
    if value.is_empty() {
        return Err(AuthError::invalid(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| AuthError::invalid(field, "must be a UUID"))
}

pub fn user_key(request: proto::GetUserRequest) -> Result<UserKey, AuthError> {
    let proto::GetUserRequest { user_id, email } = request;
    match (user_id.is_empty(), email.is_empty()) {
        (false, true) => Ok(UserKey::Id(uuid("user_id", &user_id)?)),
        (true, false) => Ok(UserKey::Email(Email::parse(&email)?)),
        _ => Err(AuthError::invalid(
            "user_id",
            "set exactly one of user_id and email",
        )),
    }
}

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

pub fn user_query(request: proto::ListUsersRequest) -> Result<UserQuery, AuthError> {
    let proto::ListUsersRequest {
        page_size,
        page_token,
        email_prefix,
        role: role_filter,
        is_active,
    } = request;
    let limit = match u64::try_from(page_size) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(size) if size <= MAX_PAGE_SIZE => size,
        _ => return Err(AuthError::invalid("page_size", "must be between 0 and 500")),
    };
    let after = if page_token.is_empty() {
        None
    } else {
        Some(parse_page_token(&page_token)?)
    };
    let email_prefix = email_prefix.trim().to_lowercase();
    let role = match proto::Role::try_from(role_filter) {
        Ok(proto::Role::Unspecified) => None,
        Ok(proto::Role::User) => Some(Role::User),
        Ok(proto::Role::Admin) => Some(Role::Admin),
        Err(_) => return Err(AuthError::invalid("role", "is not a known role")),
    };
    Ok(UserQuery {
        after,
        limit,
        email_prefix: (!email_prefix.is_empty()).then_some(email_prefix),
        role,
        is_active,
    })
}

pub fn required_role(value: i32) -> Result<Role, AuthError> {
    match proto::Role::try_from(value) {
        Ok(proto::Role::User) => Ok(Role::User),
        Ok(proto::Role::Admin) => Ok(Role::Admin),
        _ => Err(AuthError::invalid(
            "role",
            "must be ROLE_USER or ROLE_ADMIN",
        )),
    }
}

/// Opaque to clients: the last id of the page, base64url.
pub fn page_token(last: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn parse_page_token(token: &str) -> Result<Uuid, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok());
    bytes.ok_or_else(|| AuthError::invalid("page_token", "is not a token this service issued"))
}

fn role(role: Role) -> proto::Role {
    match role {
        Role::User => proto::Role::User,
        Role::Admin => proto::Role::Admin,
    }
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}
