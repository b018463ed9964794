use std::time::Duration;

use tonic::Code;

use crate::helpers::{Backend, PASSWORD, TestApp, as_user, assert_code};

const EMAIL: &str = "ada@example.com";

async fn fail(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        assert_code(
            app.login(email, "wrong password").await,
            Code::Unauthenticated,
        );
    }
}

async fn five_failures_lock_the_email_even_against_the_right_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    fail(&app, EMAIL, 4).await;
    fail(&app, EMAIL, 1).await;
    let status = assert_code(app.login(EMAIL, PASSWORD).await, Code::ResourceExhausted);
    let retry_after: u64 = status
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((14 * 60..=15 * 60).contains(&retry_after), "{retry_after}");
    app.finish().await;
}

async fn the_lock_lifts_when_the_window_passes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    fail(&app, EMAIL, 5).await;
    app.clock.advance(Duration::from_secs(14 * 60));
    assert_code(app.login(EMAIL, PASSWORD).await, Code::ResourceExhausted);
    app.clock.advance(Duration::from_secs(61));
    assert!(app.login(EMAIL, PASSWORD).await.is_ok());
    app.finish().await;
}

async fn attempts_while_locked_do_not_extend_the_lock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    fail(&app, EMAIL, 5).await;
    for _ in 0..10 {
        app.clock.advance(Duration::from_secs(60));
        assert_code(
            app.login(EMAIL, "wrong password").await,
            Code::ResourceExhausted,
        );
    }
    app.clock.advance(Duration::from_secs(5 * 60 + 1));
    assert!(app.login(EMAIL, PASSWORD).await.is_ok());
    app.finish().await;
}

async fn a_never_registered_email_locks_exactly_like_a_real_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    fail(&app, "ghost@example.com", 5).await;
    fail(&app, EMAIL, 5).await;
    let ghost = assert_code(
        app.login("ghost@example.com", PASSWORD).await,
        Code::ResourceExhausted,
    );
    let real = assert_code(app.login(EMAIL, PASSWORD).await, Code::ResourceExhausted);
    assert_eq!(ghost.message(), real.message());
    app.finish().await;
}

async fn a_successful_login_resets_the_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    fail(&app, EMAIL, 4).await;
    app.login(EMAIL, PASSWORD).await.unwrap();
    fail(&app, EMAIL, 4).await;
    assert!(app.login(EMAIL, PASSWORD).await.is_ok());
    app.finish().await;
}

async fn the_lockout_is_keyed_on_the_normalised_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    for variant in [
        "ADA@example.com",
        " ada@EXAMPLE.com",
        "Ada@Example.Com",
        "ada@example.com ",
        "ADA@EXAMPLE.COM",
    ] {
        fail(&app, variant, 1).await;
    }
    assert_code(app.login(EMAIL, PASSWORD).await, Code::ResourceExhausted);
    app.finish().await;
}

async fn lockout_settings_are_configurable(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &["--lockout-max-failures", "2", "--lockout-window", "1m"],
    )
    .await;
    app.register(EMAIL).await;
    fail(&app, EMAIL, 2).await;
    assert_code(app.login(EMAIL, PASSWORD).await, Code::ResourceExhausted);
    app.clock.advance(Duration::from_secs(61));
    assert!(app.login(EMAIL, PASSWORD).await.is_ok());
    app.finish().await;
}

crate::on_every_database!(
    five_failures_lock_the_email_even_against_the_right_password,
    the_lock_lifts_when_the_window_passes,
    attempts_while_locked_do_not_extend_the_lock,
    a_never_registered_email_locks_exactly_like_a_real_one,
    a_successful_login_resets_the_count,
    the_lockout_is_keyed_on_the_normalised_email,
    lockout_settings_are_configurable,
);

async fn parallel_wrong_guesses_cannot_slip_past_the_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register(EMAIL).await;
    let guesses = (0..20).map(|i| {
        let mut client = app.client.clone();
        let request = auth_service::grpc::proto::LoginRequest {
            email: EMAIL.into(),
            password: format!("guess number {i}"),
            client: None,
        };
        async move {
            client
                .login(request)
                .await
                .map(|_| ())
                .map_err(|status| status.code())
        }
    });
    let codes: Vec<_> = crate::helpers::join_all(guesses)
        .await
        .into_iter()
        .map(Result::unwrap_err)
        .collect();
    let checked = codes
        .iter()
        .filter(|code| **code == Code::Unauthenticated)
        .count();
    assert!(
        checked == 5,
        "exactly the limit is checked, no more and no fewer; {checked} were: {codes:?}"
    );
    let unexpected: Vec<_> = codes
        .iter()
        .filter(|code| !matches!(code, Code::Unauthenticated | Code::ResourceExhausted))
        .collect();
    assert!(unexpected.is_empty(), "{codes:?}");
    app.finish().await;
}

crate::on_every_database!(parallel_wrong_guesses_cannot_slip_past_the_limit);

