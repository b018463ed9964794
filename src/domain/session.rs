use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A refresh token lives until its own idle limit or its session's end, whichever comes first.
pub fn refresh_token_expiry(
    idle_expires_at: DateTime<Utc>,
    session_ends_at: DateTime<Utc>,
) -> DateTime<Utc> {
    idle_expires_at.min(session_ends_at)
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// What a revocation ended, as the replicas that remember sessions must hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Session(Uuid),
    /// Every session of the user but `kept`.
    UserSessions {
        user_id: Uuid,
        kept: Option<Uuid>,
    },
}
