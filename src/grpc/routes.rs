//! Which gRPC services each listener serves and lists. With a separate admin listener,
//! `auth.v1.AdminService` is served and listed only there, so a network policy can keep it private.

use std::sync::Arc;

use tonic::service::Routes;
use tonic_health::pb::health_server::{Health, HealthServer};

use super::{AdminApi, AuthApi, ClientResolver, MAX_REQUEST_BYTES, proto};
use crate::auth::AuthService;

const HEALTH: &str = "grpc.health.v1.Health";

/// The public listener: AuthService, health, reflection; AdminService too unless `with_admin` is
/// false (it then has its own listener).
pub fn public(
    service: Arc<AuthService>,
    clients: ClientResolver,
    health: HealthServer<impl Health>,
    with_admin: bool,
) -> anyhow::Result<Routes> {
    let mut listed = vec![HEALTH, proto::auth_service_server::SERVICE_NAME];
    if with_admin {
        listed.push(proto::admin_service_server::SERVICE_NAME);
    }
    let routes = Routes::new(health)
        .add_service(reflection_builder(&listed).build_v1()?)
        .add_service(reflection_builder(&listed).build_v1alpha()?)
        .add_service(
            proto::auth_service_server::AuthServiceServer::new(AuthApi::new(
                service.clone(),
                clients,
            ))
            .max_decoding_message_size(MAX_REQUEST_BYTES),
        );
    Ok(if with_admin {
        routes.add_service(admin_service(service))
    } else {
        routes
    })
}

/// The admin listener: AdminService, with health and reflection of its own.
pub fn admin(
    service: Arc<AuthService>,
    health: HealthServer<impl Health>,
) -> anyhow::Result<Routes> {
    let listed = [HEALTH, proto::admin_service_server::SERVICE_NAME];
    Ok(Routes::new(health)
        .add_service(reflection_builder(&listed).build_v1()?)
        .add_service(reflection_builder(&listed).build_v1alpha()?)
        .add_service(admin_service(service)))
}

fn admin_service(
    service: Arc<AuthService>,
) -> proto::admin_service_server::AdminServiceServer<AdminApi> {
    proto::admin_service_server::AdminServiceServer::new(AdminApi::new(service))
        .max_decoding_message_size(MAX_REQUEST_BYTES)
}

fn reflection_builder(listed: &[&str]) -> tonic_reflection::server::Builder<'static> {
    listed.iter().fold(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
        |builder, name| builder.with_service_name(*name),
    )
}
