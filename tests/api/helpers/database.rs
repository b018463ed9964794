//! The databases tests run on: a temp SQLite file always; PostgreSQL and MariaDB when configured.

use std::future::Future;

use sea_orm::{ConnectionTrait, Database};

/// Which database a test runs on. PostgreSQL and MariaDB run only when their admin URL is set.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    fn admin_url(self) -> Option<String> {
        let variable = match self {
            Backend::Sqlite => return None,
            Backend::Postgres => "AUTH_TEST_POSTGRES_URL",
            Backend::MySql => "AUTH_TEST_MYSQL_URL",
        };
        std::env::var(variable).ok().filter(|url| !url.is_empty())
    }

    pub fn is_available(self) -> bool {
        matches!(self, Backend::Sqlite) || self.admin_url().is_some()
    }
}

/// A database made for one test and dropped after it.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let name = format!("auth_test_{}", uuid::Uuid::new_v4().simple());
        match backend.admin_url() {
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display());
                Self {
                    url,
                    backend,
                    name,
                    _dir: Some(dir),
                }
            }
            Some(admin) => {
                let admin_conn = Database::connect(&admin).await.unwrap();
                admin_conn
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin_conn.close().await.unwrap();
                let url = replace_database(&admin, &name);
                Self {
                    url,
                    backend,
                    name,
                    _dir: None,
                }
            }
        }
    }

    pub async fn drop_database(self) {
        if let Some(admin) = self.backend.admin_url() {
            let admin_conn = Database::connect(&admin).await.unwrap();
            let force = if matches!(self.backend, Backend::Postgres) {
                " WITH (FORCE)"
            } else {
                ""
            };
            admin_conn
                .execute_unprepared(&format!("DROP DATABASE {}{force}", self.name))
                .await
                .unwrap();
            admin_conn.close().await.unwrap();
        }
    }
}

/// The same server URL with another database name (and any query string kept).
pub fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut replaced = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

/// The same URL pointing at another `host:port`; also returns the `host:port` it had.
pub fn replace_authority(url: &str, authority: &str) -> (String, String) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let start = url[start..].find('@').map_or(start, |i| start + i + 1);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let previous = url[start..end].to_owned();
    let default_port = if url.starts_with("mysql") { 3306 } else { 5432 };
    let previous = if previous.contains(':') {
        previous
    } else {
        format!("{previous}:{default_port}")
    };
    (
        format!("{}{authority}{}", &url[..start], &url[end..]),
        previous,
    )
}

/// Runs `test` on one backend, or notes that the backend is not configured.
pub async fn on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: Future<Output = ()>,
{
    if backend.is_available() {
        test(backend).await;
    } else {
        eprintln!(
            "skipped on {backend:?}: set AUTH_TEST_POSTGRES_URL / AUTH_TEST_MYSQL_URL to run it"
        );
    }
}

/// Declares each listed `async fn name(backend: Backend)` as three tests: `name::sqlite`,
/// `name::postgres` and `name::mysql`, each on a fresh database of that kind.
#[macro_export]
macro_rules! on_every_database {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::helpers::{on, Backend};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                on(Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                on(Backend::Postgres, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                on(Backend::MySql, super::$name).await;
            }
        }
    )*};
}
