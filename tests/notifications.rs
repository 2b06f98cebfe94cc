//! Citizen messages end to end: a delivery handed to Viettel Post (simulator), moved by its
//! webhooks, told to the citizen through the eSMS gateway simulator over HTTP and a real
//! SMTP server on 127.0.0.1. Once per (delivery, state, channel), whatever repeats.

mod common;

use std::time::Duration;

use civicpost::notify::sms::sim::SimSms;
use common::TestApp;
use common::couriers::dispatch_settings;
use common::smtp::SmtpServer;
use serde_json::{Value, json};

/// In TP Hồ Chí Minh: Viettel Post by the demo rules.
const HCM_WARD: &str = "25747";

async fn app_with(smtp: &SmtpServer, notify: Value) -> TestApp {
    let mut settings = dispatch_settings();
    let mut n = json!({ "sms": { "transport": "gateway" }, "email": smtp.settings() });
    merge(&mut n, notify);
    settings["notify"] = n;
    let app = TestApp::spawn_with(settings).await;
    app.map_courier_units().await;
    app
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, e) => *b = e,
    }
}

/// A delivery to a citizen with a phone and `email`; its id.
async fn deliver(app: &TestApp, key: &str, dossier: &str, email: &str) -> String {
    let body = json!({
        "dossier_code": dossier,
        "procedure_name": "Cấp phiếu lý lịch tư pháp",
        "recipient": {
            "name": "Nguyễn Văn An", "phone": "0912 345 678", "email": email,
            "address": { "line": "Số 12 đường Lê Lợi", "ward_code": HCM_WARD }
        },
        "parcel": { "weight_grams": 150 }
    });
    let (status, answer) = app
        .send_json(
            reqwest::Method::POST,
            "/v1/deliveries",
            Some(key),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    answer["id"].as_str().expect("id").to_owned()
}

fn sms(app: &TestApp) -> Vec<SimSms> {
    app.state
        .simulators
        .as_ref()
        .expect("sandbox")
        .sms
        .messages()
}

async fn notifications(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let (status, body) = app
        .send_json(
            reqwest::Method::GET,
            &format!("/v1/deliveries/{id}/notifications"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("list").clone()
}

fn find<'a>(list: &'a [Value], state: &str, channel: &str) -> &'a Value {
    list.iter()
        .find(|n| n["state"] == state && n["channel"] == channel)
        .unwrap_or_else(|| panic!("no {channel} for {state} in {list:#?}"))
}

/// Moves the Viettel Post parcel of delivery `id` through `statuses` (native codes).
async fn courier_moves(app: &TestApp, id: &str, statuses: &[i64]) {
    let tracking = app
        .delivery(id)
        .courier_tracking_number
        .expect("tracking number");
    let res = app
        .client
        .post(app.url(&format!(
            "/sim/viettelpost/_control/orders/{tracking}/advance"
        )))
        .json(&json!({ "statuses": statuses }))
        .send()
        .await
        .expect("advance");
    assert_eq!(res.status(), 200);
    app.drain_jobs(Duration::from_secs(20)).await;
}

#[tokio::test]
async fn each_state_reaches_the_citizen_once_by_sms_and_email() {
    let smtp = SmtpServer::start();
    let app = app_with(&smtp, json!({})).await;
    let key = app.sending_agency_key("HCM");
    let id = deliver(&app, &key, "HCM-261122-0001", "an.nguyen@example.vn").await;
    app.drain_jobs(Duration::from_secs(20)).await;
    let code = app.delivery(&id).tracking_code;

    let texts = sms(&app);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0]
            .content
            .starts_with("Ket qua ho so HCM-261122-0001"),
        "{}",
        texts[0].content
    );
    assert!(texts[0].content.contains(&format!("/track/{code}")));
    assert!(texts[0].content.chars().count() <= 160);
    assert_eq!(texts[0].request_id.as_deref().map(str::len), Some(36));

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let raw = String::from_utf8_lossy(&mails[0]).to_string();
    let mail = mail_parser::MessageParser::default()
        .parse(&mails[0])
        .expect("parses");
    assert_eq!(
        mail.subject(),
        Some("Kết quả hồ sơ HCM-261122-0001 đã được gửi qua bưu điện")
    );
    assert!(
        raw.contains("Subject: =?utf-8?"),
        "subject is encoded: {raw}"
    );
    assert!(mail.date().is_some());
    let text = mail.body_text(0).expect("plain part");
    let html = mail.body_html(0).expect("html part");
    assert!(text.contains("Kính gửi Nguyễn Văn An"), "{text}");
    assert!(html.contains("Kính gửi Nguyễn Văn An"), "{html}");
    let list = notifications(&app, &key, &id).await;
    let (by_sms, by_email) = (
        find(&list, "awaiting_pickup", "sms"),
        find(&list, "awaiting_pickup", "email"),
    );
    assert_eq!(by_sms["status"], "sent");
    assert_eq!(by_sms["provider"], "esms");
    assert_eq!(by_sms["provider_message_id"], texts[0].sms_id.as_str());
    assert_eq!(by_sms["destination"], "09xx xxx 678");
    assert_eq!(by_email["status"], "sent");
    assert_eq!(by_email["destination"], "a***@example.vn");
    let message_id = mail.message_id().expect("Message-ID");
    assert_eq!(
        message_id,
        format!("{}@127.0.0.1", by_email["id"].as_str().expect("id"))
    );
    let unsubscribe = mail
        .header_raw("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert!(unsubscribe.contains("/unsubscribe/"), "{unsubscribe}");
    assert!(mail.header_raw("List-Unsubscribe-Post").is_some());

    // The courier says "out for delivery" three times; the citizen hears it once.
    courier_moves(&app, &id, &[200, 500, 500]).await;
    courier_moves(&app, &id, &[500]).await;
    let texts = sms(&app);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[1]
            .content
            .contains("giao ket qua ho so HCM-261122-0001"),
        "{}",
        texts[1].content
    );
    assert_eq!(smtp.messages().len(), 2);
    let list = notifications(&app, &key, &id).await;
    assert_eq!(list.len(), 4, "{list:#?}");
    // The operator sees the same record on the delivery.
    let (status, detail) = app
        .send_json(
            reqwest::Method::GET,
            &format!("/v1/admin/deliveries/{id}"),
            Some(&app.operator_key()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["notifications"].as_array().map(Vec::len), Some(4));
    assert!(
        !detail.to_string().contains("an.nguyen@"),
        "masked: {detail}"
    );
}

