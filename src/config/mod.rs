//! Configuration: built-in defaults, then an optional TOML file, then environment variables
//! (`CIVICPOST__SECTION__KEY`, plus the conventional `DATABASE_URL` and `REDIS_URL`).
//! Everything is validated at start, with messages that name the setting and the fix.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::store::DatabaseUrl;
use crate::store::redact_url;

mod callbacks;
mod couriers;
mod env;
mod notify;
mod reports;
mod tracking;

pub use callbacks::CallbacksSettings;
pub use couriers::{
    BreakerSettings, CouriersSettings, PullSettings, SimulatorSettings, ViettelSettings,
    VnpostSettings,
};
pub use notify::{
    DEFAULT_EMAIL_FROM, DEFAULT_MAILBOX_DIR, DEFAULT_SMS_OUTBOX_DIR, EmailSettings, EmailTransport,
    GatewayRequestShape, GatewayResponseShape, GatewaySettings, MESSAGE_KINDS, NotifySettings,
    PhoneFormat, RequestFormat, SmsSettings, SmsTransport, SmtpSecurity, SmtpSettings,
};
pub use reports::{AGENCY_LEVELS, ReportsSettings, RetentionSettings};
pub use tracking::TrackingSettings;

pub const DEFAULT_CONFIG_FILE: &str = "civicpost.toml";
pub const DEFAULT_SQLITE_PATH: &str = "./data/civicpost.db";
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub app: AppSettings,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub units: UnitsSettings,
    pub jobs: JobsSettings,
    pub couriers: CouriersSettings,
    pub tracking: TrackingSettings,
    pub callbacks: CallbacksSettings,
    pub notify: NotifySettings,
    pub reports: ReportsSettings,
    pub retention: RetentionSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// Sandbox mode seeds a demo agency and points couriers at the built-in simulators.
    pub sandbox: bool,
    /// The address citizens and agencies use to reach this service (tracking links).
    pub public_base_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub bind: String,
    pub body_limit_bytes: usize,
    pub shutdown_timeout_secs: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    /// At start, how long to wait for a database that is starting or restarting.
    pub start_wait_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Unset: cache, rate limits and locks live in process (single node).
    pub url: Option<SecretString>,
    pub namespace: String,
    pub retry_interval_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `civicpost=debug,actix_web=info`.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitsSettings {
    /// Read administrative units from this folder instead of the copy built into the binary.
    pub fixtures_dir: Option<PathBuf>,
}

/// The outbox worker (`serve` runs one; `civicpost worker` runs one alone).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    /// Run the worker inside `serve`; off for HTTP-only replicas.
    pub enabled: bool,
    /// Pause between claims when the queue has nothing due.
    pub poll_interval_ms: u64,
    /// Most jobs claimed per round trip.
    pub batch_size: usize,
    /// Most jobs running at once in this process.
    pub concurrency: usize,
    /// How long a claim lasts; a job still running then is cut off and retried, and a crashed
    /// worker's jobs come back after it.
    pub lease_secs: u64,
    /// Retry delay before jitter: base × 2^(attempt−1), at most the cap.
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("configuration: {setting} {problem}. Fix: {fix}")]
    Invalid {
        setting: &'static str,
        problem: String,
        fix: String,
    },
}

/// The defaults, as a figment layer. Secrets are plain strings only here.
fn defaults() -> serde_json::Value {
    serde_json::json!({
        "app": { "sandbox": true, "public_base_url": DEFAULT_PUBLIC_BASE_URL },
        "http": { "bind": "127.0.0.1:8080", "body_limit_bytes": 256 * 1024,
                  "shutdown_timeout_secs": 30, "workers": 0 },
        "database": { "url": DEFAULT_SQLITE_PATH, "pool_size": 8, "connect_timeout_secs": 5,
                      "start_wait_secs": 60 },
        "redis": { "namespace": "civicpost:", "retry_interval_ms": 5000 },
        "log": { "format": "text", "level": "info" },
        "units": {},
        "jobs": { "enabled": true, "poll_interval_ms": 500, "batch_size": 32, "concurrency": 8,
                  "lease_secs": 300, "backoff_base_ms": 5000, "backoff_cap_ms": 3_600_000 },
        "couriers": couriers::defaults(),
        "tracking": tracking::defaults(),
        "callbacks": callbacks::defaults(),
        "notify": notify::defaults(),
        "reports": reports::reports_defaults(),
        "retention": reports::retention_defaults(),
    })
}

