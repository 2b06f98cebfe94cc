//! VNPost webhooks end to end over real HTTP, on both backends: bodies signed by the sandbox
//! simulator's key (current and legacy formats, couriers.md §2A/§2B) and real ones pushed by
//! the simulator's control endpoint.

mod common;
#[path = "webhooks/support.rs"]
mod support;

use civicpost::couriers::sandbox::vnpost_simulator_key;
use civicpost::couriers::vnpost::signature;
use civicpost::couriers::{OrderRequest, Party};
use civicpost::domain::courier::Courier;
use common::TestApp;
use serde_json::{Value, json};
use support::*;

const VNP: Courier = Courier::Vnpost;

async fn send(app: &TestApp, body: &[u8]) -> u16 {
    let (status, answer) = post_hook(app, VNP, body).await;
    if status == 200 {
        assert_eq!(answer, json!({"success": true, "message": "OK"}));
    }
    status
}

/// An order at the VNPost simulator under our delivery id; its itemCode.
async fn order_at_simulator(app: &TestApp, reference: &str) -> String {
    let party = |province: &str, ward: &str| Party {
        name: "Nguyễn Văn A".into(),
        phone: "0912345678".into(),
        email: None,
        address_line: "1 Tràng Tiền".into(),
        province_code: "01".into(),
        ward_code: "00070".into(),
        courier_province_id: province.into(),
        courier_district_id: None,
        courier_ward_id: ward.into(),
    };
    let adapter = app.state.couriers.adapter(VNP).expect("vnpost enabled");
    adapter
        .create_order(&OrderRequest {
            reference: reference.into(),
            service_code: "ETN011".into(),
            sender: party("10", "10101"),
            receiver: party("70", "70101"),
            weight_grams: 200,
            declared_value_vnd: 0,
            collect_on_delivery_vnd: 0,
            receiver_pays_postage: false,
            product_name: "Kết quả thủ tục hành chính".into(),
            note: None,
        })
        .await
        .expect("order at the simulator")
        .tracking_number
}

async fn advance(app: &TestApp, request: Value) -> Value {
    let res = app
        .client
        .post(app.url("/sim/vnpost/_control/advance"))
        .json(&request)
        .send()
        .await
        .expect("advance");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_simulator_pushes_a_parcel_to_delivered_and_repeats_itself() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, None).await;
    let item = order_at_simulator(&app, &id).await;
    let id_for_update = id.clone();
    let item_for_update = item.clone();
    app.query(move |c| {
        use civicpost::store::schema::deliveries;
        use diesel::prelude::*;
        diesel::update(deliveries::table.find(id_for_update))
            .set(deliveries::courier_tracking_number.eq(item_for_update))
            .execute(c)?;
        Ok(())
    })
    .await;
    // Four bodies stamped with one second (the simulator's clock), processed side by side:
    // whatever the order, the delivery ends delivered and the rest is history.
    let sent = advance(&app, json!({"itemCode": item, "statuses": [6, 10, 12, 14]})).await;
    assert_eq!(sent["answers"], json!([200, 200, 200, 200]));
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "delivered");
    let history = courier_events(&app, &id).await;
    assert_eq!(history.len(), 4);
    assert!(history.contains(&"14:applied".to_owned()), "{history:?}");
    // The simulator sends one body twice: the second copy stores nothing. The status is
    // after the end: kept, changes nothing.
    let sent = advance(
        &app,
        json!({"itemCode": item, "statuses": [19], "duplicate": true}),
    )
    .await;
    assert_eq!(sent["answers"], json!([200, 200]));
    drain(&app).await;
    assert_eq!(inbox(&app).await.len(), 5);
    assert_eq!(state_of(&app, &id).await, "delivered");
    assert_eq!(
        courier_events(&app, &id).await.last().map(String::as_str),
        Some("19:frozen")
    );
    let notified = jobs(&app, &id, "notify").await;
    assert_eq!(notified.last().map(String::as_str), Some("delivered"));
}

