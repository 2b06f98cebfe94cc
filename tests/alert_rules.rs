//! The example alert rules (deploy/prometheus/alerts.yml) are well-formed and name only
//! series the service emits, and the queue gauges they watch show up at /metrics.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use civicpost::domain::jobs::{JobKind, NewJob};
use civicpost::store::jobs;
use civicpost::store::schema::outbox_jobs;
use common::TestApp;
use diesel::prelude::*;

const RULES: &str = include_str!("../deploy/prometheus/alerts.yml");

fn rules() -> Vec<serde_norway::Value> {
    let doc: serde_norway::Value = serde_norway::from_str(RULES).expect("alerts.yml is YAML");
    let groups = doc["groups"].as_sequence().expect("groups");
    assert!(!groups.is_empty());
    groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().expect("rules").clone())
        .collect()
}

/// Every `civicpost_*` name in the rules' expressions.
fn series_in(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("civicpost_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Metric names passed to a `metrics::` macro anywhere under src/.
fn emitted() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                // The name is a macro's first argument, maybe on the next line.
                for (i, _) in text.match_indices("\"civicpost_") {
                    if !text[..i].trim_end().ends_with("!(") {
                        continue;
                    }
                    let name = &text[i + 1..];
                    let end = name.find('"').expect("closing quote");
                    names.insert(name[..end].to_owned());
                }
            }
        }
    }
    names
}

#[test]
fn every_rule_is_complete_and_watches_an_emitted_series() {
    let emitted = emitted();
    let rules = rules();
    assert!(rules.len() >= 10, "{} rules", rules.len());
    for rule in rules {
        let name = rule["alert"].as_str().expect("alert name");
        let expr = rule["expr"].as_str().expect("expr");
        assert!(
            matches!(rule["labels"]["severity"].as_str(), Some("page" | "ticket")),
            "{name}: severity"
        );
        assert!(
            rule["annotations"]["summary"].as_str().is_some(),
            "{name}: summary"
        );
        let series = series_in(expr);
        assert!(!series.is_empty(), "{name} watches no civicpost series");
        for s in series {
            // Histograms are exposed as <name>_bucket, _sum and _count.
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| s.strip_suffix(suffix).filter(|b| b.ends_with("_seconds")))
                .unwrap_or(&s);
            assert!(
                emitted.contains(base),
                "{name}: {s} is not emitted by the service"
            );
        }
    }
}

#[tokio::test]
async fn queue_gauges_appear_at_metrics() {
    let app = TestApp::spawn_without_sandbox().await;
    app.query(|c| {
        let job = jobs::enqueue(
            c,
            &NewJob {
                kind: JobKind::Callback,
                delivery_id: None,
                payload: serde_json::json!({}),
                run_at: None,
            },
        )?;
        diesel::update(outbox_jobs::table.find(job))
            .set(outbox_jobs::status.eq("parked"))
            .execute(c)?;
        Ok(())
    })
    .await;
    let worker = civicpost::jobs::start(&app.state);
    // The request histogram gets its first sample when a response is done, so the first
    // /metrics page of a fresh process cannot show it yet: serve one request beforehand.
    assert!(app.get("/healthz").await.status().is_success());
    let mut body = String::new();
    for _ in 0..100 {
        body = app.get("/metrics").await.text().await.expect("metrics");
        if body.contains("civicpost_jobs_parked{kind=\"callback\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.stop(Duration::from_secs(1)).await;
    for series in [
        "civicpost_jobs_parked{kind=\"callback\"} 1",
        "civicpost_jobs_oldest_due_seconds{kind=\"dispatch\"}",
        "civicpost_jobs_queue_depth{",
        "civicpost_webhook_inbox_pending ",
        "civicpost_webhook_inbox_oldest_seconds ",
        "civicpost_http_request_duration_seconds_bucket{",
    ] {
        assert!(body.contains(series), "{series} missing from\n{body}");
    }
}
