//! `civicpost serve`: the service, with a first-run demo in sandbox mode.

use std::net::SocketAddr;

use super::CliResult;
use crate::app::{AppState, Application};
use crate::config::Settings;
use crate::store::agencies::{self, NewAgency};

const DEMO_AGENCY: &str = "DEMO";

pub fn serve(mut settings: Settings, bind: Option<String>) -> CliResult {
    if let Some(bind) = bind {
        settings.http.bind = bind;
    }
    let addr: SocketAddr = settings.bind_addr()?;
    // Left at its default, the public address follows where we listen, so the tracking
    // links a first run prints work (a real deployment sets its own).
    if settings.app.public_base_url == crate::config::DEFAULT_PUBLIC_BASE_URL && addr.port() != 0 {
        let shown = if addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        settings.app.public_base_url = format!("http://{shown}");
    }
    crate::telemetry::init_logging(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(settings, addr).await?;
        let demo_key = if app.state().settings.app.sandbox {
            seed_demo_agency(app.state()).await?
        } else {
            None
        };
        print_banner(app.state(), app.addr(), demo_key.as_deref());
        tracing::info!(addr = %app.addr(), "listening");
        if app.state().settings.app.sandbox {
            spawn_first_unit_sync(app.state().clone());
        }
        let worker = app
            .state()
            .settings
            .jobs
            .enabled
            .then(|| crate::jobs::start(app.state()));
        let grace = crate::jobs::stop_grace(app.state());
        app.run_until_stopped().await?;
        if let Some(worker) = worker {
            worker.stop(grace).await;
        }
        tracing::info!("stopped");
        Ok(())
    })
}

/// In sandbox mode, the couriers' address ids on a first run, so the demo can dispatch. The
/// simulators answer over HTTP from this very server, whose requests wait in the listen
/// backlog until it runs, so this must not be awaited before it does.
fn spawn_first_unit_sync(state: AppState) {
    tokio::spawn(async move {
        let synced = crate::couriers::sync_units::sync_if_empty(&state).await;
        if !synced.is_empty() {
            // Two address lists were parsed and matched: give the churn back.
            crate::app::release_startup_memory();
        }
    });
}

/// In sandbox mode, a demo agency so the first run has something to try. Its key can only be
/// shown when it is made; afterwards `civicpost agency rotate-key DEMO` issues a new one.
async fn seed_demo_agency(state: &AppState) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let created = state
        .db
        .run(|conn| {
            if agencies::find_by_code(conn, DEMO_AGENCY)?.is_some() {
                return Ok(None);
            }
            let new = NewAgency {
                code: DEMO_AGENCY.into(),
                name: "Trung tâm Phục vụ hành chính công (demo)".into(),
                sender_ward_code: Some("00004".into()),
                sender_line: Some("1 Hoàng Hoa Thám".into()),
                sender_phone: Some("024 3825 1234".into()),
                level: Some("province".into()),
            };
            agencies::create(conn, &new).map(|(_, key)| Some(key))
        })
        .await?;
    Ok(created)
}

fn print_banner(state: &AppState, addr: SocketAddr, demo_key: Option<&str>) {
    let base = format!("http://{addr}");
    let cache = if state.settings.redis.url.is_some() {
        "Redis"
    } else {
        "in-process cache"
    };
    let mode = if state.settings.app.sandbox {
        "sandbox"
    } else {
        "production"
    };
    println!(
        "civicpost is running ({mode}; {} at {}; {cache})",
        state.db.backend(),
        state.db.target()
    );
    println!("  API docs     {base}/docs/");
    println!("  OpenAPI      {base}/openapi.json");
    println!("  health       {base}/healthz   readiness {base}/readyz   metrics {base}/metrics");
    println!("  try          curl {base}/v1/units/wards/00004");
    println!("               curl '{base}/v1/units/wards?province=79&name=Sai%20Gon'");
    println!("               curl {base}/v1/units/legacy-wards/00001");
    println!("               curl '{base}/v1/units/locate?lat=21.0285&lon=105.8542'");
    match demo_key {
        Some(key) => {
            println!(
                "demo agency {DEMO_AGENCY}: API key (shown once; use it as Authorization: Bearer <key>):"
            );
            println!("{key}");
        }
        None if state.settings.app.sandbox => {
            println!(
                "demo agency {DEMO_AGENCY} exists; its key was shown at first run (new one: civicpost agency rotate-key {DEMO_AGENCY})"
            );
        }
        None => {}
    }
}
