//! Administration: reading and changing other users' accounts. Every action is logged with its
//! actor and target.

use uuid::Uuid;

use super::{AccessClaims, AuthService};
use crate::{
    db::AccountChange,
    domain::{ClientContext, Email, LoginAttempt, LoginFailure, Role, User, UserQuery},
    error::AuthError,
};

/// Who performs an administrative action.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Admin(Uuid),
    /// The `auth-service users ...` command, run by an operator.
    Cli,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Admin(id) => write!(f, "user:{id}"),
            Actor::Cli => f.write_str("cli"),
        }
    }
}

/// How an admin names the user they look up.
#[derive(Debug, Clone)]
pub enum UserKey {
    Id(Uuid),
    Email(Email),
}

impl AuthService {
    /// The caller may administer only while their account is an active admin now, whatever the
    /// token said when it was issued.
    pub async fn authorize_admin(&self, caller: &AccessClaims) -> Result<Actor, AuthError> {
        let account = self
            .store
            .find_credentials(caller.user_id)
            .await?
            .ok_or(AuthError::InvalidAccessToken)?;
        if account.user.role != Role::Admin || !account.user.is_active {
            tracing::warn!(user_id = %caller.user_id, "admin call refused: not an admin");
            return Err(AuthError::AdminRequired);
        }
        Ok(Actor::Admin(account.user.id))
    }

    pub async fn get_user(&self, actor: Actor, key: UserKey) -> Result<User, AuthError> {
        let account = match &key {
            UserKey::Id(id) => self.store.find_credentials(*id).await?,
            UserKey::Email(email) => self.store.find_credentials_by_email(email).await?,
        };
        let user = account.ok_or(AuthError::NotFound)?.user;
        tracing::info!(%actor, target = %user.id, action = "get_user", "admin action");
        Ok(user)
    }

    /// One page, and the id to resume after when there are more.
    pub async fn list_users(
        &self,
        actor: Actor,
        query: UserQuery,
    ) -> Result<(Vec<User>, Option<Uuid>), AuthError> {
        let page_size = query.limit;
        let mut users = self
            .store
            .list_users(&UserQuery {
                limit: page_size + 1,
                ..query
            })
            .await?;
        let more = users.len() as u64 > page_size;
        users.truncate(usize::try_from(page_size).unwrap_or(usize::MAX));
        let next = more.then(|| users.last().map(|user| user.id)).flatten();
        tracing::info!(%actor, action = "list_users", returned = users.len(), "admin action");
        Ok((users, next))
    }

    #[tracing::instrument(skip_all)]
    pub async fn set_role(
        &self,
        actor: Actor,
        user_id: Uuid,
        role: Role,
    ) -> Result<User, AuthError> {
        let user = self
            .store
            .change_account(user_id, AccountChange::Role(role), self.clock.now())
            .await?;
        tracing::info!(%actor, target = %user_id, action = "set_role", role = role.as_str(), "admin action");
        Ok(user)
    }

    /// Deactivation ends every session of the user at once.
    #[tracing::instrument(skip_all)]
    pub async fn set_active(
        &self,
        actor: Actor,
        user_id: Uuid,
        active: bool,
    ) -> Result<(User, u32), AuthError> {
        let now = self.clock.now();
        let user = self
            .store
            .change_account(user_id, AccountChange::Active(active), now)
            .await?;
        let revoked = if active {
            0
        } else {
            self.end_user_sessions(user_id, None, now).await?
        };
        tracing::info!(%actor, target = %user_id, action = "set_active", active, revoked, "admin action");
        Ok((user, revoked))
    }

    #[tracing::instrument(skip_all)]
    pub async fn revoke_user_sessions(
        &self,
        actor: Actor,
        user_id: Uuid,
    ) -> Result<u32, AuthError> {
        self.store
            .find_credentials(user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let revoked = self
            .end_user_sessions(user_id, None, self.clock.now())
            .await?;
        tracing::info!(%actor, target = %user_id, action = "revoke_user_sessions", revoked, "admin action");
        Ok(revoked)
    }

    /// Clears the lockout of the user's email: the lockout reads the unlock as a reset.
    #[tracing::instrument(skip_all)]
    pub async fn unlock_user(&self, actor: Actor, user_id: Uuid) -> Result<(), AuthError> {
        let user = self
            .store
            .find_credentials(user_id)
            .await?
            .ok_or(AuthError::NotFound)?
            .user;
        let unlock = LoginAttempt {
            user_id: Some(user.id),
            email: user.email,
            client: ClientContext::default(),
            outcome: Err(LoginFailure::AdminUnlock),
        };
        self.store
            .record_login_attempt(&unlock, self.clock.now())
            .await?;
        tracing::info!(%actor, target = %user_id, action = "unlock_user", "admin action");
        Ok(())
    }
}
