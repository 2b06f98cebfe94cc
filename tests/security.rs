//! Security checks of issue 8 not covered elsewhere: callbacks reach only the agency that owns
//! the delivery, and a whole journey logged at debug level leaves no personal data or secret
//! in the log. Elsewhere: reads and cancels across agencies (`deliveries.rs`,
//! agencies_see_only_their_own_deliveries), the tracking-code enumeration limit
//! (`tracking_live.rs`, too_many_lookups_get_429_with_retry_after), callback URLs to private
//! addresses (`callbacks_guard.rs`), forged courier webhooks (`webhooks.rs`).

#[path = "callbacks/support.rs"]
mod callbacks_support;
mod common;
#[path = "faults/support.rs"]
mod faults;
#[path = "webhooks/support.rs"]
mod support;

use std::time::Duration;

use callbacks_support::*;
use civicpost::domain::courier::Courier;
use common::TestApp;
use serde_json::{Value, json};
use support::{bytes, delivery, drain, post_hook, vtp_body};

#[tokio::test]
async fn callbacks_reach_only_the_agency_that_owns_the_delivery() {
    let app = TestApp::spawn_with(callback_settings()).await;
    let operator = app.operator_key();
    let (owner, other) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    // `delivery` makes it for agency H42; K07 is another agency with its own endpoint.
    let id = delivery(&app, Courier::Viettelpost, Some("18000000555")).await;
    app.agency_key("K07");
    point_agency_at(&app, &operator, "H42", &owner.url("/hooks")).await;
    point_agency_at(&app, &operator, "K07", &other.url("/hooks")).await;
    let hook = bytes(&vtp_body("18000000555", 105, "10/11/2025 11:07:16"));
    assert_eq!(post_hook(&app, Courier::Viettelpost, &hook).await.0, 200);
    assert_eq!(drain(&app).await, 1);
    run_callbacks(&app, Duration::from_secs(10)).await;
    let got = owner.received();
    assert_eq!(got.len(), 1, "the owner hears of its delivery");
    assert_eq!(got[0].json()["data"]["delivery_id"], id.as_str());
    assert!(other.received().is_empty(), "another agency hears nothing");
}

const NAME: &str = "Trần Thị Bích Ngọc";
const PHONE: &str = "0987 654 321";
const EMAIL: &str = "ngoc.tran.bich@example.vn";
const LINE: &str = "Số 47 ngõ 12 phố Khâm Thiên";

/// What must never appear in a log line, in the forms it could take there.
fn forbidden(secrets: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = [
        "987654321",
        "987 654 321",
        "987.654.321",
        "ngoc.tran.bich",
        "Khâm Thiên",
        "Bích Ngọc",
        "Bich Ngoc",
        civicpost::couriers::sandbox::VIETTEL_WEBHOOK_TOKEN,
    ]
    .map(str::to_owned)
    .to_vec();
    words.extend(secrets.iter().map(|s| s.to_string()));
    words
}

/// A sandbox `serve` logging at debug level takes a delivery with a full address, a refused
/// one, a lookup by dossier and phone digits, an operator sign-in, and the parcel's whole
/// journey (dispatch, courier webhooks, SMS and email); then its log is read line by line.
#[tokio::test]
async fn no_log_line_carries_personal_data_or_a_secret() {
    let app = TestApp::spawn().await;
    let agency = app.sending_agency_key("000.00.01.H29");
    let operator = app.operator_key();
    let env = [
        ("CIVICPOST__LOG__LEVEL", "debug".to_owned()),
        ("CIVICPOST__COURIERS__SIMULATOR__STEP_MS", "100".to_owned()),
    ];
    let dir = app.db.dir.path();
    let service = faults::Child::serve(&app.db.url, dir, "serve", &env).await;
    let base = service.base();
    let client = reqwest::Client::new();
    let post = |body: Value| {
        client
            .post(format!("{base}/v1/deliveries"))
            .bearer_auth(&agency)
            .json(&body)
            .send()
    };
    let body = json!({
        "dossier_code": "H29-261205-0777",
        "procedure_name": "Cấp giấy phép xây dựng",
        "recipient": { "name": NAME, "phone": PHONE, "email": EMAIL,
                       "address": { "line": LINE, "ward_code": "25747" } },
        "parcel": { "weight_grams": 150 }
    });
    let created: Value = post(body.clone())
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let mut refused = body.clone();
    refused["dossier_code"] = json!("H29-261205-0778");
    refused["recipient"]["phone"] = json!("0987 654 321 999");
    refused["recipient"]["email"] = json!("ngoc.tran.bich@");
    assert_eq!(post(refused).await.expect("post").status(), 400);
    let lookup = client
        .get(format!(
            "{base}/v1/track?dossier=H29-261205-0777&phone4=4321"
        ))
        .send()
        .await
        .expect("lookup");
    assert_eq!(lookup.status(), 200);
    let login = client
        .post(format!("{base}/admin/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={operator}"))
        .send()
        .await
        .expect("login");
    assert!(login.status().is_redirection() || login.status().is_success());

    faults::wait_until(
        "the parcel delivered and the citizen told",
        Duration::from_secs(90),
        || app.delivery(&id).state == "delivered" && app.open_jobs() == 0,
    )
    .await;
    assert!(faults::sms_written(dir) > 0, "SMS were sent");

    let log = std::fs::read_to_string(dir.join("serve-1.log")).expect("log");
    assert!(log.lines().count() > 20, "debug logging is on: {log}");
    for word in forbidden(&[&agency, &operator]) {
        if let Some(line) = log.lines().find(|l| l.contains(&word)) {
            panic!("{word:?} is in the log: {line}");
        }
    }
}
