//! The `refresh_tokens` table. The domain's *session* is stored as a *token family*: the token
//! issued at login and one more per rotation, all sharing `token_family` (the session id). Each row
//! carries when its session ends, set when the session starts and copied to every successor. This
//! file holds the two definitions everything else uses: what a live token is, and what a new row
//! holds.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, Iterable,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, Query},
};
use uuid::Uuid;

use super::{
    Store, db_error,
    entities::{refresh_tokens, users},
    users::to_user,
};
use crate::{
    domain::{ClientContext, SessionInfo, TokenHash, User, refresh_token_expiry},
    error::AuthError,
};

use refresh_tokens::Column;

/// What is chosen for a new refresh token alone; its session comes from its [`Lineage`].
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub token_hash: TokenHash,
    pub client: ClientContext,
    /// Unused until then, the token dies even if its session has not ended.
    pub idle_expires_at: DateTime<Utc>,
}

/// A session that starts with its first token.
#[derive(Debug, Clone, Copy)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A stored refresh token, with its user.
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub user: User,
    /// The session's id.
    pub token_family: Uuid,
    pub session_started_at: DateTime<Utc>,
    pub session_ends_at: DateTime<Utc>,
    /// Set when the token was rotated or its session revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a new token's session columns come from.
pub(super) enum Lineage<'a> {
    /// The first token of a session.
    Starts(&'a NewSession),
    /// A successor: the session of the token it replaces.
    Replaces(&'a StoredRefreshToken),
    /// A successor of the token consumed by the same statement, in the CTE of that name
    /// (PostgreSQL's one-statement rotation).
    ReplacesConsumed(&'static str),
}

/// A live token: not consumed or revoked, within both its limits, its user active. The one
/// definition: rotation, ValidateToken, ListSessions and revoking all sessions read it.
pub(super) fn live(now: DateTime<Utc>) -> Condition {
    let active_users = Query::select()
        .column(users::Column::Id)
        .from(users::Entity)
        .and_where(users::Column::IsActive.eq(true))
        .to_owned();
    Condition::all()
        .add(Column::RevokedAt.is_null())
        .add(Column::IdleExpiresAt.gt(now))
        .add(Column::SessionEndsAt.gt(now))
        .add(Column::UserId.in_subquery(active_users))
}

/// Every column of a new row and its value. The match is exhaustive, so a column added to the
/// table does not compile until every way of storing a token says what goes in it.
pub(super) fn token_row(
    token: &NewRefreshToken,
    lineage: &Lineage<'_>,
    now: DateTime<Utc>,
) -> Vec<(Column, Expr)> {
    Column::iter()
        .map(|column| {
            let value = match column {
                Column::Id => Expr::value(token.id),
                Column::TokenHash => Expr::value(token.token_hash.as_str()),
                Column::IdleExpiresAt => Expr::value(token.idle_expires_at),
                Column::RevokedAt => Expr::value(Option::<DateTime<Utc>>::None),
                Column::UserAgent => Expr::value(token.client.user_agent.clone()),
                Column::IpAddress => Expr::value(token.client.ip_address.clone()),
                Column::CreatedAt => Expr::value(now),
                Column::UserId
                | Column::TokenFamily
                | Column::SessionStartedAt
                | Column::SessionEndsAt
                | Column::ParentId => session_value(column, lineage),
            };
            (column, value)
        })
        .collect()
}

/// The session columns: the session's own for a first token, copied from the parent for a
/// successor, whose parent is the token it replaces.
fn session_value(column: Column, lineage: &Lineage<'_>) -> Expr {
    match lineage {
        Lineage::Starts(session) => match column {
            Column::UserId => Expr::value(session.user_id),
            Column::TokenFamily => Expr::value(session.id),
            Column::SessionStartedAt => Expr::value(session.started_at),
            Column::SessionEndsAt => Expr::value(session.ends_at),
            _ => Expr::value(Option::<Uuid>::None),
        },
        Lineage::Replaces(parent) => match column {
            Column::UserId => Expr::value(parent.user.id),
            Column::TokenFamily => Expr::value(parent.token_family),
            Column::SessionStartedAt => Expr::value(parent.session_started_at),
            Column::SessionEndsAt => Expr::value(parent.session_ends_at),
            _ => Expr::value(Some(parent.id)),
        },
        Lineage::ReplacesConsumed(cte) => match column {
            Column::ParentId => Expr::col((Alias::new(*cte), Column::Id)),
            column => Expr::col((Alias::new(*cte), column)),
        },
    }
}

/// Stores new rows, one statement for all of them.
pub(super) async fn insert_tokens<C: ConnectionTrait>(
    db: &C,
    rows: impl IntoIterator<Item = Vec<(Column, Expr)>>,
) -> Result<(), AuthError> {
    let mut insert = Query::insert()
        .into_table(refresh_tokens::Entity)
        .columns(Column::iter())
        .to_owned();
    let mut any = false;
    for row in rows {
        let values = row.into_iter().map(|(_, value)| value);
        insert
            .values(values)
            .map_err(|error| AuthError::internal(anyhow::anyhow!(error)))?;
        any = true;
    }
    if any {
        db.execute(&insert).await.map_err(db_error)?;
    }
    Ok(())
}

pub(super) fn stored(token: refresh_tokens::Model, user: User) -> StoredRefreshToken {
    StoredRefreshToken {
        id: token.id,
        user,
        token_family: token.token_family,
        session_started_at: token.session_started_at,
        session_ends_at: token.session_ends_at,
        revoked_at: token.revoked_at,
    }
}

/// The token with this hash that meets `condition`, with its user.
pub(super) async fn find_token(
    conn: &DatabaseConnection,
    hash: &TokenHash,
    condition: Condition,
) -> Result<Option<StoredRefreshToken>, AuthError> {
    let found = refresh_tokens::Entity::find()
        .filter(Column::TokenHash.eq(hash.as_str()))
        .filter(condition)
        .find_also_related(users::Entity)
        .one(conn)
        .await
        .map_err(db_error)?;
    Ok(found.and_then(|(token, user)| Some(stored(token, to_user(user?)))))
}

impl Store {
    pub async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        find_token(&self.conn, hash, Condition::all()).await
    }

    /// The token with this hash, if it is live.
    pub async fn find_live_refresh_token(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefreshToken>, AuthError> {
        find_token(&self.conn, hash, live(now)).await
    }

    /// The tokens issued in place of `parent`: whether each is still unconsumed, by id.
    pub async fn children_of(&self, parent: Uuid) -> Result<Vec<(Uuid, bool)>, AuthError> {
        let children: Vec<(Uuid, Option<DateTime<Utc>>)> = refresh_tokens::Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::RevokedAt)
            .filter(Column::ParentId.eq(parent))
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(children
            .into_iter()
            .map(|(id, revoked_at)| (id, revoked_at.is_none()))
            .collect())
    }

    /// The user's live sessions, newest first: a live session has exactly one live token, its
    /// current one.
    pub async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, AuthError> {
        let current_tokens = refresh_tokens::Entity::find()
            .filter(Column::UserId.eq(user_id))
            .filter(live(now))
            .order_by_desc(Column::SessionStartedAt)
            .all(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(current_tokens
            .into_iter()
            .map(|token| SessionInfo {
                id: token.token_family,
                created_at: token.session_started_at,
                last_refreshed_at: token.created_at,
                expires_at: refresh_token_expiry(token.idle_expires_at, token.session_ends_at),
                ip_address: token.ip_address,
                user_agent: token.user_agent,
            })
            .collect())
    }

    /// Whether this session of this user has a live token.
    pub async fn is_session_live(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let live_token = refresh_tokens::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::TokenFamily.eq(session_id))
            .filter(Column::UserId.eq(user_id))
            .filter(live(now))
            .into_tuple::<Uuid>()
            .one(&self.conn)
            .await
            .map_err(db_error)?;
        Ok(live_token.is_some())
    }
}
