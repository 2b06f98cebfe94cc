//! Agency callbacks end to end over real HTTP, on both backends: a courier status changes a
//! delivery, the callback job POSTs it to a receiver on 127.0.0.1, and the signature is
//! checked by an independent implementation (`callbacks/verify.py`, Python's stdlib).
//! Address refusals are in `callbacks_guard.rs`, replays in `callbacks_replay.rs`.

#[path = "callbacks/support.rs"]
mod callbacks_support;
mod common;
#[path = "webhooks/support.rs"]
mod support;

use std::time::Duration;

use callbacks_support::*;
use civicpost::domain::courier::Courier;
use common::TestApp;
use serde_json::Value;
use support::{bytes, delivery, drain, post_hook, vtp_body};

const TRACKING: &str = "18000000101";
const PATIENCE: Duration = Duration::from_secs(10);

/// A delivery of agency H42 at Viettel Post, then picked up: one callback job pending.
async fn picked_up(app: &TestApp, tracking: &str) -> String {
    let id = delivery(app, Courier::Viettelpost, Some(tracking)).await;
    let hook = bytes(&vtp_body(tracking, 105, "10/11/2025 11:07:16"));
    let (status, _) = post_hook(app, Courier::Viettelpost, &hook).await;
    assert_eq!(status, 200);
    assert_eq!(drain(app).await, 1);
    id
}

/// Moves the delivery on with one more courier status.
async fn courier_status(app: &TestApp, tracking: &str, code: i64, local: &str) {
    let hook = bytes(&vtp_body(tracking, code, local));
    let (status, _) = post_hook(app, Courier::Viettelpost, &hook).await;
    assert_eq!(status, 200);
    drain(app).await;
}

