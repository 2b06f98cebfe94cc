//! Manual replay, `POST /v1/admin/callbacks/replay`: by delivery or by a time range
//! (optionally of one agency), each state change sent again under its first `webhook-id`.

#[path = "callbacks/support.rs"]
mod callbacks_support;
mod common;
#[path = "webhooks/support.rs"]
mod support;

use std::time::Duration;

use callbacks_support::*;
use civicpost::domain::courier::Courier;
use common::TestApp;
use serde_json::{Value, json};
use support::{bytes, delivery, drain, post_hook, vtp_body};

const PATIENCE: Duration = Duration::from_secs(10);
const REPLAY: &str = "/v1/admin/callbacks/replay";

/// A delivery of agency H42 taken through pickup and transit: two state changes.
async fn moved(app: &TestApp, tracking: &str) -> String {
    let id = delivery(app, Courier::Viettelpost, Some(tracking)).await;
    for (code, at) in [(105, "10/11/2025 11:07:16"), (300, "10/11/2025 18:00:00")] {
        let hook = bytes(&vtp_body(tracking, code, at));
        assert_eq!(post_hook(app, Courier::Viettelpost, &hook).await.0, 200);
        drain(app).await;
    }
    id
}

fn webhook_ids(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_delivery_is_replayed_under_the_same_webhook_ids() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[]).await;
    let id = moved(&app, "18000000101").await;
    let secret = point_agency_at(&app, &operator, "H42", &receiver.url("/cb")).await;
    run_callbacks(&app, PATIENCE).await;
    let first = receiver.received();
    assert_eq!(first.len(), 2);

    let (status, body) = app
        .post_as(REPLAY, &operator, json!({ "delivery_id": id }))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({ "enqueued": 2 }));
    run_callbacks(&app, PATIENCE).await;
    let all = receiver.received();
    assert_eq!(all.len(), 4);
    let mut original = webhook_ids(&first);
    let mut replayed = webhook_ids(&all[2..]);
    original.sort();
    replayed.sort();
    assert_eq!(original, replayed, "receivers can deduplicate");
    for request in &all[2..] {
        let payload = python_verify(&secret, &request.headers, &request.body).expect("signed");
        assert!(
            ["picked_up", "in_transit"].contains(&payload["data"]["state"].as_str().unwrap_or(""))
        );
    }
    let (_, view) = app
        .get_as(&format!("/v1/admin/deliveries/{id}/callbacks"), &operator)
        .await;
    let replays: Vec<bool> = view["jobs"]
        .as_array()
        .map(|jobs| jobs.iter().map(|j| j["replay"] == true).collect())
        .unwrap_or_default();
    assert_eq!(replays, [false, false, true, true], "{view}");
    assert_eq!(view["attempts"].as_array().map(Vec::len), Some(4));

    // Unknown delivery: 404. An agency without a URL: 409, nothing enqueued.
    let (status, _) = app
        .post_as(REPLAY, &operator, json!({ "delivery_id": "nope" }))
        .await;
    assert_eq!(status, 404);
    set_endpoint(&app, "H42", None, None).await;
    let (status, body) = app
        .post_as(REPLAY, &operator, json!({ "delivery_id": id }))
        .await;
    assert_eq!(status, 409, "{body}");
    let agency_key = app.agency_key("H42");
    let (status, _) = app
        .post_as(REPLAY, &agency_key, json!({ "delivery_id": id }))
        .await;
    assert_eq!(status, 403, "operators only");
    receiver.stop().await;
}