#[tokio::test]
async fn a_record_re_signed_with_a_new_send_date_applies_once() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, Some("EL100000101VN")).await;
    let record = vnp_record("EL100000101VN", 12, "2025-11-22T09:00:00");
    let first = vnp_body(&app, vec![record.clone()], "2025-11-22 02:05:00");
    let again = vnp_body(&app, vec![record], "2025-11-22 02:10:00");
    assert_ne!(first, again);
    assert_eq!(send(&app, &first).await, 200);
    assert_eq!(send(&app, &again).await, 200);
    assert_eq!(send(&app, &again).await, 200);
    assert_eq!(inbox(&app).await.len(), 2);
    drain(&app).await;
    assert_eq!(
        courier_events(&app, &id).await,
        ["12:applied", "12:duplicate"]
    );
    assert_eq!(jobs(&app, &id, "notify").await, ["out_for_delivery"]);
    // The record's own time, not sendDate: 09:00 in Vietnam.
    let (_, _, last, _) = delivery_state(&app, &id).await;
    assert_eq!(last, Some(utc("2025-11-22 02:00:00")));
}

#[tokio::test]
async fn batches_reordered_events_and_back_edges() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, Some("EL100000102VN")).await;
    let at = |status: i64, local: &str| vnp_record("EL100000102VN", status, local);
    let bodies = [
        vec![at(12, "2025-11-22T09:00:00")],
        vec![at(15, "2025-11-22T10:00:00")],
        // One body, two records (signed over the first): a new attempt, and a late one.
        vec![at(12, "2025-11-22T11:00:00"), at(10, "2025-11-22T08:00:00")],
        vec![at(16, "2025-11-22T12:00:00")],
        vec![at(12, "2025-11-22T13:00:00")],
        vec![at(19, "2025-11-22T14:00:00")],
        vec![at(14, "2025-11-22T15:00:00")],
    ];
    for (n, records) in bodies.into_iter().enumerate() {
        let sent = format!("2025-11-22 08:{:02}:00", n);
        assert_eq!(send(&app, &vnp_body(&app, records, &sent)).await, 200);
        drain(&app).await;
    }
    assert_eq!(
        courier_events(&app, &id).await,
        [
            "12:applied",
            "15:applied",
            "12:applied",
            "10:out_of_order",
            "16:applied",
            "12:refused",
            "19:applied",
            "14:frozen"
        ]
    );
    let (state, _, _, ended) = delivery_state(&app, &id).await;
    assert_eq!(state, "returned");
    assert_eq!(ended, Some(utc("2025-11-22 07:00:00")));
}

#[tokio::test]
async fn bad_or_missing_signatures_are_401_and_unreadable_bodies_400() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, Some("EL100000103VN")).await;
    let good = vnp_body(
        &app,
        vec![vnp_record("EL100000103VN", 12, "2025-11-22T09:00:00")],
        "2025-11-22 02:05:00",
    );
    let text = String::from_utf8(good.clone()).expect("utf-8");
    let tampered = text.replace("\"status\":12", "\"status\":14");
    assert_ne!(tampered, text);
    let (status, problem) = post_hook(&app, VNP, tampered.as_bytes()).await;
    assert_eq!((status, problem["_problem"].clone()), (401, json!(true)));

    // Signed with a key that is not VNPost's.
    let stranger = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("key");
    let mut body: Value = serde_json::from_slice(&good).expect("json");
    let signed = signature::current_signed_text(
        body["sendDate"].as_str().unwrap_or_default(),
        "EL100000103VN",
        "12",
    );
    body["signature"] = json!(signature::sign(&stranger, &signed));
    assert_eq!(post_hook(&app, VNP, &bytes(&body)).await.0, 401);
    body["signature"] = json!("bm90IGEgc2lnbmF0dXJl");
    assert_eq!(post_hook(&app, VNP, &bytes(&body)).await.0, 401);
    if let Some(fields) = body.as_object_mut() {
        fields.remove("signature");
    }
    assert_eq!(post_hook(&app, VNP, &bytes(&body)).await.0, 401);
    let empty = json!({"data": [], "sendDate": "2025-11-22T09:00:00", "signature": "AAAA"});
    assert_eq!(post_hook(&app, VNP, &bytes(&empty)).await.0, 401);

    // Not JSON at all, cut short: 400 before any signature can be looked for.
    assert_eq!(post_hook(&app, VNP, &good[..40]).await.0, 400);
    // Genuinely signed but not readable: a status that is no number, a date that is no date.
    let key = vnpost_simulator_key().expect("key");
    let signed_by_vnpost = |record: Value, send_date: &str| {
        let item = record["itemCode"].as_str().unwrap_or_default().to_owned();
        let status = match &record["status"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = signature::current_signed_text(send_date, &item, &status);
        bytes(&json!({"data": [record], "sendDate": send_date,
                      "signature": signature::sign(&key, &text)}))
    };
    let wrong_type = signed_by_vnpost(
        json!({"itemCode": "EL100000103VN", "status": "đã giao"}),
        "2025-11-22T09:00:00",
    );
    assert_eq!(post_hook(&app, VNP, &wrong_type).await.0, 400);
    let no_date = signed_by_vnpost(
        json!({"itemCode": "EL100000103VN", "status": 12}),
        "hôm qua",
    );
    assert_eq!(post_hook(&app, VNP, &no_date).await.0, 400);
    assert!(inbox(&app).await.is_empty());
    assert!(counted(
        &app,
        "civicpost_webhooks_rejected_total{courier=\"vnpost\",reason=\"unauthenticated\"}"
    ));

    // The untouched body still goes through.
    assert_eq!(send(&app, &good).await, 200);
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "out_for_delivery");
}

