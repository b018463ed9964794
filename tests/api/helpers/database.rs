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
    pub fn admin_url(self) -> Option<String> {
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

/// A database made for one test and dropped after it, even when the test panics.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
    dropped: bool,
    _dir: Option<tempfile::TempDir>,
}

/// Long enough for a server that still holds connections to let go; short enough that a stuck
/// drop cannot hang the suite.
const DROP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

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
                    dropped: false,
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
                    dropped: false,
                    _dir: None,
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn drop_database(mut self) {
        self.dropped = true;
        drop_named(self.backend, &self.name).await.unwrap();
    }
}

async fn drop_named(backend: Backend, name: &str) -> Result<(), sea_orm::DbErr> {
    let Some(admin) = backend.admin_url() else {
        return Ok(());
    };
    let admin_conn = Database::connect(&admin).await?;
    let force = if matches!(backend, Backend::Postgres) {
        " WITH (FORCE)"
    } else {
        ""
    };
    admin_conn
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}"))
        .await?;
    admin_conn.close().await
}

/// A test that panicked never reached `drop_database`: its database is dropped here, on a thread
/// of its own because `Drop` cannot await and may run on the test's runtime.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped || self.backend.admin_url().is_none() {
            return;
        }
        let (backend, name) = (self.backend, self.name.clone());
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                match tokio::time::timeout(DROP_PATIENCE, drop_named(backend, &name)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => eprintln!("test database {name} left behind: {error}"),
                    Err(_) => eprintln!("test database {name} left behind: the drop hung"),
                }
            });
            std::io::Result::Ok(())
        });
        let _ = dropping.join();
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