#[tokio::test]
async fn a_state_change_is_posted_signed_and_retried_until_accepted() {
    let logs = captured_logs();
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[500]).await;
    let id = picked_up(&app, TRACKING).await;
    // The token in the URL stands for any credential an agency puts there.
    let url = receiver.url("/hooks/civicpost?token=url-token-4f9a");
    let secret = point_agency_at(&app, &operator, "H42", &url).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    run_callbacks(&app, PATIENCE).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2, "a 500, then the retry is accepted");
    assert_eq!(callback_jobs(&app, &id).await, ["done 2"]);

    let event_id = got[0].header("webhook-id").to_owned();
    assert_eq!(
        got[1].header("webhook-id"),
        event_id,
        "retries carry the same id"
    );
    let now = chrono::Utc::now().timestamp();
    for request in &got {
        assert_eq!(request.header("content-type"), "application/json");
        let ts: i64 = request
            .header("webhook-timestamp")
            .parse()
            .expect("unix seconds");
        assert!(
            (now - 60..=now + 1).contains(&ts),
            "the attempt's own time: {ts}"
        );
        assert!(request.header("webhook-signature").starts_with("v1,"));
        let payload = python_verify(&secret, &request.headers, &request.body)
            .unwrap_or_else(|e| panic!("signature rejected by verify.py: {e}"));
        assert_eq!(payload, request.json());
    }
    assert_eq!(got[0].body, got[1].body, "the same body on every attempt");

    let body = got[1].json();
    assert_eq!(body["type"], "delivery.state_changed");
    assert_eq!(
        body["timestamp"], "2025-11-10T04:07:16Z",
        "11:07:16 in Vietnam"
    );
    let data = &body["data"];
    assert_eq!(data["event_id"], event_id.as_str());
    assert_eq!(data["delivery_id"], id.as_str());
    assert_eq!(data["state"], "picked_up");
    assert_eq!(data["courier"], "viettelpost");
    assert_eq!(data["courier_tracking_number"], TRACKING);
    assert_eq!(data["occurred_at"], body["timestamp"]);
    let row = app.delivery(&id);
    assert_eq!(data["dossier_code"], row.dossier_code.as_str());
    assert_eq!(data["tracking_code"], row.tracking_code.as_str());
    let text = String::from_utf8_lossy(&got[1].body).to_string();
    for personal in ["Nguyễn", "0912", "Đội Cấn", "00004"] {
        assert!(!text.contains(personal), "no recipient data: {text}");
    }

    // Another key, a tampered body or a replayed old timestamp are all rejected by the
    // independent check, so its acceptance above means something.
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD3tTcBxiIs8k=";
    assert!(python_verify(other, &got[1].headers, &got[1].body).is_err());
    let tampered = text.replace("picked_up", "delivered");
    assert!(python_verify(&secret, &got[1].headers, tampered.as_bytes()).is_err());
    let mut stale = got[1].headers.clone();
    stale.insert("webhook-timestamp".into(), (now - 3600).to_string());
    assert!(python_verify(&secret, &stale, &got[1].body).is_err());

    // Each attempt is recorded; the operator sees them.
    let recorded = attempts(&app, &id).await;
    assert_eq!(recorded.len(), 2);
    assert_eq!((recorded[0].0, recorded[0].1), (1, Some(500)));
    assert_eq!(recorded[0].2.as_deref(), Some("the endpoint answered 500"));
    assert_eq!(
        recorded[0].3.as_deref(),
        Some(r#"{"error":"database unavailable", "retry":true}"#),
        "a one-line excerpt of the answer"
    );
    assert_eq!((recorded[1].0, recorded[1].1), (2, Some(200)));
    assert_eq!(recorded[1].2, None);
    let (status, view) = app
        .get_as(&format!("/v1/admin/deliveries/{id}/callbacks"), &operator)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["attempts"].as_array().map(Vec::len), Some(2));
    assert_eq!(view["attempts"][0]["status_code"], 500);
    assert_eq!(view["attempts"][0]["webhook_id"], event_id.as_str());
    assert_eq!(view["attempts"][1]["attempt"], 2);
    let job = &view["jobs"][0];
    assert_eq!(job["status"], "done");
    assert_eq!(job["state"], "picked_up");
    assert_eq!(job["event_id"], event_id.as_str());
    assert_eq!(job["max_attempts"], 34, "about 3 days of retries");
    assert_eq!(job["replay"], false);
    let agency_key = app.agency_key("H42");
    let (status, _) = app
        .get_as(&format!("/v1/admin/deliveries/{id}/callbacks"), &agency_key)
        .await;
    assert_eq!(status, 403, "operators only");
    let (status, _) = app
        .get_as("/v1/admin/deliveries/nope/callbacks", &operator)
        .await;
    assert_eq!(status, 404);

    // What the logs saw of it: ids and statuses, never the secret, the signature, the
    // URL's token or the body.
    let logged = logs.text();
    assert!(
        logged.contains("job failed; will retry"),
        "logs are captured"
    );
    assert!(!logged.contains(&secret) && !logged.contains(&secret["whsec_".len()..]));
    for request in &got {
        let signature = &request.header("webhook-signature")["v1,".len()..];
        assert!(!logged.contains(signature));
    }
    assert!(!logged.contains("url-token-4f9a"));
    assert!(!logged.contains("database unavailable"));
    receiver.stop().await;
}

#[tokio::test]
async fn gone_disables_the_endpoint_until_a_url_is_set_again() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[410]).await;
    let id = picked_up(&app, TRACKING).await;
    let secret = point_agency_at(&app, &operator, "H42", &receiver.url("/cb")).await;

    run_callbacks(&app, PATIENCE).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(
        callback_jobs(&app, &id).await,
        ["done 1"],
        "410 ends the job"
    );
    let recorded = attempts(&app, &id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1, Some(410));
    let (_, agency) = app.get_as("/v1/admin/agencies/H42", &operator).await;
    assert!(agency["callback_disabled_at"].is_string(), "{agency}");
    assert_eq!(
        agency["callback_url"],
        receiver.url("/cb").as_str(),
        "kept, for the operator"
    );

    // Later changes are not sent while it is disabled.
    courier_status(&app, TRACKING, 300, "10/11/2025 18:00:00").await;
    run_callbacks(&app, PATIENCE).await;
    assert_eq!(receiver.received().len(), 1, "nothing sent");
    assert_eq!(callback_jobs(&app, &id).await, ["done 1", "done 1"]);
    assert_eq!(attempts(&app, &id).await.len(), 1, "no attempt made");

    // Setting the URL again re-enables it; the secret stays (none is generated).
    let (status, saved) = app
        .patch_as(
            "/v1/admin/agencies/H42",
            &operator,
            serde_json::json!({ "callback_url": receiver.url("/cb") }),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["callback_disabled_at"], Value::Null);
    assert!(saved.get("generated_callback_secret").is_none(), "{saved}");
    courier_status(&app, TRACKING, 500, "11/11/2025 08:00:00").await;
    run_callbacks(&app, PATIENCE).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let payload = python_verify(&secret, &got[1].headers, &got[1].body).expect("signed");
    assert_eq!(payload["data"]["state"], "out_for_delivery");
    receiver.stop().await;
}