#[tokio::test]
async fn the_legacy_body_is_verified_and_applied() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, Some("EL491610889VN")).await;
    let data = json!({"Id": "5f1c8a2e-0000-4000-8000-000000000001", "ItemCode": "EL491610889VN",
        "OrderCode": id, "OrderStatusId": 100, "CauseName": null,
        "ReceiverFullname": "Nguyễn Văn An", "LastUpdateTime": "2025-11-22T10:00:00",
        "CreateTime": "0001-01-01T00:00:00"});
    let body = vnp_legacy_body(&data, "2025-11-22T10:00:05");
    // Forged: the same Data with another send date than the one signed.
    let forged = String::from_utf8(body.clone())
        .expect("utf-8")
        .replace("2025-11-22T10:00:05", "2025-11-22T10:00:06");
    assert_eq!(post_hook(&app, VNP, forged.as_bytes()).await.0, 401);
    let mut unsigned: Value = serde_json::from_slice(&body).expect("json");
    unsigned["SignData"] = Value::Null;
    assert_eq!(post_hook(&app, VNP, &bytes(&unsigned)).await.0, 401);
    assert_eq!(send(&app, &body).await, 200);
    drain(&app).await;
    // A legacy code no table knows.
    let mut odd = data.clone();
    odd["OrderStatusId"] = json!(55);
    odd["LastUpdateTime"] = json!("2025-11-22T11:00:00");
    assert_eq!(
        send(&app, &vnp_legacy_body(&odd, "2025-11-22T11:00:05")).await,
        200
    );
    drain(&app).await;
    let (state, _, last, _) = delivery_state(&app, &id).await;
    assert_eq!(state, "delivered");
    assert_eq!(last, Some(utc("2025-11-22 03:00:00")));
    assert_eq!(
        courier_events(&app, &id).await,
        ["100:applied", "55:unknown_code"]
    );
}

#[tokio::test]
async fn unknown_and_payout_codes_change_nothing() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VNP, Some("EL100000104VN")).await;
    let records = vec![
        vnp_record("EL100000104VN", 27, "2025-11-22T09:00:00"),
        vnp_record("EL100000104VN", 21, "2025-11-22T09:01:00"),
        vnp_record("EL999999999VN", 14, "2025-11-22T09:02:00"),
    ];
    assert_eq!(
        send(&app, &vnp_body(&app, records, "2025-11-22 02:05:00")).await,
        200
    );
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "awaiting_pickup");
    assert_eq!(
        courier_events(&app, &id).await,
        ["27:unknown_code", "21:informational"]
    );
    assert_eq!(
        inbox(&app).await,
        ["vnpost processed informational=1 unknown_code=1 unknown_order=1"]
    );
}