#[tokio::test]
async fn a_gateway_outage_is_retried_and_still_sends_once() {
    let smtp = SmtpServer::start();
    let app = app_with(&smtp, json!({})).await;
    let sim = app.state.simulators.as_ref().expect("sandbox").sms.clone();
    sim.set_faults(
        serde_json::from_value(json!({"fail_next": 2, "mode": "http500"})).unwrap_or_default(),
    );
    let key = app.sending_agency_key("HCM");
    let id = deliver(&app, &key, "HCM-261122-0002", "an.nguyen@example.vn").await;
    app.drain_jobs(Duration::from_secs(20)).await;
    assert_eq!(sim.messages().len(), 1);
    assert!(sim.calls() >= 3, "{}", sim.calls());
    let list = notifications(&app, &key, &id).await;
    let by_sms = find(&list, "awaiting_pickup", "sms");
    assert_eq!(by_sms["status"], "sent");
    assert_eq!(by_sms["attempts"], 3);
}

#[tokio::test]
async fn an_invalid_number_falls_back_to_email_and_a_rejected_address_is_not_retried() {
    let smtp = SmtpServer::start();
    // Email only as the stand-in for a failed SMS.
    let app = app_with(&smtp, json!({ "send_both": false })).await;
    let sim = app.state.simulators.as_ref().expect("sandbox").sms.clone();
    sim.set_faults(
        serde_json::from_value(json!({"fail_next": 2, "mode": "invalid_phone"}))
            .unwrap_or_default(),
    );
    let key = app.sending_agency_key("HCM");
    let ok = deliver(&app, &key, "HCM-261122-0003", "an.nguyen@example.vn").await;
    let rejected = deliver(&app, &key, "HCM-261122-0004", "reject.me@example.vn").await;
    app.drain_jobs(Duration::from_secs(20)).await;

    let list = notifications(&app, &key, &ok).await;
    let by_sms = find(&list, "awaiting_pickup", "sms");
    assert_eq!(by_sms["status"], "failed");
    assert_eq!(by_sms["attempts"], 1, "a permanent refusal is not retried");
    let by_email = find(&list, "awaiting_pickup", "email");
    assert_eq!(by_email["status"], "sent");
    assert_eq!(by_email["fallback_of"], by_sms["id"]);

    let list = notifications(&app, &key, &rejected).await;
    let by_email = find(&list, "awaiting_pickup", "email");
    assert_eq!(by_email["status"], "failed");
    assert_eq!(by_email["attempts"], 1);
    assert!(
        !by_email["note"]
            .as_str()
            .unwrap_or_default()
            .contains("reject.me"),
        "no address in the record: {by_email}"
    );
    assert_eq!(smtp.messages().len(), 1, "only the fallback email went out");
}

