//! The first-run promise: `civicpost serve` with no configuration at all (SQLite in a fresh
//! folder, in-process cache, built-in simulators) takes a dossier from `received` to
//! `delivered`, with the demo key it prints. Runs the real binary; the database is its own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::test]
async fn a_first_run_carries_a_dossier_to_delivered_through_the_simulators() {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .env_remove("CIVICPOST_CONFIG")
        // Only the pace: 2 s per status by default, a demo a person watches. Couriers stamp
        // events to the second, so steps stay over a second apart to keep their order.
        .env("CIVICPOST__COURIERS__SIMULATOR__STEP_MS", "1100")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CIVICPOST__")) {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut base = None;
    let mut key = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(url) = line.trim().strip_prefix("API docs") {
            base = url.trim().strip_suffix("/docs/").map(str::to_owned);
        }
        if line.starts_with("cpa_") {
            key = Some(line);
            break;
        }
    }
    let (base, key) = (base.expect("base URL in banner"), key.expect("demo key"));
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/v1/deliveries"))
        .bearer_auth(&key)
        .json(&json!({
            "dossier_code": "DEMO-260101-0001",
            "procedure_name": "Cấp giấy phép xây dựng",
            "recipient": {
                "name": "Nguyễn Văn An",
                "phone": "0912345678",
                "address": { "line": "Số 12 ngõ 3 Đội Cấn", "ward_code": "00004" }
            }
        }))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let start = Instant::now();
    let mut state = String::new();
    while state != "delivered" && start.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let d: Value = client
            .get(format!("{base}/v1/deliveries/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        state = d["state"].as_str().unwrap_or_default().to_owned();
    }
    let events: Value = client
        .get(format!("{base}/v1/deliveries/{id}/events"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(state, "delivered", "{events}");
    let applied: Vec<&str> = events
        .as_array()
        .or_else(|| events["items"].as_array())
        .expect("events list")
        .iter()
        .filter(|e| e["applied"] == true)
        .filter_map(|e| e["state"].as_str())
        .collect();
    assert_eq!(
        applied,
        [
            "received",
            "awaiting_pickup",
            "picked_up",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ],
        "{events}"
    );
}