#[tokio::test]
async fn without_a_url_nothing_is_sent_and_without_a_secret_the_job_parks() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let receiver = Receiver::start(&[]).await;
    let id = picked_up(&app, TRACKING).await;
    run_callbacks(&app, PATIENCE).await;
    assert_eq!(callback_jobs(&app, &id).await, ["done 1"], "a no-op");
    assert!(attempts(&app, &id).await.is_empty());

    // A URL with an unusable secret (as an older release allowed): parked, nothing sent.
    set_endpoint(
        &app,
        "H42",
        Some(&receiver.url("/cb")),
        Some("sixteen-chars-or-more"),
    )
    .await;
    courier_status(&app, TRACKING, 300, "10/11/2025 18:00:00").await;
    run_callbacks(&app, PATIENCE).await;
    assert_eq!(callback_jobs(&app, &id).await, ["done 1", "parked 1"]);
    assert!(receiver.received().is_empty());
    let recorded = attempts(&app, &id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1, None);
    let error = recorded[0].2.clone().unwrap_or_default();
    assert!(error.contains("no valid callback secret"), "{error}");
    assert!(!error.contains("sixteen-chars"), "the secret is not quoted");
    receiver.stop().await;
}

#[tokio::test]
async fn operators_set_secrets_in_the_standard_webhooks_format() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[]).await;
    let url = receiver.url("/cb");
    let (status, created) = app
        .post_as(
            "/v1/admin/agencies",
            &operator,
            serde_json::json!({"code": "H01", "name": "Một cửa Hà Nội", "callback_url": url}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let generated = created["generated_callback_secret"]
        .as_str()
        .expect("generated");
    assert!(
        generated.starts_with("whsec_") && generated.len() == 50,
        "{generated}"
    );
    assert_eq!(created["agency"]["callback_secret_set"], true);
    let (_, got) = app.get_as("/v1/admin/agencies/H01", &operator).await;
    assert!(!got.to_string().contains("whsec_"), "shown once: {got}");

    let path = "/v1/admin/agencies/H01";
    for bad in [
        "short",
        "whsec_bWF0LWtoYXU=",
        "whsec_not base64",
        "bWF0LWtoYXUtYmktbWF0LWN1YS1tb3QtY3VhLTIwMjY=",
    ] {
        let (status, body) = app
            .patch_as(
                path,
                &operator,
                serde_json::json!({ "callback_secret": bad }),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["errors"][0]["field"], "callback_secret");
        assert!(!body.to_string().contains(bad), "not echoed");
    }
    let chosen = "whsec_bWF0LWtoYXUtYmktbWF0LWN1YS1tb3QtY3VhLTIwMjY=";
    let (status, body) = app
        .patch_as(
            path,
            &operator,
            serde_json::json!({ "callback_secret": chosen }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("generated_callback_secret").is_none());
    // Clearing the secret while the URL stays rotates it.
    let (status, body) = app
        .patch_as(
            path,
            &operator,
            serde_json::json!({ "callback_secret": null }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rotated = body["generated_callback_secret"].as_str().expect("rotated");
    assert_ne!(rotated, generated);
    receiver.stop().await;
}
