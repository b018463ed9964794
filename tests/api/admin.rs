use auth_service::grpc::proto::{
    GetUserRequest, ListUsersRequest, RevokeUserSessionsRequest, Role, SetUserActiveRequest,
    SetUserRoleRequest, TokenPair, UnlockUserRequest, admin_service_client::AdminServiceClient,
};
use sea_orm::{ConnectionTrait, Statement};
use tonic::{Code, transport::Channel};

use crate::helpers::{Backend, PASSWORD, TestApp, as_user, assert_code, join_all};

fn admin_client(app: &TestApp) -> AdminServiceClient<Channel> {
    AdminServiceClient::new(app.channel.clone())
}

/// Registers `email`, makes it an admin as an operator would with SQL, and logs in.
async fn admin_session(app: &TestApp, email: &str) -> (String, TokenPair) {
    let user = app.register(email).await;
    let sql = format!("UPDATE users SET role = 'admin' WHERE email = '{email}'");
    app.db.execute_unprepared(&sql).await.unwrap();
    (
        user.id,
        app.login(email, PASSWORD).await.unwrap().tokens.unwrap(),
    )
}

async fn user_id(app: &TestApp, email: &str) -> String {
    app.login(email, PASSWORD).await.unwrap().user.unwrap().id
}

async fn active_admins(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND is_active = ".to_owned()
        + if matches!(app.db.get_database_backend(), sea_orm::DbBackend::Postgres) {
            "true"
        } else {
            "1"
        };
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

fn set_role(user_id: &str, role: Role) -> SetUserRoleRequest {
    SetUserRoleRequest {
        user_id: user_id.into(),
        role: role.into(),
    }
}

async fn admin_calls_need_a_caller_who_is_an_active_admin_now(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = admin_session(&app, "root@example.com").await;
    let user = app.session("ada@example.com").await;
    let get = || GetUserRequest {
        email: "ada@example.com".into(),
        ..Default::default()
    };
    assert_code(
        admin_client(&app).get_user(get()).await,
        Code::Unauthenticated,
    );
    assert_code(
        admin_client(&app)
            .get_user(as_user(get(), &user.access_token))
            .await,
        Code::PermissionDenied,
    );
    assert!(
        admin_client(&app)
            .get_user(as_user(get(), &admin.access_token))
            .await
            .is_ok()
    );
    // Demoted behind the token's back: the token still says admin, the account no longer does.
    app.db
        .execute_unprepared("UPDATE users SET role = 'user' WHERE email = 'root@example.com'")
        .await
        .unwrap();
    assert_code(
        admin_client(&app)
            .get_user(as_user(get(), &admin.access_token))
            .await,
        Code::PermissionDenied,
    );
    app.finish().await;
}

async fn get_user_finds_by_id_or_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = admin_session(&app, "root@example.com").await;
    let ada = app.register("ada@example.com").await;
    let by_id = GetUserRequest {
        user_id: ada.id.clone(),
        ..Default::default()
    };
    assert_eq!(
        admin_client(&app)
            .get_user(as_user(by_id, &admin.access_token))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap(),
        ada
    );
    let by_email = GetUserRequest {
        email: "ADA@example.com".into(),
        ..Default::default()
    };
    assert_eq!(
        admin_client(&app)
            .get_user(as_user(by_email, &admin.access_token))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
            .id,
        ada.id
    );
    let unknown = GetUserRequest {
        user_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    assert_code(
        admin_client(&app)
            .get_user(as_user(unknown, &admin.access_token))
            .await,
        Code::NotFound,
    );
    let both = GetUserRequest {
        user_id: ada.id,
        email: "ada@example.com".into(),
    };
    assert_code(
        admin_client(&app)
            .get_user(as_user(both, &admin.access_token))
            .await,
        Code::InvalidArgument,
    );
    app.finish().await;
}

async fn list_users_pages_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = admin_session(&app, "root@example.com").await;
    for name in ["a1", "a2", "a3", "a_4", "b1"] {
        app.register(&format!("{name}@example.com")).await;
    }
    app.deactivate("a2@example.com").await;
    let list = |request: ListUsersRequest| {
        let mut client = admin_client(&app);
        let request = as_user(request, &admin.access_token);
        async move {
            client
                .list_users(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = list(ListUsersRequest {
            page_size: 2,
            page_token: page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        assert!(page.users.len() <= 2);
        seen.extend(page.users.into_iter().map(|user| user.email));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(
        seen,
        ["root", "a1", "a2", "a3", "a_4", "b1"].map(|name| format!("{name}@example.com"))
    );

    let emails = |users: Vec<auth_service::grpc::proto::User>| {
        users.into_iter().map(|user| user.email).collect::<Vec<_>>()
    };
    let prefixed = list(ListUsersRequest {
        email_prefix: "A_".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        emails(prefixed.users),
        ["a_4@example.com"],
        "'_' matches itself only"
    );
    let admins = list(ListUsersRequest {
        role: Role::Admin.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(emails(admins.users), ["root@example.com"]);
    let inactive = list(ListUsersRequest {
        is_active: Some(false),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(emails(inactive.users), ["a2@example.com"]);
    assert_code(
        list(ListUsersRequest {
            page_size: 501,
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    assert_code(
        list(ListUsersRequest {
            page_token: "bogus".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    app.finish().await;
}

async fn the_last_active_admin_cannot_be_demoted_or_deactivated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (root_id, root) = admin_session(&app, "root@example.com").await;
    let ada = app.register("ada@example.com").await;
    let mut client = admin_client(&app);
    let promoted = client
        .set_user_role(as_user(set_role(&ada.id, Role::Admin), &root.access_token))
        .await
        .unwrap();
    assert_eq!(promoted.into_inner().user.unwrap().role(), Role::Admin);
    client
        .set_user_role(as_user(set_role(&ada.id, Role::User), &root.access_token))
        .await
        .unwrap();
    assert_code(
        client
            .set_user_role(as_user(set_role(&root_id, Role::User), &root.access_token))
            .await,
        Code::FailedPrecondition,
    );
    let deactivate = SetUserActiveRequest {
        user_id: root_id,
        is_active: false,
    };
    assert_code(
        client
            .set_user_active(as_user(deactivate, &root.access_token))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(active_admins(&app).await, 1);
    app.finish().await;
}

async fn two_admins_demoting_each_other_at_once_leave_one_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a_id, a) = admin_session(&app, "a@example.com").await;
    let (b_id, b) = admin_session(&app, "b@example.com").await;
    let calls = [(a, b_id), (b, a_id)].map(|(actor, target)| {
        let mut client = admin_client(&app);
        async move {
            client
                .set_user_role(as_user(set_role(&target, Role::User), &actor.access_token))
                .await
        }
    });
    let results = join_all(calls).await;
    let succeeded = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(succeeded, 1, "{results:?}");
    let refused = results
        .iter()
        .find_map(|result| result.as_ref().err())
        .unwrap();
    assert!(
        matches!(
            refused.code(),
            Code::FailedPrecondition | Code::PermissionDenied
        ),
        "{refused:?}"
    );
    assert_eq!(active_admins(&app).await, 1);
    app.finish().await;
}

async fn deactivation_ends_every_session_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, root) = admin_session(&app, "root@example.com").await;
    let sessions = [
        app.session("ada@example.com").await,
        app.session("ada@example.com").await,
    ];
    let ada_id = user_id(&app, "ada@example.com").await;
    for session in &sessions {
        assert!(
            app.validate(&session.access_token).await.is_ok(),
            "seen live, so cached"
        );
    }
    let mut client = admin_client(&app);
    let deactivate = SetUserActiveRequest {
        user_id: ada_id.clone(),
        is_active: false,
    };
    let response = client
        .set_user_active(as_user(deactivate, &root.access_token))
        .await
        .unwrap()
        .into_inner();
    assert!(!response.user.unwrap().is_active);
    assert_eq!(
        response.revoked_sessions, 3,
        "two sessions and the one user_id() opened"
    );
    for session in &sessions {
        assert_code(
            app.validate(&session.access_token).await,
            Code::Unauthenticated,
        );
        assert_code(
            app.refresh(&session.refresh_token).await,
            Code::Unauthenticated,
        );
    }
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::PermissionDenied,
    );
    let reactivate = SetUserActiveRequest {
        user_id: ada_id,
        is_active: true,
    };
    client
        .set_user_active(as_user(reactivate, &root.access_token))
        .await
        .unwrap();
    assert!(app.login("ada@example.com", PASSWORD).await.is_ok());
    app.finish().await;
}

async fn revoke_user_sessions_ends_them_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, root) = admin_session(&app, "root@example.com").await;
    let session = app.session("ada@example.com").await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let request = as_user(
        RevokeUserSessionsRequest { user_id: ada_id },
        &root.access_token,
    );
    assert_eq!(
        admin_client(&app)
            .revoke_user_sessions(request)
            .await
            .unwrap()
            .into_inner()
            .revoked_sessions,
        2
    );
    assert_code(
        app.validate(&session.access_token).await,
        Code::Unauthenticated,
    );
    assert!(
        app.login("ada@example.com", PASSWORD).await.is_ok(),
        "the account itself stays usable"
    );
    let unknown = as_user(
        RevokeUserSessionsRequest {
            user_id: uuid::Uuid::new_v4().to_string(),
        },
        &root.access_token,
    );
    assert_code(
        admin_client(&app).revoke_user_sessions(unknown).await,
        Code::NotFound,
    );
    app.finish().await;
}

async fn unlock_user_clears_the_lockout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, root) = admin_session(&app, "root@example.com").await;
    let ada = app.register("ada@example.com").await;
    for _ in 0..5 {
        app.login("ada@example.com", "wrong password")
            .await
            .unwrap_err();
    }
    assert_code(
        app.login("ada@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    admin_client(&app)
        .unlock_user(as_user(
            UnlockUserRequest { user_id: ada.id },
            &root.access_token,
        ))
        .await
        .unwrap();
    assert!(app.login("ada@example.com", PASSWORD).await.is_ok());
    app.finish().await;
}

async fn the_first_admin_is_bootstrapped_from_the_command_line(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.cli(
        &["users", "create-admin", "--email", "Root@Example.com"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let root = app.login("root@example.com", PASSWORD).await.unwrap();
    assert_eq!(root.user.unwrap().role(), Role::Admin);
    let root = root.tokens.unwrap();
    let get = GetUserRequest {
        email: "root@example.com".into(),
        ..Default::default()
    };
    assert!(
        admin_client(&app)
            .get_user(as_user(get, &root.access_token))
            .await
            .is_ok()
    );

    let again = app.cli(
        &["users", "create-admin", "--email", "root@example.com"],
        PASSWORD,
    );
    assert!(!again.status.success(), "a duplicate admin is refused");
    app.register("ada@example.com").await;
    let promoted = app.cli(
        &[
            "users",
            "set-role",
            "--email",
            "ada@example.com",
            "--role",
            "admin",
        ],
        "",
    );
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    assert_eq!(
        app.login("ada@example.com", PASSWORD)
            .await
            .unwrap()
            .user
            .unwrap()
            .role(),
        Role::Admin
    );
    app.cli(
        &[
            "users",
            "set-role",
            "--email",
            "root@example.com",
            "--role",
            "user",
        ],
        "",
    );
    let last = app.cli(
        &[
            "users",
            "set-role",
            "--email",
            "ada@example.com",
            "--role",
            "user",
        ],
        "",
    );
    assert!(!last.status.success(), "the last admin stays");
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active admin"));
    app.finish().await;
}

crate::on_every_database!(
    admin_calls_need_a_caller_who_is_an_active_admin_now,
    get_user_finds_by_id_or_email,
    list_users_pages_and_filters,
    the_last_active_admin_cannot_be_demoted_or_deactivated,
    two_admins_demoting_each_other_at_once_leave_one_admin,
    deactivation_ends_every_session_at_once,
    revoke_user_sessions_ends_them_all,
    unlock_user_clears_the_lockout,
    the_first_admin_is_bootstrapped_from_the_command_line,
);
