//! Shared by the webhook suites: a delivery handed to a courier (set directly, as dispatch
//! would), native bodies of both couriers, the worker, and what the database then holds.
#![allow(dead_code)]

use std::time::Duration;

use chrono::NaiveDateTime;
use civicpost::app::AppState;
use civicpost::couriers::sandbox::{VIETTEL_WEBHOOK_TOKEN, vnpost_simulator_key};
use civicpost::couriers::vnpost::{signature, sim};
use civicpost::domain::courier::Courier;
use civicpost::jobs::ingest::IngestWebhookHandler;
use civicpost::jobs::{Backoff, Registry, Worker, WorkerOptions};
use civicpost::store::schema::{deliveries, delivery_events, outbox_jobs, webhook_inbox};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::TestApp;

/// A delivery made through the agency API, then given to `courier` under `tracking` (or no
/// tracking number) and moved to `awaiting_pickup`, as dispatch will do.
pub async fn delivery(app: &TestApp, courier: Courier, tracking: Option<&str>) -> String {
    let key = app.agency_key("H42");
    let dossier = format!(
        "H42-261122-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let (status, created) = app
        .post_as(
            "/v1/deliveries",
            &key,
            json!({
                "dossier_code": dossier,
                "procedure_name": "Cấp giấy phép xây dựng",
                "recipient": {
                    "name": "Nguyễn Văn An",
                    "phone": "0912 345 678",
                    "address": { "line": "Số 12 ngõ 3 Đội Cấn", "ward_code": "00004" }
                },
                "parcel": { "weight_grams": 150 }
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (row, tracking) = (id.clone(), tracking.map(str::to_owned));
    app.query(move |c| {
        diesel::update(deliveries::table.find(&row))
            .set((
                deliveries::courier.eq(courier.as_str()),
                deliveries::courier_tracking_number.eq(tracking),
                deliveries::state.eq("awaiting_pickup"),
            ))
            .execute(c)?;
        // As dispatch would have left it: its job done.
        diesel::update(
            outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(&row))
                .filter(outbox_jobs::kind.eq("dispatch")),
        )
        .set(outbox_jobs::status.eq("done"))
        .execute(c)?;
        Ok(())
    })
    .await;
    id
}

/// Runs ingestion jobs until none is due.
pub async fn drain(app: &TestApp) -> usize {
    let worker = worker(&app.state);
    let mut total = 0;
    loop {
        let n = worker.run_once().await.expect("worker pass");
        if n == 0 {
            return total;
        }
        total += n;
    }
}

/// A worker that ingests webhooks only: the notify and callback jobs a state change causes
/// stay pending, for the tests to read (callbacks have their own suite, `callbacks.rs`).
pub fn worker(state: &AppState) -> Worker<AppState> {
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(10),
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        },
        ..WorkerOptions::default()
    };
    Worker::new(
        state.db.clone(),
        state.clone(),
        Registry::new().with(IngestWebhookHandler),
        options,
    )
}

/// POSTs raw bytes to a courier's webhook; the status and the JSON answer.
pub async fn post_hook(app: &TestApp, courier: Courier, body: &[u8]) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(&format!("/v1/webhooks/{courier}")))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("post webhook");
    let status = res.status().as_u16();
    let problem = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let mut answer: Value = res.json().await.unwrap_or(Value::Null);
    if problem {
        answer["_problem"] = json!(true);
    }
    (status, answer)
}

/// `dd/MM/yyyy HH:mm:ss` local (UTC+7), as Viettel Post sends it.
pub fn vtp_body(tracking: &str, status: i64, local: &str) -> Value {
    json!({
        "DATA": {
            "ORDER_NUMBER": tracking, "ORDER_REFERENCE": tracking,
            "ORDER_STATUSDATE": local, "ORDER_STATUS": status,
            "STATUS_NAME": "Cập nhật trạng thái",
            "LOCALION_CURRENTLY": "HNI, GLM, Bưu cục Gia Lâm - HNI - Hà Nội",
            "LOCATION_CURRENTLY": "HNI, GLM, Bưu cục Gia Lâm - HNI - Hà Nội",
            "NOTE": "", "MONEY_COLLECTION": 0, "MONEY_FEECOD": 1000, "MONEY_TOTALFEE": 236115,
            "MONEY_TOTAL": 266884, "MONEY_TOTALVAT": 19769,
            "EXPECTED_DELIVERY": "Dịch vụ chưa quy định chỉ tiêu", "PRODUCT_WEIGHT": 7100,
            "ORDER_SERVICE": "VHT", "ORDER_SERVICE_ADD": null, "ORDER_PAYMENT": 1,
            "EXPECTED_DELIVERY_DATE": null, "DETAIL": [], "VOUCHER_VALUE": 0,
            "MONEY_COLLECTION_ORIGIN": null, "EMPLOYEE_NAME": "Phạm Minh Đức",
            "EMPLOYEE_PHONE": "84967299927", "IS_RETURNING": false, "POD": {"IMAGES": []},
            "REASON_CODE": null, "RECEIVER_FULLNAME": "Nguyễn Văn An"
        },
        "TOKEN": VIETTEL_WEBHOOK_TOKEN
    })
}

