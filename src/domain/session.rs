use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A live session (refresh token family) as its owner sees it.
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