#[tokio::test]
async fn a_time_range_is_replayed_for_every_agency_or_one() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[]).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let ours = moved(&app, "18000000101").await;
    point_agency_at(&app, &operator, "H42", &receiver.url("/h42")).await;
    // A second agency, with its own endpoint and one delivery.
    let theirs = {
        let id = delivery(&app, Courier::Viettelpost, Some("18000000202")).await;
        // `delivery` makes its deliveries for H42: move this one to H77.
        app.agency_key("H77");
        let moved_id = id.clone();
        app.query(move |c| {
            use civicpost::store::schema::{agencies, deliveries};
            use diesel::prelude::*;
            let h77: String = agencies::table
                .filter(agencies::code.eq("H77"))
                .select(agencies::id)
                .first(c)?;
            diesel::update(deliveries::table.find(&moved_id))
                .set(deliveries::agency_id.eq(h77))
                .execute(c)?;
            Ok(())
        })
        .await;
        let hook = bytes(&vtp_body("18000000202", 105, "10/11/2025 12:00:00"));
        assert_eq!(post_hook(&app, Courier::Viettelpost, &hook).await.0, 200);
        drain(&app).await;
        id
    };
    point_agency_at(&app, &operator, "H77", &receiver.url("/h77")).await;
    run_callbacks(&app, PATIENCE).await;
    assert_eq!(receiver.received().len(), 3);
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);

    let range = |agency: Option<&str>| {
        let mut body = json!({ "from": before.to_rfc3339(), "to": after.to_rfc3339() });
        if let Some(code) = agency {
            body["agency_code"] = json!(code);
        }
        body
    };
    let (status, body) = app.post_as(REPLAY, &operator, range(Some("H77"))).await;
    assert_eq!((status, &body), (202, &json!({ "enqueued": 1 })));
    run_callbacks(&app, PATIENCE).await;
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].json()["data"]["delivery_id"], theirs.as_str());

    let (status, body) = app.post_as(REPLAY, &operator, range(None)).await;
    assert_eq!((status, &body), (202, &json!({ "enqueued": 3 })));
    run_callbacks(&app, PATIENCE).await;
    let got = receiver.received();
    assert_eq!(got.len(), 7);
    let ours_again = got[4..]
        .iter()
        .filter(|r| r.json()["data"]["delivery_id"] == ours.as_str())
        .count();
    assert_eq!(ours_again, 2);

    // Times in another zone mean the same instants; an empty range enqueues nothing.
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("zone");
    let earlier = before - chrono::Duration::hours(2);
    let (status, body) = app
        .post_as(
            REPLAY,
            &operator,
            json!({ "from": earlier.with_timezone(&vietnam).to_rfc3339(),
                    "to": before.with_timezone(&vietnam).to_rfc3339() }),
        )
        .await;
    assert_eq!((status, &body), (202, &json!({ "enqueued": 0 })));
    receiver.stop().await;
}

#[tokio::test]
async fn replay_requests_name_what_is_wrong() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let field = |body: &Value| {
        format!(
            "{}:{}",
            body["errors"][0]["field"].as_str().unwrap_or(""),
            body["errors"][0]["code"].as_str().unwrap_or("")
        )
    };
    let cases = [
        (json!({}), "delivery_id:required"),
        (
            json!({ "delivery_id": "x", "from": "2026-11-20T00:00:00Z" }),
            "delivery_id:conflicting",
        ),
        (
            json!({ "delivery_id": "x", "agency_code": "H42" }),
            "agency_code:conflicting",
        ),
        (json!({ "from": "2026-11-20T00:00:00Z" }), "to:required"),
        (json!({ "to": "2026-11-20T00:00:00Z" }), "from:required"),
        (
            json!({ "from": "2026-11-21T00:00:00Z", "to": "2026-11-20T00:00:00Z" }),
            "to:before_from",
        ),
        (
            json!({ "from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z",
                    "agency_code": "NOPE" }),
            "agency_code:unknown_agency",
        ),
    ];
    for (request, expected) in cases {
        let (status, body) = app.post_as(REPLAY, &operator, request.clone()).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(field(&body), expected, "{request}: {body}");
    }
    let (status, _) = app
        .post_as(
            REPLAY,
            &operator,
            json!({ "from": "yesterday", "to": "today" }),
        )
        .await;
    assert_eq!(status, 400, "not RFC 3339");
    let (status, _) = app
        .post_as(REPLAY, &operator, json!({ "delivery": "x" }))
        .await;
    assert_eq!(status, 400, "unknown fields are refused");

    // The OpenAPI document describes the new routes.
    let (_, doc) = app.get_json("/openapi.json").await;
    assert!(doc["paths"]["/v1/admin/callbacks/replay"]["post"].is_object());
    assert!(doc["paths"]["/v1/admin/deliveries/{id}/callbacks"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ReplayRequest"].is_object());
}
