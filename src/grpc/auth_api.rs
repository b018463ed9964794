use std::{future::Future, sync::Arc, time::Instant};

use tonic::{Request, Response, Status};

use super::{caller, client_info::ClientResolver, convert, proto};
use crate::{
    auth::{AuthService, ChangePasswordInput, RefreshInput, RevokeInput},
    domain::LoginPassword,
    error::AuthError,
};

/// Implements the generated `auth.v1.AuthService`: convert, call the domain, convert back.
pub struct AuthApi {
    service: Arc<AuthService>,
    clients: ClientResolver,
}

impl AuthApi {
    pub fn new(service: Arc<AuthService>, clients: ClientResolver) -> Self {
        Self { service, clients }
    }
}

#[tonic::async_trait]
impl proto::auth_service_server::AuthService for AuthApi {
    async fn register(
        &self,
        request: Request<proto::RegisterRequest>,
    ) -> Result<Response<proto::RegisterResponse>, Status> {
        observe("Register", async {
            let user = self
                .service
                .register(convert::register_input(request.into_inner())?)
                .await?;
            Ok(proto::RegisterResponse {
                user: Some(convert::user(&user)),
            })
        })
        .await
    }

    async fn login(
        &self,
        request: Request<proto::LoginRequest>,
    ) -> Result<Response<proto::LoginResponse>, Status> {
        observe("Login", async {
            let transport = self.clients.transport(&request);
            let input = convert::login_input(request.into_inner(), transport)?;
            let (user, tokens) = self.service.login(input).await?;
            Ok(proto::LoginResponse {
                user: Some(convert::user(&user)),
                tokens: Some(convert::token_pair(tokens)),
            })
        })
        .await
    }

    async fn refresh(
        &self,
        request: Request<proto::RefreshRequest>,
    ) -> Result<Response<proto::RefreshResponse>, Status> {
        observe("Refresh", async {
            let transport = self.clients.transport(&request);
            let proto::RefreshRequest {
                refresh_token,
                client,
            } = request.into_inner();
            let client = transport.resolve(client);
            let tokens = self
                .service
                .refresh(RefreshInput {
                    refresh_token: refresh_token.into(),
                    client,
                })
                .await?;
            Ok(proto::RefreshResponse {
                tokens: Some(convert::token_pair(tokens)),
            })
        })
        .await
    }

    async fn revoke(
        &self,
        request: Request<proto::RevokeRequest>,
    ) -> Result<Response<proto::RevokeResponse>, Status> {
        observe("Revoke", async {
            let proto::RevokeRequest {
                refresh_token,
                all_sessions,
            } = request.into_inner();
            let revoked_sessions = self
                .service
                .revoke(RevokeInput {
                    refresh_token: refresh_token.into(),
                    all_sessions,
                })
                .await?;
            Ok(proto::RevokeResponse { revoked_sessions })
        })
        .await
    }

    async fn validate_token(
        &self,
        request: Request<proto::ValidateTokenRequest>,
    ) -> Result<Response<proto::ValidateTokenResponse>, Status> {
        observe_refusals("ValidateToken", async {
            let proto::ValidateTokenRequest { access_token } = request.into_inner();
            let claims = self.service.validate(&access_token).await?;
            Ok(convert::validate_response(claims))
        })
        .await
    }

    async fn get_jwks(
        &self,
        request: Request<proto::GetJwksRequest>,
    ) -> Result<Response<proto::GetJwksResponse>, Status> {
        observe("GetJwks", async {
            let proto::GetJwksRequest {} = request.into_inner();
            Ok(proto::GetJwksResponse {
                jwks_json: self.service.jwks_json(),
            })
        })
        .await
    }

    async fn get_me(
        &self,
        request: Request<proto::GetMeRequest>,
    ) -> Result<Response<proto::GetMeResponse>, Status> {
        observe("GetMe", async {
            let caller = caller::authenticate(&self.service, &request).await?;
            let proto::GetMeRequest {} = request.into_inner();
            let user = self.service.get_me(&caller).await?;
            Ok(proto::GetMeResponse {
                user: Some(convert::user(&user)),
            })
        })
        .await
    }

    async fn list_sessions(
        &self,
        request: Request<proto::ListSessionsRequest>,
    ) -> Result<Response<proto::ListSessionsResponse>, Status> {
        observe("ListSessions", async {
            let caller = caller::authenticate(&self.service, &request).await?;
            let proto::ListSessionsRequest {} = request.into_inner();
            let sessions = self.service.list_sessions(&caller).await?;
            let sessions = sessions
                .iter()
                .map(|session| convert::session(session, caller.session_id))
                .collect();
            Ok(proto::ListSessionsResponse { sessions })
        })
        .await
    }

    async fn revoke_session(
        &self,
        request: Request<proto::RevokeSessionRequest>,
    ) -> Result<Response<proto::RevokeSessionResponse>, Status> {
        observe("RevokeSession", async {
            let caller = caller::authenticate(&self.service, &request).await?;
            let proto::RevokeSessionRequest { session_id } = request.into_inner();
            self.service
                .revoke_session(&caller, convert::uuid("session_id", &session_id)?)
                .await?;
            Ok(proto::RevokeSessionResponse {})
        })
        .await
    }

    async fn change_password(
        &self,
        request: Request<proto::ChangePasswordRequest>,
    ) -> Result<Response<proto::ChangePasswordResponse>, Status> {
        observe("ChangePassword", async {
            let caller = caller::authenticate(&self.service, &request).await?;
            let client = self.clients.transport(&request).resolve(None);
            let proto::ChangePasswordRequest {
                current_password,
                new_password,
            } = request.into_inner();
            let input = ChangePasswordInput {
                current_password: LoginPassword::parse_field(
                    "current_password",
                    current_password.into(),
                )?,
                new_password: new_password.into(),
                client,
            };
            let revoked_sessions = self.service.change_password(&caller, input).await?;
            Ok(proto::ChangePasswordResponse { revoked_sessions })
        })
        .await
    }
}

/// Runs one call and logs one line for it: method, gRPC code, latency.
pub(super) async fn observe<T>(
    method: &'static str,
    call: impl Future<Output = Result<T, AuthError>>,
) -> Result<Response<T>, Status> {
    observe_at(method, call, false).await
}

/// As [`observe`], but a call that succeeds logs at debug. ValidateToken comes with every request
/// of every consuming service: at info its OK lines would be most of the log, and writing them
/// cost about a tenth of the call (docs/PERFORMANCE.md). Its refusals still log at info.
async fn observe_refusals<T>(
    method: &'static str,
    call: impl Future<Output = Result<T, AuthError>>,
) -> Result<Response<T>, Status> {
    observe_at(method, call, true).await
}

async fn observe_at<T>(
    method: &'static str,
    call: impl Future<Output = Result<T, AuthError>>,
    quiet_when_ok: bool,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let result = call.await.map(Response::new).map_err(Status::from);
    let code = result
        .as_ref()
        .map_or_else(Status::code, |_| tonic::Code::Ok);
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The macros take a constant level; a disabled one formats nothing.
    if quiet_when_ok && code == tonic::Code::Ok {
        tracing::debug!(method, code = ?code, latency_ms = format!("{latency_ms:.2}"), "rpc");
    } else {
        tracing::info!(method, code = ?code, latency_ms = format!("{latency_ms:.2}"), "rpc");
    }
    result
}
