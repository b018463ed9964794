use std::{future::Future, sync::Arc, time::Instant};

use tonic::{Request, Response, Status};

use super::{client_info, convert, proto};
use crate::{
    auth::{AuthService, RefreshInput, RevokeInput},
    error::AuthError,
};

/// Implements the generated `auth.v1.AuthService`: convert, call the domain, convert back.
pub struct AuthApi {
    service: Arc<AuthService>,
}

impl AuthApi {
    pub fn new(service: Arc<AuthService>) -> Self {
        Self { service }
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
            let fallback = client_info::from_transport(&request);
            let input = convert::login_input(request.into_inner(), fallback)?;
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
            let fallback = client_info::from_transport(&request);
            let proto::RefreshRequest {
                refresh_token,
                client,
            } = request.into_inner();
            let client = client_info::resolve(client, fallback);
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
        observe("ValidateToken", async {
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
                jwks_json: self.service.jwks_json().to_owned(),
            })
        })
        .await
    }
}

/// Runs one call and logs one line for it: method, gRPC code, latency.
async fn observe<T>(
    method: &'static str,
    call: impl Future<Output = Result<T, AuthError>>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let result = call.await.map(Response::new).map_err(Status::from);
    let code = result
        .as_ref()
        .map_or_else(Status::code, |_| tonic::Code::Ok);
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(method, code = ?code, latency_ms = format!("{latency_ms:.2}"), "rpc");
    result
}
