use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{auth_api::observe, caller, convert, proto};
use crate::{
    auth::{Actor, AuthService},
    error::AuthError,
};

/// Implements the generated `auth.v1.AdminService`: authorise, convert, call the domain, convert back.
pub struct AdminApi {
    service: Arc<AuthService>,
}

impl AdminApi {
    pub fn new(service: Arc<AuthService>) -> Self {
        Self { service }
    }

    /// The bearer token's user, if they are an active admin now.
    async fn admin<T>(&self, request: &Request<T>) -> Result<Actor, AuthError> {
        let caller = caller::authenticate(&self.service, request).await?;
        self.service.authorize_admin(&caller).await
    }
}

#[tonic::async_trait]
impl proto::admin_service_server::AdminService for AdminApi {
    async fn get_user(
        &self,
        request: Request<proto::GetUserRequest>,
    ) -> Result<Response<proto::GetUserResponse>, Status> {
        observe("GetUser", async {
            let actor = self.admin(&request).await?;
            let key = convert::user_key(request.into_inner())?;
            let user = self.service.get_user(actor, key).await?;
            Ok(proto::GetUserResponse {
                user: Some(convert::user(&user)),
            })
        })
        .await
    }

    async fn list_users(
        &self,
        request: Request<proto::ListUsersRequest>,
    ) -> Result<Response<proto::ListUsersResponse>, Status> {
        observe("ListUsers", async {
            let actor = self.admin(&request).await?;
            let query = convert::user_query(request.into_inner())?;
            let (users, next) = self.service.list_users(actor, query).await?;
            Ok(proto::ListUsersResponse {
                users: users.iter().map(convert::user).collect(),
                next_page_token: next.map(convert::page_token).unwrap_or_default(),
            })
        })
        .await
    }

    async fn set_user_role(
        &self,
        request: Request<proto::SetUserRoleRequest>,
    ) -> Result<Response<proto::SetUserRoleResponse>, Status> {
        observe("SetUserRole", async {
            let actor = self.admin(&request).await?;
            let proto::SetUserRoleRequest { user_id, role } = request.into_inner();
            let role = convert::required_role(role)?;
            let user = self
                .service
                .set_role(actor, convert::uuid("user_id", &user_id)?, role)
                .await?;
            Ok(proto::SetUserRoleResponse {
                user: Some(convert::user(&user)),
            })
        })
        .await
    }

    async fn set_user_active(
        &self,
        request: Request<proto::SetUserActiveRequest>,
    ) -> Result<Response<proto::SetUserActiveResponse>, Status> {
        observe("SetUserActive", async {
            let actor = self.admin(&request).await?;
            let proto::SetUserActiveRequest { user_id, is_active } = request.into_inner();
            let user_id = convert::uuid("user_id", &user_id)?;
            let (user, revoked_sessions) =
                self.service.set_active(actor, user_id, is_active).await?;
            Ok(proto::SetUserActiveResponse {
                user: Some(convert::user(&user)),
                revoked_sessions,
            })
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        request: Request<proto::RevokeUserSessionsRequest>,
    ) -> Result<Response<proto::RevokeUserSessionsResponse>, Status> {
        observe("RevokeUserSessions", async {
            let actor = self.admin(&request).await?;
            let proto::RevokeUserSessionsRequest { user_id } = request.into_inner();
            let revoked_sessions = self
                .service
                .revoke_user_sessions(actor, convert::uuid("user_id", &user_id)?)
                .await?;
            Ok(proto::RevokeUserSessionsResponse { revoked_sessions })
        })
        .await
    }

    async fn unlock_user(
        &self,
        request: Request<proto::UnlockUserRequest>,
    ) -> Result<Response<proto::UnlockUserResponse>, Status> {
        observe("UnlockUser", async {
            let actor = self.admin(&request).await?;
            let proto::UnlockUserRequest { user_id } = request.into_inner();
            self.service
                .unlock_user(actor, convert::uuid("user_id", &user_id)?)
                .await?;
            Ok(proto::UnlockUserResponse {})
        })
        .await
    }
}