pub fn bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("json")
}

/// A current-API VNPost record; `local` is its `updatedDate` (Vietnam time).
pub fn vnp_record(item_code: &str, status: i64, local: &str) -> Value {
    json!({"itemCode": item_code, "status": status, "updatedDate": local,
           "saleOrderCode": null, "receiverName": "Nguyễn Văn An", "receiverPhone": "0912345678"})
}

/// The current VNPost body, signed by the sandbox simulator's key as VNPost documents.
pub fn vnp_body(app: &TestApp, records: Vec<Value>, sent_utc: &str) -> Vec<u8> {
    let sims = app.state.simulators.as_ref().expect("sandbox simulators");
    bytes(&sim::signed_body(&sims.vnpost, records, utc(sent_utc)))
}

/// The legacy VNPost body: `Data` a JSON string, signed over `Data + SendDate`.
pub fn vnp_legacy_body(data: &Value, send_date: &str) -> Vec<u8> {
    let data = data.to_string();
    let key = vnpost_simulator_key().expect("sandbox key");
    let sign = signature::sign(&key, &format!("{data}{send_date}"));
    bytes(&json!({"Data": data, "SendDate": send_date, "SignData": sign}))
}

pub fn utc(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time")
}

/// State, reason, last event time and end time of a delivery.
pub async fn delivery_state(
    app: &TestApp,
    id: &str,
) -> (
    String,
    Option<String>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
) {
    let id = id.to_owned();
    app.query(move |c| {
        Ok(deliveries::table
            .find(id)
            .select((
                deliveries::state,
                deliveries::state_reason,
                deliveries::last_event_at,
                deliveries::ended_at,
            ))
            .first(c)?)
    })
    .await
}

pub async fn state_of(app: &TestApp, id: &str) -> String {
    delivery_state(app, id).await.0
}

/// The delivery's courier events in arrival order: `code:outcome`.
pub async fn courier_events(app: &TestApp, id: &str) -> Vec<String> {
    let id = id.to_owned();
    let rows: Vec<(Option<String>, Option<String>, bool)> = app
        .query(move |c| {
            Ok(delivery_events::table
                .filter(delivery_events::delivery_id.eq(id))
                .filter(delivery_events::source.eq("courier"))
                .order(delivery_events::recorded_at)
                .then_order_by(delivery_events::id)
                .select((
                    delivery_events::raw_code,
                    delivery_events::outcome,
                    delivery_events::applied,
                ))
                .load(c)?)
        })
        .await;
    rows.into_iter()
        .map(|(code, outcome, applied)| {
            let outcome = outcome.unwrap_or_default();
            assert_eq!(
                applied,
                outcome == "applied",
                "applied flag matches the outcome"
            );
            format!("{}:{outcome}", code.unwrap_or_default())
        })
        .collect()
}

/// Jobs of one kind for a delivery, with their payload's state.
pub async fn jobs(app: &TestApp, id: &str, kind: &str) -> Vec<String> {
    let (id, kind) = (id.to_owned(), kind.to_owned());
    let payloads: Vec<(String, String)> = app
        .query(move |c| {
            Ok(outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(id))
                .filter(outbox_jobs::kind.eq(kind))
                .order(outbox_jobs::created_at)
                .then_order_by(outbox_jobs::id)
                .select((outbox_jobs::payload, outbox_jobs::status))
                .load(c)?)
        })
        .await;
    payloads
        .into_iter()
        .map(|(payload, status)| {
            assert_eq!(status, "pending", "this suite's worker leaves them be");
            let payload: Value = serde_json::from_str(&payload).expect("payload");
            payload["state"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// Every inbox row, oldest first: `courier status note`.
pub async fn inbox(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String, String, Option<String>)> = app
        .query(|c| {
            Ok(webhook_inbox::table
                .order(webhook_inbox::received_at)
                .then_order_by(webhook_inbox::id)
                .select((
                    webhook_inbox::courier,
                    webhook_inbox::status,
                    webhook_inbox::note,
                ))
                .load(c)?)
        })
        .await;
    rows.into_iter()
        .map(|(courier, status, note)| format!("{courier} {status} {}", note.unwrap_or_default()))
        .map(|s| s.trim_end().to_owned())
        .collect()
}

/// Whether the metrics page has this counter line with a value of at least 1.
pub fn counted(app: &TestApp, line_start: &str) -> bool {
    app.state.metrics.render().lines().any(|l| {
        l.starts_with(line_start)
            && l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|v| v >= 1.0)
    })
}