#[tokio::test]
async fn opting_out_by_the_email_link_or_through_the_agency_is_honoured_later() {
    let smtp = SmtpServer::start();
    let app = app_with(&smtp, json!({})).await;
    let key = app.sending_agency_key("HCM");
    let id = deliver(&app, &key, "HCM-261122-0005", "an.nguyen@example.vn").await;
    app.drain_jobs(Duration::from_secs(20)).await;
    let mail = mail_parser::MessageParser::default()
        .parse(&smtp.messages()[0])
        .map(|m| {
            m.header_raw("List-Unsubscribe")
                .unwrap_or_default()
                .to_owned()
        })
        .expect("parses");
    let link = mail
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    // The link names the public address (app.public_base_url); this app listens elsewhere.
    let path = &link[link.find("/unsubscribe/").expect("unsubscribe path")..];
    let link = app.url(path);
    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("html");
    assert!(
        page.contains("a***@example.vn") && page.contains("<form method=\"post\""),
        "{page}"
    );
    // One-click unsubscribe (RFC 8058), as a mail client sends it.
    let done = app
        .client
        .post(&link)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("unsubscribe");
    assert_eq!(done.status(), 200);
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/v1/optouts",
            Some(&key),
            Some(json!({ "channel": "sms", "phone": "+84 912 345 678" })),
        )
        .await;
    assert_eq!(
        (status, body["added"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/v1/optouts",
            Some(&key),
            Some(json!({ "channel": "fax", "phone": "0912345678" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "channel", "{body}");

    courier_moves(&app, &id, &[200, 500]).await;
    let list = notifications(&app, &key, &id).await;
    assert_eq!(find(&list, "out_for_delivery", "sms")["status"], "skipped");
    assert_eq!(
        find(&list, "out_for_delivery", "email")["status"],
        "skipped"
    );
    assert_eq!(sms(&app).len(), 1);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn quiet_hours_hold_sms_until_morning_unless_urgent() {
    use chrono::{Duration as Span, Utc};
    let smtp = SmtpServer::start();
    // A window around now, Vietnam time.
    let local = Utc::now() + Span::hours(7);
    let (start, end) = (local - Span::hours(1), local + Span::hours(2));
    let window = json!({
        "quiet_hours_start": start.format("%H:%M").to_string(),
        "quiet_hours_end": end.format("%H:%M").to_string(),
        "urgent": ["delivery_failed"],
    });
    let app = app_with(&smtp, window).await;
    let key = app.sending_agency_key("HCM");
    let id = deliver(&app, &key, "HCM-261122-0006", "an.nguyen@example.vn").await;
    let worker = app.worker();
    for _ in 0..40 {
        worker.run_once().await.expect("pass");
    }
    let list = notifications(&app, &key, &id).await;
    let held = find(&list, "awaiting_pickup", "sms");
    assert_eq!(held["status"], "pending");
    let due: chrono::DateTime<Utc> = serde_json::from_value(held["due_at"].clone()).expect("due");
    assert!(due > Utc::now() + Span::minutes(90), "{due}");
    assert_eq!(find(&list, "awaiting_pickup", "email")["status"], "sent");
    assert!(sms(&app).is_empty());

    // An urgent message is not held.
    let tracking = app.delivery(&id).courier_tracking_number.expect("tracking");
    app.client
        .post(app.url(&format!(
            "/sim/viettelpost/_control/orders/{tracking}/advance"
        )))
        .json(&json!({ "statuses": [200, 500, 506], "reason_code": 36 }))
        .send()
        .await
        .expect("advance");
    for _ in 0..60 {
        worker.run_once().await.expect("pass");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let texts = sms(&app);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].content.starts_with("Chua giao duoc"),
        "{}",
        texts[0].content
    );
}
