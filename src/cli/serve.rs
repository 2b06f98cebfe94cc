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
        let worker = spawn_worker(app.state().clone());
        let grace = crate::jobs::stop_grace(app.state());
        app.run_until_stopped().await?;
        if let Ok(Some(worker)) = worker.await {
            worker.stop(grace).await;
        }
        tracing::info!("stopped");
        Ok(())
    })
}

/// Starts the outbox worker (when `jobs.enabled`). In sandbox mode the couriers' address ids
/// come first on a first run, so the demo's first delivery can be dispatched. The simulators
/// answer over HTTP from this very server, whose requests wait in the listen backlog until
/// it runs, so this is a task of its own rather than awaited before the server starts.
fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<Option<crate::jobs::WorkerHandle>> {
    tokio::spawn(async move {
        if state.settings.app.sandbox {
            let synced = crate::couriers::sync_units::sync_if_empty(&state).await;
            if !synced.is_empty() {
                // Two address lists were parsed and matched: give the churn back.
                crate::app::release_startup_memory();
            }
        }
        state
            .settings
            .jobs
            .enabled
            .then(|| crate::jobs::start(&state))
    })
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
    println!(
        "  tracking     {base}/track   (citizens: a tracking code, or dossier code + phone digits)"
    );
    println!("  API docs     {base}/docs/");
    println!("  OpenAPI      {base}/openapi.json");
    println!("  health       {base}/healthz   readiness {base}/readyz   metrics {base}/metrics");
    println!(
        "  operators    {base}/admin   (sign in with a key from: civicpost operator create-key)"
    );
    println!("  try          curl {base}/v1/units/wards/00004");
    println!("               curl '{base}/v1/units/wards?province=79&name=Sai%20Gon'");
    println!("               curl {base}/v1/units/legacy-wards/00001");
    println!("               curl '{base}/v1/units/locate?lat=21.0285&lon=105.8542'");
    if state.settings.app.sandbox {
        let step = state.settings.couriers.simulator.step_ms;
        println!("  couriers     simulators at {base}/sim/viettelpost and {base}/sim/vnpost");
        println!("  journey      with KEY set to the demo key below:");
        println!(
            "               curl -X POST {base}/v1/deliveries -H \"Authorization: Bearer $KEY\" \
             -H 'content-type: application/json' -d '{{\"dossier_code\":\"DEMO-260101-0001\",\
             \"recipient\":{{\"name\":\"Nguyễn Văn An\",\"phone\":\"0912345678\",\
             \"email\":\"an.nguyen@example.vn\",\"address\":{{\"line\":\"Số 12 ngõ 3 Đội Cấn\",\"ward_code\":\"00004\"}}}}}}'"
        );
        println!(
            "               curl -H \"Authorization: Bearer $KEY\" {base}/v1/deliveries/<id>/events"
        );
        println!(
            "               open {base}/track/<tracking_code> (or DEMO-260101-0001 + 5678 on {base}/track)"
        );
        if state.settings.couriers.simulator.autopilot {
            println!(
                "               (the simulator moves it to delivered, one step every {step} ms)"
            );
        }
        println!(
            "               curl -H \"Authorization: Bearer $KEY\" {base}/v1/deliveries/<id>/notifications"
        );
        use crate::config::{EmailTransport, SmsTransport};
        let n = &state.settings.notify;
        match n.sms.transport {
            SmsTransport::Outbox => println!("  citizen SMS  {base}/dev/sms"),
            SmsTransport::Gateway => {
                println!("  citizen SMS  through {}", state.notifier.provider("sms"))
            }
        }
        if n.email.transport == EmailTransport::File {
            println!("  citizen mail {base}/dev/mailbox");
        }
    }
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
