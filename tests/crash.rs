//! Dispatch by real `civicpost worker` processes against the simulators of a running
//! service: killed at the worst moment (the courier has the order, our commit has not
//! happened), and two workers sharing one queue. Exactly one order per delivery either way.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use civicpost::store::schema::{outbox_attempts, outbox_jobs};
use common::TestApp;
use common::couriers::dispatch_settings;
use common::process::KilledOnDrop;
use diesel::prelude::*;

/// In TP Hồ Chí Minh: Viettel Post by the demo rules.
const HCM_WARD: &str = "25747";

fn spawn_worker(app: &TestApp, failpoints: Option<&str>) -> KilledOnDrop {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
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
        .env("CIVICPOST__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CIVICPOST__")) {
        if !k.starts_with("CIVICPOST__JOBS__") && !k.starts_with("CIVICPOST__APP__") {
            cmd.env_remove(k);
        }
    }
    // The citizen's SMS of each dispatch must not wait for morning: run at any hour (in
    // quiet hours, 21:00-07:00 in Vietnam, the `send_notification` jobs stayed pending and
    // the test timed out).
    cmd.env("CIVICPOST__NOTIFY__QUIET_HOURS_START", "00:00")
        .env("CIVICPOST__NOTIFY__QUIET_HOURS_END", "00:00");
    if let Some(points) = failpoints {
        cmd.env("FAILPOINTS", points);
    }
    let dir = tempfile::tempdir().expect("dir");
    cmd.current_dir(dir.path());
    KilledOnDrop(cmd.spawn().expect("start civicpost worker"))
}

/// SIGKILL: no shutdown code runs, as in a power cut.
fn kill_hard(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(feature = "failpoints")]
#[tokio::test]
async fn a_worker_killed_between_the_courier_answer_and_the_commit_makes_one_order() {
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let id = app
        .enqueue_delivery(&key, "H29-260201-0001", HCM_WARD)
        .await;
    let sim = app.viettel_sim();

    let mut doomed = spawn_worker(&app, Some("dispatch-after-create=pause"));
    wait_until("the order at the courier", Duration::from_secs(60), || {
        sim.create_calls() == 1
    })
    .await;
    // Paused right after the answer: give it a moment to get there, then cut the power.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.delivery(&id).state, "received", "nothing committed yet");
    kill_hard(&mut doomed);
    assert_eq!(sim.order_count(), 1);

    let mut survivor = spawn_worker(&app, None);
    wait_until(
        "the delivery to be dispatched",
        Duration::from_secs(60),
        || app.delivery(&id).state == "awaiting_pickup",
    )
    .await;
    kill_hard(&mut survivor);
    let d = app.delivery(&id);
    assert_eq!(
        sim.order_count(),
        1,
        "still exactly one order at Viettel Post"
    );
    assert_eq!(
        sim.create_calls(),
        2,
        "the retry asked the same courier again"
    );
    let tracking = d.courier_tracking_number.expect("tracking");
    assert_eq!(
        sim.order_status(&tracking),
        Some(100),
        "the order the courier made"
    );
    assert_eq!(app.delivery_states(&id), ["received", "awaiting_pickup"]);
}

#[tokio::test]
async fn two_worker_processes_never_dispatch_a_delivery_twice() {
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let mut ids = Vec::new();
    for n in 0..30 {
        let dossier = format!("H29-260201-{:04}", 100 + n);
        ids.push(app.enqueue_delivery(&key, &dossier, HCM_WARD).await);
    }
    let mut workers = [spawn_worker(&app, None), spawn_worker(&app, None)];
    // Dispatched, and each job's outcome recorded (that commit follows the handler's).
    let all_done = || {
        app.open_jobs() == 0
            && ids
                .iter()
                .all(|id| app.delivery(id).state == "awaiting_pickup")
    };
    wait_until(
        "every delivery dispatched",
        Duration::from_secs(90),
        all_done,
    )
    .await;
    for worker in &mut workers {
        kill_hard(worker);
    }

    let sim = app.viettel_sim();
    assert_eq!(sim.order_count(), ids.len());
    assert_eq!(
        sim.create_calls(),
        ids.len() as u64,
        "no create call was made twice"
    );
    let mut numbers: Vec<String> = ids
        .iter()
        .filter_map(|id| app.delivery(id).courier_tracking_number)
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), ids.len());
    let attempts: i64 = app
        .state
        .db
        .run_blocking(|c| {
            // Dispatch jobs' attempts: each state change's callback job runs too (a no-op
            // for this agency, which has no callback URL).
            outbox_attempts::table
                .inner_join(outbox_jobs::table)
                .filter(outbox_jobs::kind.eq("dispatch"))
                .count()
                .get_result(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("attempts");
    assert_eq!(attempts, ids.len() as i64, "one attempt per dispatch job");
}
