use auth_service::grpc::proto::{RegisterRequest, Role};
use tonic::Code;

use crate::helpers::{Backend, PASSWORD, TestApp, assert_code, join_all};

fn request(email: &str, password: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: password.into(),
        ..Default::default()
    }
}

async fn register_returns_a_normalised_active_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = RegisterRequest {
        email: "  Ada@Example.COM ".into(),
        password: PASSWORD.into(),
        username: "Ada_L".into(),
        full_name: "Ada Lovelace".into(),
    };
    let user = app
        .client
        .clone()
        .register(request)
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.username, "ada_l");
    assert_eq!(user.full_name, "Ada Lovelace");
    assert_eq!(user.role(), Role::User);
    assert!(user.is_active);
    assert!(uuid::Uuid::parse_str(&user.id).is_ok());
    assert_eq!(user.created_at, user.updated_at);
    app.finish().await;
}

async fn duplicate_email_is_already_exists_whatever_its_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let status = assert_code(
        app.client
            .clone()
            .register(request("ADA@example.com", PASSWORD))
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("email"));
    app.finish().await;
}

async fn duplicate_username_is_already_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let with_name = |email: &str| RegisterRequest {
        username: "ada".into(),
        ..request(email, PASSWORD)
    };
    app.client
        .clone()
        .register(with_name("a@example.com"))
        .await
        .unwrap();
    let status = assert_code(
        app.client
            .clone()
            .register(with_name("b@example.com"))
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("username"));
    app.finish().await;
}

async fn racing_registrations_of_one_email_create_exactly_one_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let calls = (0..10).map(|_| {
        let mut client = app.client.clone();
        async move { client.register(request("race@example.com", PASSWORD)).await }
    });
    let results = join_all(calls).await;
    let created = results.iter().filter(|result| result.is_ok()).count();
    let codes: Vec<Code> = results
        .iter()
        .filter_map(|result| result.as_ref().err().map(tonic::Status::code))
        .collect();
    assert_eq!(created, 1, "codes: {codes:?}");
    assert!(
        codes.iter().all(|code| *code == Code::AlreadyExists),
        "codes: {codes:?}"
    );
    app.finish().await;
}

async fn bad_input_is_invalid_argument_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (request("not-an-email", PASSWORD), "email"),
        (request("", PASSWORD), "email"),
        (request("ada@example.com", "short"), "password"),
        (request("ada@example.com", &"p".repeat(129)), "password"),
        (
            RegisterRequest {
                username: "a b".into(),
                ..request("ada@example.com", PASSWORD)
            },
            "username",
        ),
        (
            RegisterRequest {
                full_name: "x".repeat(201),
                ..request("ada@example.com", PASSWORD)
            },
            "full_name",
        ),
    ];
    for (request, field) in cases {
        let status = assert_code(
            app.client.clone().register(request).await,
            Code::InvalidArgument,
        );
        assert!(
            status.message().starts_with(field),
            "{field}: {}",
            status.message()
        );
    }
    app.finish().await;
}

async fn password_length_counts_characters_and_the_minimum_is_configurable(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--password-min-length", "12"]).await;
    let eleven = "ñ".repeat(11);
    assert_code(
        app.client
            .clone()
            .register(request("a@example.com", &eleven))
            .await,
        Code::InvalidArgument,
    );
    let twelve = "ñ".repeat(12);
    app.client
        .clone()
        .register(request("a@example.com", &twelve))
        .await
        .unwrap();
    let longest = "€".repeat(128);
    app.client
        .clone()
        .register(request("b@example.com", &longest))
        .await
        .unwrap();
    app.finish().await;
}

async fn password_is_used_exactly_as_given(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.client
        .clone()
        .register(request("ada@example.com", " Pass Word 1 "))
        .await
        .unwrap();
    assert!(app.login("ada@example.com", " Pass Word 1 ").await.is_ok());
    for variant in [
        "Pass Word 1",
        " pass word 1 ",
        " PASS WORD 1 ",
        " Pass Word 1",
    ] {
        assert_code(
            app.login("ada@example.com", variant).await,
            Code::Unauthenticated,
        );
    }
    app.finish().await;
}

async fn a_request_over_64_kib_is_refused_by_the_transport(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = RegisterRequest {
        full_name: "x".repeat(70 * 1024),
        ..request("ada@example.com", PASSWORD)
    };
    let status = app.client.clone().register(huge).await.unwrap_err();
    assert_ne!(
        status.code(),
        Code::InvalidArgument,
        "refused by the transport, not the handler"
    );
    assert_ne!(status.code(), Code::Ok);
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::Unauthenticated,
    );
    app.finish().await;
}

crate::on_every_database!(
    register_returns_a_normalised_active_user,
    duplicate_email_is_already_exists_whatever_its_case,
    duplicate_username_is_already_exists,
    racing_registrations_of_one_email_create_exactly_one_user,
    bad_input_is_invalid_argument_naming_the_field,
    password_length_counts_characters_and_the_minimum_is_configurable,
    password_is_used_exactly_as_given,
    a_request_over_64_kib_is_refused_by_the_transport,
);

async fn common_passwords_and_ones_built_on_the_users_names_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (request("ada@example.com", "Password123"), "most common"),
        (
            request("lovelace@example.com", "lovelace is great"),
            "email",
        ),
        (
            RegisterRequest {
                username: "countess".into(),
                ..request("ada@example.com", "the countess of code")
            },
            "username",
        ),
    ];
    for (request, reason) in cases {
        let status = assert_code(
            app.client.clone().register(request).await,
            Code::InvalidArgument,
        );
        assert!(
            status.message().starts_with("password: "),
            "{}",
            status.message()
        );
        assert!(
            status.message().contains(reason),
            "{reason}: {}",
            status.message()
        );
    }
    app.finish().await;
}

crate::on_every_database!(common_passwords_and_ones_built_on_the_users_names_are_refused);
