//! Test harness: a fresh database per test (SQLite file or PostgreSQL database, chosen by
//! `CIVICPOST_TEST_DATABASE`), and a real server on a free loopback port.
#![allow(dead_code)]

pub mod api;
pub mod couriers;
pub mod process;
pub mod smtp;

use std::net::SocketAddr;

use civicpost::app::Application;
use civicpost::config::Settings;
use diesel::{Connection, PgConnection, RunQueryDsl};

pub fn backend_is_postgres() -> bool {
    std::env::var("CIVICPOST_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

pub fn redis_url() -> String {
    std::env::var("CIVICPOST_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn postgres_admin_url() -> String {
    std::env::var("CIVICPOST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    /// The test's own folder (the SQLite file, the SMS outbox, mailboxes).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL server's admin URL and this database's name.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        if backend_is_postgres() {
            Self::on_postgres(&postgres_admin_url())
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = dir.path().join("civicpost.db").display().to_string();
            Self { url, dir, pg: None }
        }
    }

    /// A database of its own on the PostgreSQL server at `admin` (a URL to a database
    /// there that the test may connect to, such as `postgres`).
    pub fn on_postgres(admin: &str) -> Self {
        let name = format!("cp_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::establish(admin).expect("connect to test PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        Self {
            url: format!("{base}/{name}"),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some((admin.to_owned(), name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = &self.pg else {
            return;
        };
        if let Ok(mut conn) = PgConnection::establish(admin) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Settings for a test: the test's database, a free port, one worker, no quiet hours (a
/// test run at night must not wait for the morning), SMS into the test's own outbox and
/// email kept in memory, plus `extra`.
pub fn settings(db: &TestDb, extra: serde_json::Value) -> Settings {
    let mut base = serde_json::json!({
        "database": { "url": db.url, "pool_size": 4 },
        "http": { "bind": "127.0.0.1:0", "workers": 1, "shutdown_timeout_secs": 1 },
        "notify": {
            "quiet_hours_start": "00:00", "quiet_hours_end": "00:00",
            "sms": { "outbox_dir": db.dir.path().join("sms-outbox") },
            "email": { "transport": "memory" },
        },
    });
    merge(&mut base, extra);
    Settings::with_overrides(base).expect("test settings")
}

fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    match (base, extra) {
        (serde_json::Value::Object(b), serde_json::Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, e) => *b = e,
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub state: civicpost::app::AppState,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(serde_json::json!({})).await
    }

    /// Sandbox mode off (no demo rules, no simulators) and no courier configured.
    pub async fn spawn_without_sandbox() -> Self {
        Self::spawn_with(serde_json::json!({
            "app": {"sandbox": false},
            "couriers": {"viettelpost": {"enabled": false}, "vnpost": {"enabled": false}},
        }))
        .await
    }

    pub async fn spawn_with(extra: serde_json::Value) -> Self {
        Self::spawn_on(TestDb::new(), extra).await
    }

    /// As [`TestApp::spawn_with`], on a database the test made itself.
    pub async fn spawn_on(db: TestDb, extra: serde_json::Value) -> Self {
        let settings = settings(&db, extra);
        let addr = settings.bind_addr().expect("bind addr");
        let app = Application::build(settings, addr)
            .await
            .expect("application starts");
        let addr = app.addr();
        let state = app.state().clone();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            addr,
            base: format!("http://{addr}"),
            client,
            db,
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl TestApp {
    /// Runs a query against the test's database.
    pub async fn query<T: Send + 'static>(
        &self,
        work: impl FnOnce(
            &mut civicpost::store::DbConnection,
        ) -> Result<T, civicpost::store::StoreError>
        + Send
        + 'static,
    ) -> T {
        self.state.db.run(work).await.expect("query")
    }
}