impl Settings {
    /// Loads from the process environment. `file`: an explicit config file (must exist);
    /// otherwise `CIVICPOST_CONFIG`, or `./civicpost.toml` when present.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match file {
            Some(f) => Some(require_file(f)?),
            None => match std::env::var_os("CIVICPOST_CONFIG") {
                Some(f) => Some(require_file(Path::new(&f))?),
                None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
            },
        };
        let mut figment = Figment::from(Serialized::defaults(defaults()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        // The conventional names first, so the namespaced ones win when both are set.
        figment = figment.merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database.url".into()),
        );
        if std::env::var("REDIS_URL").is_ok_and(|url| !url.is_empty()) {
            figment = figment.merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()));
        }
        figment = figment.merge(env::EnvText::prefixed("CIVICPOST__"));
        Self::extract(figment)
    }

    /// Defaults plus the given overrides, ignoring files and the environment (tests, tools).
    pub fn with_overrides(overrides: serde_json::Value) -> Result<Self, ConfigError> {
        let figment =
            Figment::from(Serialized::defaults(defaults())).merge(Serialized::defaults(overrides));
        Self::extract(figment)
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        // Lossy: settings from the environment are text, read as numbers or switches where
        // the setting is one (see `env.rs`).
        let settings: Settings = figment
            .extract_lossy()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        DatabaseUrl::parse(self.database.url.expose_secret()).map_err(|e| ConfigError::Invalid {
            setting: "database.url (DATABASE_URL)",
            problem: e.to_string(),
            fix: format!("set DATABASE_URL=postgres://user@host:5432/db or a file path such as {DEFAULT_SQLITE_PATH}"),
        })
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.http.bind.parse().map_err(|_| ConfigError::Invalid {
            setting: "http.bind (CIVICPOST__HTTP__BIND)",
            problem: format!("'{}' is not an address:port", self.http.bind),
            fix: "use a form such as 127.0.0.1:8080 or 0.0.0.0:8080".into(),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        self.database_url()?;
        let invalid = |setting, problem: String, fix: &str| {
            Err(ConfigError::Invalid {
                setting,
                problem,
                fix: fix.into(),
            })
        };
        if !(1..=256).contains(&self.database.pool_size) {
            return invalid(
                "database.pool_size",
                format!("is {}", self.database.pool_size),
                "choose 1 to 256",
            );
        }
        if self.http.body_limit_bytes < 1024 {
            return invalid(
                "http.body_limit_bytes",
                format!("is {}", self.http.body_limit_bytes),
                "allow at least 1024 bytes",
            );
        }
        if let Some(url) = &self.redis.url {
            let url = url.expose_secret();
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://"))
            {
                return invalid(
                    "redis.url (REDIS_URL)",
                    format!("'{}' is not a redis:// URL", redact_url(url)),
                    "use redis://host:6379/0, or leave it unset for the in-process cache",
                );
            }
        }
        if !(self.app.public_base_url.starts_with("http://")
            || self.app.public_base_url.starts_with("https://"))
        {
            return invalid(
                "app.public_base_url",
                format!("'{}' is not an http(s) URL", self.app.public_base_url),
                "use the address citizens reach, e.g. https://civicpost.example.gov.vn",
            );
        }
        self.validate_jobs()?;
        self.couriers.validate(self.app.sandbox)?;
        self.tracking.validate()?;
        self.callbacks.validate()?;
        self.notify.validate(self.app.sandbox)?;
        self.reports.validate()?;
        self.retention.validate()?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return invalid(
                "log.level (CIVICPOST__LOG__LEVEL)",
                format!("'{}' is not a log filter: {e}", self.log.level),
                "use info, debug, or civicpost=debug,actix_web=info",
            );
        }
        Ok(())
    }

    fn validate_jobs(&self) -> Result<(), ConfigError> {
        let j = &self.jobs;
        let checks: [(bool, &'static str, u64, &str); 6] = [
            (
                (1..=3_600_000).contains(&j.poll_interval_ms),
                "jobs.poll_interval_ms",
                j.poll_interval_ms,
                "choose 1 to 3600000 (500 is usual)",
            ),
            (
                (1..=1000).contains(&j.batch_size),
                "jobs.batch_size",
                j.batch_size as u64,
                "choose 1 to 1000",
            ),
            (
                (1..=1024).contains(&j.concurrency),
                "jobs.concurrency",
                j.concurrency as u64,
                "choose 1 to 1024",
            ),
            (
                (5..=86_400).contains(&j.lease_secs),
                "jobs.lease_secs",
                j.lease_secs,
                "choose 5 to 86400, longer than any job takes",
            ),
            (
                j.backoff_base_ms >= 1,
                "jobs.backoff_base_ms",
                j.backoff_base_ms,
                "use at least 1",
            ),
            (
                j.backoff_cap_ms >= j.backoff_base_ms,
                "jobs.backoff_cap_ms",
                j.backoff_cap_ms,
                "use a cap no smaller than jobs.backoff_base_ms",
            ),
        ];
        match checks.into_iter().find(|(ok, ..)| !ok) {
            Some((_, setting, value, fix)) => Err(ConfigError::Invalid {
                setting,
                problem: format!("is {value}"),
                fix: fix.into(),
            }),
            None => Ok(()),
        }
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let mut out = String::new();
        let mask_url = |s: &SecretString| redact_url(s.expose_secret());
        let _ = writeln!(
            out,
            "[app]\nsandbox = {}\npublic_base_url = {:?}\n",
            self.app.sandbox, self.app.public_base_url
        );
        let _ = writeln!(
            out,
            "[http]\nbind = {:?}\nbody_limit_bytes = {}\nshutdown_timeout_secs = {}\nworkers = {}\n",
            self.http.bind,
            self.http.body_limit_bytes,
            self.http.shutdown_timeout_secs,
            self.http.workers
        );
        let _ = writeln!(
            out,
            "[database]\nurl = {:?}\npool_size = {}\nconnect_timeout_secs = {}\nstart_wait_secs = {}\n",
            mask_url(&self.database.url),
            self.database.pool_size,
            self.database.connect_timeout_secs,
            self.database.start_wait_secs
        );
        let redis_url = self
            .redis
            .url
            .as_ref()
            .map_or("# unset: in-process cache".to_owned(), |u| {
                format!("url = {:?}", mask_url(u))
            });
        let _ = writeln!(
            out,
            "[redis]\n{redis_url}\nnamespace = {:?}\nretry_interval_ms = {}\n",
            self.redis.namespace, self.redis.retry_interval_ms
        );
        let format = match self.log.format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        let _ = writeln!(
            out,
            "[log]\nformat = {format:?}\nlevel = {:?}\n",
            self.log.level
        );
        let dir = self
            .units
            .fixtures_dir
            .as_ref()
            .map_or("# unset: built into the binary".to_owned(), |d| {
                format!("fixtures_dir = {:?}", d.display().to_string())
            });
        let _ = writeln!(out, "[units]\n{dir}\n");
        let j = &self.jobs;
        let _ = writeln!(
            out,
            "[jobs]\nenabled = {}\npoll_interval_ms = {}\nbatch_size = {}\nconcurrency = {}\n\
             lease_secs = {}\nbackoff_base_ms = {}\nbackoff_cap_ms = {}",
            j.enabled,
            j.poll_interval_ms,
            j.batch_size,
            j.concurrency,
            j.lease_secs,
            j.backoff_base_ms,
            j.backoff_cap_ms
        );
        out.push('\n');
        self.couriers.to_masked_toml(&mut out);
        self.tracking.to_masked_toml(&mut out);
        self.callbacks.to_toml(&mut out);
        self.notify.to_masked_toml(&mut out);
        self.reports.to_masked_toml(&mut out);
        self.retention.to_masked_toml(&mut out);
        out
    }
}

fn require_file(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(ConfigError::Invalid {
            setting: "config file",
            problem: format!("{} does not exist or is not a file", path.display()),
            fix: "pass an existing TOML file, or none to use defaults and environment variables"
                .into(),
        })
    }
}