/// The lockout and the throttle read indexes of only the attempts they count, flagged by columns
/// the database generates from each attempt's outcome; those must count what the domain counts.
async fn the_database_flags_the_attempts_the_domain_counts(backend: Backend) {
    use auth_service::{db::entities::login_attempts, domain::LoginFailure};
    use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Statement};

    let app = TestApp::spawn(backend).await;
    let failures = [
        LoginFailure::Pending,
        LoginFailure::UnknownEmail,
        LoginFailure::WrongPassword,
        LoginFailure::NoPassword,
        LoginFailure::AccountLocked,
        LoginFailure::SourceThrottled,
        LoginFailure::AccountDisabled,
        LoginFailure::NotChecked,
        LoginFailure::AdminUnlock,
    ];
    let outcomes = std::iter::once(Ok(())).chain(failures.into_iter().map(Err));
    for outcome in outcomes.clone() {
        let attempt = login_attempts::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            user_id: Set(None),
            email: Set(EMAIL.into()),
            ip_address: Set(Some("192.0.2.1".into())),
            user_agent: Set(None),
            success: Set(outcome.is_ok()),
            failure_reason: Set(outcome.err().map(|reason| reason.as_str().to_owned())),
            attempted_at: Set(chrono::Utc::now()),
        };
        login_attempts::Entity::insert(attempt)
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    for outcome in outcomes {
        let reason = outcome.err().map(LoginFailure::as_str).unwrap_or("");
        let query = Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match backend {
                Backend::Postgres => {
                    "SELECT counts_for_lockout, counts_for_throttle FROM login_attempts WHERE COALESCE(failure_reason, '') = $1"
                }
                _ => {
                    "SELECT counts_for_lockout, counts_for_throttle FROM login_attempts WHERE COALESCE(failure_reason, '') = ?"
                }
            },
            [reason.into()],
        );
        let row = app.db.query_one_raw(query).await.unwrap().unwrap();
        let flag = |column: &str| -> bool {
            let value: Option<bool> = row.try_get("", column).unwrap();
            value.unwrap_or(false)
        };
        let counted = outcome.is_err_and(|failure| LoginFailure::COUNTED.contains(&failure));
        let resets = matches!(outcome, Ok(()) | Err(LoginFailure::AdminUnlock));
        assert_eq!(flag("counts_for_lockout"), counted || resets, "{outcome:?}");
        assert_eq!(flag("counts_for_throttle"), counted, "{outcome:?}");
    }
    app.finish().await;
}

crate::on_every_database!(the_database_flags_the_attempts_the_domain_counts);

/// One hashing thread and hashes that outlast every deadline below.
const SLOW_HASHES: &[&str] = &[
    "--lockout-max-failures",
    "3",
    "--hashing-threads",
    "1",
    "--argon2-memory-kib",
    "8192",
    "--argon2-iterations",
    "200",
];

/// A call whose deadline passes after its attempt is on record and before its hash is done.
fn given_up<T>(mut request: tonic::Request<T>) -> tonic::Request<T> {
    request.set_timeout(Duration::from_millis(250));
    request
}

fn assert_given_up<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    let status = result.unwrap_err();
    assert!(
        matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{status:?}"
    );
}

/// Bounded: an attempt still pending after it is left pending for good.
async fn assert_no_attempt_stays_pending(app: &TestApp) {
    use auth_service::db::entities::login_attempts;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let pending = || {
        login_attempts::Entity::find()
            .filter(login_attempts::Column::FailureReason.eq("pending"))
            .count(&app.db)
    };
    for _ in 0..400 {
        if pending().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending().await.unwrap(), 0, "attempts left pending");
}

/// A client whose deadline passes mid-login has its call dropped by tonic; the attempt must still
/// reach its verdict, since pending counts as a failure for the whole window.
async fn logins_the_client_gave_up_on_do_not_lock_the_account(backend: Backend) {
    use auth_service::grpc::proto::LoginRequest;

    let app = TestApp::spawn_with(backend, SLOW_HASHES).await;
    app.register(EMAIL).await;
    for _ in 0..3 {
        let request = LoginRequest {
            email: EMAIL.into(),
            password: PASSWORD.into(),
            client: None,
        };
        let request = given_up(tonic::Request::new(request));
        assert_given_up(app.client.clone().login(request).await);
    }
    assert_no_attempt_stays_pending(&app).await;
    assert!(app.login(EMAIL, PASSWORD).await.is_ok());
    app.finish().await;
}

crate::on_every_database!(logins_the_client_gave_up_on_do_not_lock_the_account);

/// ChangePassword proves the current password through the same guard as a login.
async fn a_password_change_the_client_gave_up_on_still_reaches_its_verdict(backend: Backend) {
    use auth_service::grpc::proto::ChangePasswordRequest;

    let app = TestApp::spawn_with(backend, SLOW_HASHES).await;
    let access_token = app.session(EMAIL).await.access_token;
    let request = ChangePasswordRequest {
        current_password: PASSWORD.into(),
        new_password: "a brand new passphrase".into(),
    };
    let request = given_up(as_user(request, &access_token));
    assert_given_up(app.client.clone().change_password(request).await);
    assert_no_attempt_stays_pending(&app).await;
    app.finish().await;
}

crate::on_every_database!(a_password_change_the_client_gave_up_on_still_reaches_its_verdict);
