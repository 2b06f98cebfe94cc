//! Wiring: builds the shared state from the settings and runs the HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use metrics_exporter_prometheus::PrometheusHandle;
use tracing_actix_web::TracingLogger;

use crate::cache::{Cache, CacheOptions};
use crate::config::{ConfigError, Settings};
use crate::couriers::registry::Couriers;
use crate::couriers::sandbox::Simulators;
use crate::store::{self, Db, StoreError};
use crate::units::{FixtureError, FixtureSource, Units, UnitsData};

/// What every request handler and worker shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub cache: Cache,
    pub units: Arc<Units>,
    pub metrics: PrometheusHandle,
    pub couriers: Arc<Couriers>,
    /// The agency callbacks' HTTP client (address guard, timeouts, no redirects).
    pub callbacks: Arc<crate::callbacks::Sender>,
    /// Sandbox mode, in the process that serves HTTP: the courier simulators it mounts.
    pub simulators: Option<Simulators>,
    /// Citizen messages: templates, SMS and email transports, quiet hours.
    pub notifier: Arc<crate::notify::Notifier>,
    /// Courier webhook bodies, stored with group commit.
    pub inbox: crate::store::inbox_writer::InboxWriter,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Database(#[from] StoreError),
    #[error("administrative units fixtures: {0}")]
    Fixtures(#[from] FixtureError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("couriers: {0}")]
    Couriers(String),
    #[error("startup task failed: {0}")]
    Task(String),
}

/// Connects to the database, applies migrations, parses the units and loads them into the
/// database (one transaction, skipped when unchanged), connects the cache and builds the
/// courier adapters. In sandbox mode they call the simulators at `app.public_base_url`.
pub async fn prepare(settings: Settings) -> Result<AppState, StartupError> {
    prepare_with(settings, None).await
}

/// As [`prepare`]; `serving_at`: this process serves HTTP there, so it mounts the simulators
/// (in sandbox mode) and the adapters call them at that address.
async fn prepare_with(
    settings: Settings,
    serving_at: Option<String>,
) -> Result<AppState, StartupError> {
    let url = settings.database_url()?;
    let timeout = Duration::from_secs(settings.database.connect_timeout_secs);
    let start_wait = Duration::from_secs(settings.database.start_wait_secs);
    let pool_size = settings.database.pool_size;
    let sandbox = settings.app.sandbox;
    let source = match &settings.units.fixtures_dir {
        Some(dir) => FixtureSource::Dir(dir.clone()),
        None => FixtureSource::Embedded,
    };
    let (db, data) =
        tokio::task::spawn_blocking(move || -> Result<(Db, UnitsData), StartupError> {
            let data = UnitsData::load(&source)?;
            // Setup runs on a connection of its own, dropped afterwards: loading 14,000 rows
            // fills SQLite's page cache, which a pooled connection would keep for good.
            let mut setup = url.establish_at_start(start_wait)?;
            let applied = store::migrations::run_pending(&mut setup)?;
            if !applied.is_empty() {
                tracing::info!(versions = ?applied, "applied migrations");
            }
            let outcome = store::units::load(&mut setup, &data)?;
            tracing::info!(?outcome, "administrative units");
            if sandbox {
                store::routing::load_demo_rules(&mut setup)?;
            }
            drop(setup);
            let db = Db::connect(&url, pool_size, timeout)?;
            Ok((db, data))
        })
        .await
        .map_err(|e| StartupError::Task(e.to_string()))??;
    let units = Arc::new(Units::new(data));
    release_startup_memory();
    let cache = match &settings.redis.url {
        None => Cache::in_process(),
        Some(url) => {
            let options = CacheOptions {
                namespace: settings.redis.namespace.clone(),
                retry_interval: Duration::from_millis(settings.redis.retry_interval_ms),
                ..CacheOptions::default()
            };
            Cache::connect(url.clone(), options).await
        }
    };
    let service_base = serving_at
        .clone()
        .unwrap_or_else(|| settings.app.public_base_url.clone());
    let couriers = Couriers::from_settings(&settings, &cache, &service_base)
        .map_err(|e| StartupError::Couriers(e.to_string()))?;
    let callbacks = crate::callbacks::Sender::new(&settings.callbacks)
        .map_err(|e| StartupError::Task(format!("callback HTTP client: {e}")))?;
    let notifier = crate::notify::Notifier::from_settings(&settings, &service_base)
        .map_err(|e| StartupError::Task(e.to_string()))?;
    let simulators = match serving_at {
        Some(base) if settings.app.sandbox => Some(
            Simulators::new(&base, &settings.couriers.simulator).map_err(StartupError::Couriers)?,
        ),
        _ => None,
    };
    let inbox = crate::store::inbox_writer::InboxWriter::start(db.clone());
    Ok(AppState {
        settings: Arc::new(settings),
        inbox,
        db,
        cache,
        units,
        metrics: crate::telemetry::metrics_handle(),
        couriers: Arc::new(couriers),
        callbacks: Arc::new(callbacks),
        simulators,
        notifier: Arc::new(notifier),
    })
}

/// Parsing the fixtures and loading them into the database churns through tens of megabytes
/// that are freed at once but that glibc keeps in its per-thread arenas; giving them back
/// keeps an idle node small (the target: under 40 MB with every unit loaded).
pub(crate) fn release_startup_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it touches no live
    // allocation and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A bound, not yet running server.
pub struct Application {
    server: actix_web::dev::Server,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Prepares the state and binds `addr` (port 0 picks a free port, for tests).
    pub async fn build(settings: Settings, addr: SocketAddr) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;
        // Connections wait in the listen backlog until the server runs.
        let state = prepare_with(settings, Some(local_base(addr))).await?;
        let server = http_server(state.clone(), listener)
            .map_err(|source| StartupError::Bind { addr, source })?;
        Ok(Self {
            server,
            addr,
            state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until SIGTERM or Ctrl-C (actix drains in-flight requests first), or the handle stops it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// How this process reaches itself: the bound port on loopback when bound to all interfaces.
fn local_base(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn http_server(state: AppState, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let settings = state.settings.clone();
    let body_limit = settings.http.body_limit_bytes;
    let simulators = state.simulators.clone();
    let data = web::Data::new(state);
    let dev_settings = settings.clone();
    let mut server = HttpServer::new(move || {
        let simulators = simulators.clone();
        App::new()
            .app_data(data.clone())
            .configure(move |cfg| {
                if let Some(sims) = simulators {
                    sims.configure()(cfg);
                }
            })
            .configure(crate::http::dev::configure(&dev_settings))
            .configure(crate::http::configure(body_limit))
            .wrap(from_fn(crate::http::request_id_and_metrics))
            .wrap(TracingLogger::<crate::http::span::RouteSpan>::new())
    })
    .shutdown_timeout(settings.http.shutdown_timeout_secs);
    if settings.http.workers > 0 {
        server = server.workers(settings.http.workers);
    }
    Ok(server.listen(listener)?.run())
}
