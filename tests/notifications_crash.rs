//! A `civicpost worker` process killed right after the SMS gateway and the SMTP server took
//! the citizen's messages, before it wrote that down: the next worker sends nothing twice.
//! The SMS is repeated under the same request id, which the gateway answers with the first
//! message; the email, which no SMTP server deduplicates, is marked unconfirmed instead.
#![cfg(feature = "failpoints")]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use common::couriers::dispatch_settings;
use common::process::KilledOnDrop;
use common::smtp::SmtpServer;
use serde_json::json;

fn spawn_worker(app: &TestApp, smtp: &SmtpServer, failpoints: Option<&str>) -> KilledOnDrop {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
    // Only the settings below: none of the test run's own.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CIVICPOST__")) {
        cmd.env_remove(k);
    }
    cmd.arg("worker")
        .env_remove("CIVICPOST_CONFIG")
        .env_remove("REDIS_URL")
        .env_remove("FAILPOINTS")
        .env("DATABASE_URL", &app.db.url)
        .env("CIVICPOST__APP__PUBLIC_BASE_URL", &app.base)
        .env("CIVICPOST__JOBS__LEASE_SECS", "5")
        .env("CIVICPOST__JOBS__POLL_INTERVAL_MS", "50")
        .env("CIVICPOST__JOBS__BACKOFF_BASE_MS", "100")
        .env("CIVICPOST__JOBS__BACKOFF_CAP_MS", "500")
        .env("CIVICPOST__COURIERS__SIMULATOR__AUTOPILOT", "false")
        .env("CIVICPOST__NOTIFY__QUIET_HOURS_START", "00:00")
        .env("CIVICPOST__NOTIFY__QUIET_HOURS_END", "00:00")
        .env("CIVICPOST__NOTIFY__SMS__TRANSPORT", "gateway")
        .env("CIVICPOST__NOTIFY__EMAIL__TRANSPORT", "smtp")
        .env("CIVICPOST__NOTIFY__EMAIL__SMTP__HOST", "127.0.0.1")
        .env(
            "CIVICPOST__NOTIFY__EMAIL__SMTP__PORT",
            smtp.port.to_string(),
        )
        .env("CIVICPOST__NOTIFY__EMAIL__SMTP__SECURITY", "none")
        .env("CIVICPOST__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(points) = failpoints {
        cmd.env("FAILPOINTS", points);
    }
    let dir = tempfile::tempdir().expect("dir");
    cmd.current_dir(dir.path());
    KilledOnDrop(cmd.spawn().expect("start civicpost worker"))
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_killed_after_sending_sends_nothing_twice() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("HCM");
    let (status, created) = app
        .send_json(
            reqwest::Method::POST,
            "/v1/deliveries",
            Some(&key),
            Some(json!({
                "dossier_code": "HCM-261122-0100",
                "recipient": {
                    "name": "Nguyễn Văn An", "phone": "0912345678", "email": "an@example.vn",
                    "address": { "line": "Số 12 đường Lê Lợi", "ward_code": "25747" }
                },
                "parcel": { "weight_grams": 150 }
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let sim = app.state.simulators.as_ref().expect("sandbox").sms.clone();

    let mut doomed = spawn_worker(&app, &smtp, Some("notify-after-send=pause"));
    wait_until("both messages handed over", Duration::from_secs(60), || {
        sim.messages().len() == 1 && smtp.messages().len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = doomed.kill();
    let _ = doomed.wait();

    let mut survivor = spawn_worker(&app, &smtp, None);
    let settled = || {
        let rows = app
            .state
            .db
            .run_blocking({
                let id = id.clone();
                move |c| civicpost::store::notifications::for_delivery(c, &id)
            })
            .expect("rows");
        rows.len() == 2
            && rows
                .iter()
                .all(|n| n.status != "sending" && n.status != "pending")
    };
    wait_until("the messages settled", Duration::from_secs(60), settled).await;
    let _ = survivor.kill();
    let _ = survivor.wait();

    let rows = app
        .state
        .db
        .run_blocking(move |c| civicpost::store::notifications::for_delivery(c, &id))
        .expect("rows");
    let sms_row = rows.iter().find(|n| n.channel == "sms").expect("sms");
    let email_row = rows.iter().find(|n| n.channel == "email").expect("email");
    assert_eq!(sms_row.status, "sent");
    assert_eq!(sim.messages().len(), 1, "one SMS reached the phone");
    assert_eq!(
        sim.calls(),
        2,
        "the gateway was asked again, under the same request id"
    );
    assert_eq!(
        sms_row.provider_message_id.as_deref(),
        Some(sim.messages()[0].sms_id.as_str())
    );
    assert_eq!(email_row.status, "unconfirmed");
    assert_eq!(smtp.messages().len(), 1, "one email, not sent again");
}
