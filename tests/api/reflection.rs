use tonic_reflection::pb::{v1, v1alpha};

use crate::helpers::{Backend, TestApp};

const EXPECTED: [&str; 2] = ["auth.v1.AuthService", "grpc.health.v1.Health"];

async fn reflection_v1_lists_the_services(backend: Backend) {
    use v1::server_reflection_response::MessageResponse;
    use v1::{
        server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    };
    let app = TestApp::spawn(backend).await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a service list");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    for expected in EXPECTED {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} missing from {names:?}"
        );
    }
    app.finish().await;
}

async fn reflection_v1alpha_lists_the_services_for_older_grpcurl(backend: Backend) {
    use v1alpha::server_reflection_response::MessageResponse;
    use v1alpha::{
        server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    };
    let app = TestApp::spawn(backend).await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a service list");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    for expected in EXPECTED {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} missing from {names:?}"
        );
    }
    app.finish().await;
}

crate::on_every_database!(
    reflection_v1_lists_the_services,
    reflection_v1alpha_lists_the_services_for_older_grpcurl
);
