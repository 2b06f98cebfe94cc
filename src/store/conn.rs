//! Connection type, URL parsing and the pool.
//!
//! diesel's `MultiConnection` gives one connection type for both backends, but its own
//! `establish` tries each backend in turn and hides the real error. We pick the backend from
//! the URL ourselves and report what the driver said.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL: {0}")]
    Url(String),
    #[error("cannot connect to {backend} at {target}: {message}")]
    Connect {
        backend: Backend,
        target: String,
        message: String,
    },
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// A connection refused for now: the server is starting, stopping or not listening yet.
    pub fn is_starting_up(&self) -> bool {
        let StoreError::Connect { message, .. } = self else {
            return false;
        };
        [
            "starting up",
            "shutting down",
            "in recovery",
            "Connection refused",
        ]
        .iter()
        .any(|m| message.contains(m))
    }

    /// The database cannot be reached or cut the connection (a restart, a failover): the
    /// caller may retry shortly; nothing is wrong with the request or the code.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Pool(_) | StoreError::Connect { .. } => true,
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => true,
            // SQLSTATE 57P01-57P03 (shutdown, crash recovery) come as `Unknown` when libpq has
            // not yet seen the socket close.
            StoreError::Query(Error::DatabaseError(_, info)) => {
                let message = info.message();
                message.starts_with("terminating connection")
                    || message.starts_with("the database system is")
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        })
    }
}

/// A parsed `DATABASE_URL`: `postgres://…` / `postgresql://…`, or a SQLite file given as a
/// path, `sqlite://path` or `file:path`.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(StoreError::Url(
                "is empty; use postgres://user@host/db or a SQLite file path".into(),
            ));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                url: raw.to_owned(),
            });
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .or_else(|| raw.strip_prefix("file:"))
            .unwrap_or(raw);
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(StoreError::Url(format!(
                "scheme '{scheme}' is not supported; use postgres://… or a SQLite file path"
            )));
        }
        if path == ":memory:" {
            return Err(StoreError::Url(
                "':memory:' gives every pooled connection its own empty database; use a file path"
                    .into(),
            ));
        }
        Ok(Self {
            backend: Backend::Sqlite,
            url: path.to_owned(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password replaced, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }

    /// As [`DatabaseUrl::establish`], waiting up to `patience` while PostgreSQL is starting,
    /// shutting down or refusing connections: a service started together with its database
    /// (a reboot, a restart of both) waits for it instead of exiting. A wrong address, user
    /// or password fails at once.
    pub fn establish_at_start(&self, patience: Duration) -> Result<DbConnection, StoreError> {
        let start = std::time::Instant::now();
        let mut told = false;
        loop {
            match self.establish() {
                Err(e) if e.is_starting_up() && start.elapsed() < patience => {
                    if !told {
                        tracing::warn!(error = %e, wait_secs = patience.as_secs(), "database not up yet; waiting for it");
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    pub fn establish(&self) -> Result<DbConnection, StoreError> {
        let connect_error = |message: String| StoreError::Connect {
            backend: self.backend,
            target: self.redacted(),
            message,
        };
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConnection::Postgresql)
                .map_err(|e| connect_error(e.to_string().trim().to_owned())),
            Backend::Sqlite => {
                create_parent_dir(Path::new(&self.url))?;
                let mut conn = diesel::SqliteConnection::establish(&self.url)
                    .map_err(|e| connect_error(e.to_string()))?;
                // WAL lets readers work beside the single writer; busy_timeout makes writers
                // queue instead of failing at once; foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(|e| connect_error(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Replaces the password of `scheme://user:password@host/…` with `****`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') || user.is_empty() {
                format!("{user}:****")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

struct Manager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        self.url.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    /// r2d2 asks this as a connection goes back to the pool, on the thread that used it.
    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        DEAD.with(|dead| dead.replace(false))
    }
}

thread_local! {
    /// Set by [`with_pooled`] when the connection it holds turned out to be dead, and read
    /// (and cleared) by [`Manager::has_broken`] when that connection is given back.
    static DEAD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` on a pooled connection. Connections are not tested when lent (that would
/// cost a round trip per use), so when the work fails the connection is tested then: one
/// that a restarted or failed-over server cut is dropped rather than pooled, and the next
/// caller gets a fresh connection instead of the same error.
fn with_pooled<T, E: From<StoreError>>(
    pool: &r2d2::Pool<Manager>,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut conn = pool.get().map_err(StoreError::from)?;
    let result = work(&mut conn);
    if result.is_err() && conn.batch_execute("SELECT 1").is_err() {
        DEAD.with(|dead| dead.set(true));
    }
    drop(conn);
    result
}

/// The pool every part of the service shares. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
    backend: Backend,
    target: String,
}

impl Db {
    /// Connects once directly, so a wrong URL fails with the driver's own words, then builds
    /// the pool.
    pub fn connect(
        url: &DatabaseUrl,
        max_size: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        drop(url.establish()?);
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            // No idle floor: r2d2 would keep one connection open in the background, and a
            // short-lived command (the CLI) could exit while that connect was mid-TLS
            // handshake on a pool thread, as OpenSSL's exit handlers free what it uses: a
            // segfault at exit, about one run in twenty against PostgreSQL. Connections are
            // made when asked for instead, and the caller waits for them.
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .build_unchecked(Manager { url: url.clone() });
        Ok(Self {
            pool,
            url: url.clone(),
            backend: url.backend(),
            target: url.redacted(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the database is, with the password hidden.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs blocking diesel work on tokio's blocking pool so it never stalls the async runtime.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || with_pooled(&pool, work))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// As [`Db::run`], on a connection of its own, closed afterwards. For rare bulk writes:
    /// whatever they leave in a connection (SQLite's page cache, prepared statements) goes
    /// with it instead of staying in the pool for good.
    pub async fn run_detached<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let url = self.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = url.establish()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The same, for the CLI and other synchronous callers.
    pub fn run_blocking<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        with_pooled(&self.pool, work)
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(StoreError::from))
            .await
    }
}

fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    let parent: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => return Ok(()),
    };
    std::fs::create_dir_all(&parent).map_err(|e| StoreError::Connect {
        backend: Backend::Sqlite,
        target: path.display().to_string(),
        message: format!("cannot create folder {}: {e}", parent.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_url() {
        let pg = DatabaseUrl::parse("postgres://u:p@h/db").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.redacted(), "postgres://u:****@h/db");
        let lite = DatabaseUrl::parse("./data/civicpost.db").unwrap();
        assert_eq!(lite.backend(), Backend::Sqlite);
        assert_eq!(DatabaseUrl::parse("sqlite://x.db").unwrap().url, "x.db");
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn redaction_keeps_user_and_host() {
        assert_eq!(
            redact_url("redis://:secret@h:6379/0"),
            "redis://:****@h:6379/0"
        );
        assert_eq!(redact_url("postgres://me@h/db"), "postgres://me@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
