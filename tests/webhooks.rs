//! Courier webhooks end to end over real HTTP, on both backends: Viettel Post bodies written
//! from couriers.md §1.4 and pushed by the simulator, the inbox, the worker, the state
//! machine. VNPost has its own suite (`webhooks_vnpost.rs`).

mod common;
#[path = "webhooks/support.rs"]
mod support;

use civicpost::couriers::sandbox::VIETTEL_WEBHOOK_TOKEN;
use civicpost::couriers::{OrderRequest, Party};
use civicpost::domain::courier::Courier;
use civicpost::store::schema::outbox_jobs;
use civicpost::store::{courier_events as events_store, inbox as inbox_store};
use common::TestApp;
use diesel::prelude::*;
use serde_json::{Value, json};
use support::*;

const VTP: Courier = Courier::Viettelpost;

async fn send(app: &TestApp, body: &Value) -> u16 {
    let (status, answer) = post_hook(app, VTP, &bytes(body)).await;
    if status == 200 {
        assert_eq!(
            answer,
            json!({"status": 200, "error": false, "message": "OK"})
        );
    }
    status
}

#[tokio::test]
async fn recorded_payloads_carry_a_parcel_to_delivered() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000101")).await;
    let steps = [
        (105, "10/11/2025 11:07:16"),
        (200, "10/11/2025 13:00:00"),
        (300, "10/11/2025 18:00:00"),
        (400, "11/11/2025 06:00:00"),
        (500, "11/11/2025 08:00:00"),
        (501, "11/11/2025 10:30:00"),
    ];
    // One at a time, as they would come hours apart (a burst is processed side by side; see
    // `a_burst_ends_where_the_timeline_ends`).
    for (code, at) in steps {
        assert_eq!(send(&app, &vtp_body("18000000101", code, at)).await, 200);
        assert_eq!(drain(&app).await, 1);
    }
    let (state, _, last, ended) = delivery_state(&app, &id).await;
    assert_eq!(state, "delivered");
    // 10:30 in Vietnam is 03:30 UTC.
    assert_eq!(last, Some(utc("2025-11-11 03:30:00")));
    assert_eq!(ended, last);
    assert_eq!(
        courier_events(&app, &id).await,
        [
            "105:applied",
            "200:no_change",
            "300:applied",
            "400:no_change",
            "500:applied",
            "501:applied"
        ]
    );
    // Callbacks on every change; the citizen hears of out-for-delivery and delivered only.
    assert_eq!(
        jobs(&app, &id, "callback").await,
        ["picked_up", "in_transit", "out_for_delivery", "delivered"]
    );
    assert_eq!(
        jobs(&app, &id, "notify").await,
        ["out_for_delivery", "delivered"]
    );
    assert!(
        inbox(&app)
            .await
            .iter()
            .all(|r| r.starts_with("viettelpost processed"))
    );

    // The agency reads the history, with where the parcel was (both spellings were sent).
    let key = app.agency_key("H42");
    let (status, history) = app
        .get_as(&format!("/v1/deliveries/{id}/events"), &key)
        .await;
    assert_eq!(status, 200);
    let delivered = history
        .as_array()
        .and_then(|a| a.iter().find(|e| e["raw_code"] == "501"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(delivered["state"], "delivered", "{history}");
    assert_eq!(delivered["applied"], true);
    assert_eq!(
        delivered["location"],
        "HNI, GLM, Bưu cục Gia Lâm - HNI - Hà Nội"
    );
}

#[tokio::test]
async fn the_simulator_pushes_signed_updates_through_failure_and_redelivery() {
    // The test drives the statuses itself.
    let app = TestApp::spawn_with(json!({"couriers": {"simulator": {"autopilot": false}}})).await;
    let sims = app.state.simulators.clone().expect("sandbox");
    let adapter = app.state.couriers.adapter(VTP).expect("viettel enabled");
    let id = delivery(&app, VTP, None).await;
    let units = adapter.address_units().await.expect("units");
    let unit = |name: &str| {
        let u = units
            .iter()
            .find(|u| u.ward_name.to_lowercase() == name.to_lowercase())
            .expect("ward");
        Party {
            name: "Nguyễn Văn An".into(),
            phone: "0912345678".into(),
            email: None,
            address_line: "1 Đội Cấn".into(),
            province_code: "01".into(),
            ward_code: "00004".into(),
            courier_province_id: u.province_id.clone(),
            courier_district_id: u.district_id.clone(),
            courier_ward_id: u.ward_id.clone(),
        }
    };
    let created = adapter
        .create_order(&OrderRequest {
            reference: id.clone(),
            service_code: "VCN".into(),
            sender: unit("Phường Ba Đình"),
            receiver: unit("Phường Thủ Dầu Một"),
            weight_grams: 300,
            declared_value_vnd: 0,
            collect_on_delivery_vnd: 0,
            receiver_pays_postage: false,
            product_name: "Kết quả thủ tục hành chính".into(),
            note: None,
        })
        .await
        .expect("order at the simulator");
    let tracking = created.tracking_number;
    // Found by our id echoed as ORDER_REFERENCE: dispatch has not stored a tracking number.
    let advance = |statuses: Vec<i64>, reason: Option<i64>| {
        let (sims, tracking) = (sims.clone(), tracking.clone());
        async move {
            let pushed = sims
                .viettelpost
                .advance(&tracking, &statuses, reason)
                .await
                .expect("order known");
            assert!(pushed.iter().all(|(_, http)| *http == 200), "{pushed:?}");
        }
    };
    // Four updates stamped with one second, processed side by side: whatever the order,
    // the furthest state wins (at the same second only moves forward apply).
    advance(vec![105, 200, 500, 506], Some(36)).await;
    drain(&app).await;
    let (state, reason, _, _) = delivery_state(&app, &id).await;
    assert_eq!(
        (state.as_str(), reason.as_deref()),
        ("delivery_failed", Some("consignee_unreachable"))
    );
    // Redelivery: the allowed way back to out_for_delivery, then the end. The simulator
    // stamps statuses with the second it sends them; a redelivery in the same second as
    // the first 500 would be the same event, which no courier sends.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    advance(vec![500], None).await;
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "out_for_delivery");
    advance(vec![501], None).await;
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "delivered");
    // After the end: answered 200, kept, changes nothing.
    advance(vec![502], None).await;
    drain(&app).await;
    assert_eq!(state_of(&app, &id).await, "delivered");
    let history = courier_events(&app, &id).await;
    assert_eq!(history.last().map(String::as_str), Some("502:frozen"));
    let notified = jobs(&app, &id, "notify").await;
    assert!(
        notified.ends_with(&[
            "delivery_failed".to_owned(),
            "out_for_delivery".to_owned(),
            "delivered".to_owned()
        ]),
        "{notified:?}"
    );
}

#[tokio::test]
async fn duplicates_are_answered_but_applied_once() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000102")).await;
    let body = vtp_body("18000000102", 500, "12/11/2025 08:00:00");
    assert_eq!(send(&app, &body).await, 200);
    assert_eq!(send(&app, &body).await, 200, "the very same bytes");
    assert_eq!(inbox(&app).await.len(), 1);
    // The same event in another body (VTP resends with other fields filled in).
    let mut resent = body.clone();
    resent["DATA"]["NOTE"] = json!("Gửi lại");
    assert_eq!(send(&app, &resent).await, 200);
    assert_eq!(drain(&app).await, 2);
    assert_eq!(
        courier_events(&app, &id).await,
        ["500:applied", "500:duplicate"]
    );
    assert_eq!(jobs(&app, &id, "notify").await, ["out_for_delivery"]);
    assert_eq!(jobs(&app, &id, "callback").await, ["out_for_delivery"]);
}

#[tokio::test]
async fn late_events_are_history_and_only_allowed_back_edges_apply() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000103")).await;
    let mut failed = vtp_body("18000000103", 506, "12/11/2025 11:00:00");
    failed["DATA"]["REASON_CODE"] = json!(35);
    let arrivals = [
        // Arrive newest first: the older two are history.
        vtp_body("18000000103", 500, "12/11/2025 10:00:00"),
        vtp_body("18000000103", 300, "12/11/2025 09:00:00"),
        vtp_body("18000000103", 105, "12/11/2025 08:00:00"),
        // A failed attempt; then a move back to in_transit, which no back-edge allows; then
        // a new attempt, which one does.
        failed,
        vtp_body("18000000103", 509, "12/11/2025 12:00:00"),
        vtp_body("18000000103", 550, "13/11/2025 08:00:00"),
        // The first attempt's redelivery request, late: older than the new attempt.
        vtp_body("18000000103", 508, "12/11/2025 10:30:00"),
    ];
    for body in &arrivals {
        assert_eq!(send(&app, body).await, 200);
        drain(&app).await;
    }
    assert_eq!(
        courier_events(&app, &id).await,
        [
            "500:applied",
            "300:out_of_order",
            "105:out_of_order",
            "506:applied",
            "509:refused",
            "550:applied",
            "508:out_of_order"
        ]
    );
    let (state, reason, last, _) = delivery_state(&app, &id).await;
    assert_eq!((state.as_str(), reason), ("out_for_delivery", None));
    assert_eq!(last, Some(utc("2025-11-13 01:00:00")));
}

#[tokio::test]
async fn forged_or_missing_tokens_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    delivery(&app, VTP, Some("18000000104")).await;
    let mut forged = vtp_body("18000000104", 501, "12/11/2025 08:00:00");
    forged["TOKEN"] = json!("0333333333");
    let (status, problem) = post_hook(&app, VTP, &bytes(&forged)).await;
    assert_eq!(status, 401);
    assert_eq!(problem["_problem"], true);
    assert_eq!(problem["type"], "urn:civicpost:problem:unauthorized");
    // The secret in the Authorization header alone is not enough: the body TOKEN decides.
    let res = app
        .client
        .post(app.url("/v1/webhooks/viettelpost"))
        .header("Authorization", VIETTEL_WEBHOOK_TOKEN)
        .json(&forged)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    let mut missing = forged.clone();
    if let Some(fields) = missing.as_object_mut() {
        fields.remove("TOKEN");
    }
    assert_eq!(post_hook(&app, VTP, &bytes(&missing)).await.0, 401);
    // Judged on the credential before the rest: a forged body with a broken DATA is 401.
    let broken = json!({"DATA": {"ORDER_STATUS": "x"}, "TOKEN": 42});
    assert_eq!(post_hook(&app, VTP, &bytes(&broken)).await.0, 401);
    let array = json!([{"ORDER_NUMBER": "1"}, VIETTEL_WEBHOOK_TOKEN]);
    assert_eq!(post_hook(&app, VTP, &bytes(&array)).await.0, 401);
    assert!(inbox(&app).await.is_empty());
    assert!(counted(
        &app,
        "civicpost_webhooks_rejected_total{courier=\"viettelpost\",reason=\"unauthenticated\"}"
    ));
}

#[tokio::test]
async fn unreadable_bodies_are_400_and_oversized_413() {
    let app = TestApp::spawn().await;
    let good = bytes(&vtp_body("18000000105", 500, "12/11/2025 08:00:00"));
    let truncated = &good[..good.len() / 2];
    let (status, problem) = post_hook(&app, VTP, truncated).await;
    assert_eq!((status, problem["_problem"].clone()), (400, json!(true)));
    let mut wrong_type = vtp_body("18000000105", 500, "12/11/2025 08:00:00");
    wrong_type["DATA"]["ORDER_STATUS"] = json!("phát thành công");
    assert_eq!(post_hook(&app, VTP, &bytes(&wrong_type)).await.0, 400);
    let mut bad_date = vtp_body("18000000105", 500, "2025-11-12 08:00:00");
    bad_date["DATA"]["ORDER_STATUSDATE"] = json!("2025-11-12 08:00:00");
    assert_eq!(post_hook(&app, VTP, &bytes(&bad_date)).await.0, 400);
    let data_list = json!({"DATA": [], "TOKEN": VIETTEL_WEBHOOK_TOKEN});
    assert_eq!(post_hook(&app, VTP, &bytes(&data_list)).await.0, 400);
    let mut huge = vtp_body("18000000105", 500, "12/11/2025 08:00:00");
    huge["DATA"]["NOTE"] = json!("x".repeat(300 * 1024));
    let (status, problem) = post_hook(&app, VTP, &bytes(&huge)).await;
    assert_eq!(status, 413);
    assert_eq!(problem["type"], "urn:civicpost:problem:payload-too-large");
    assert!(inbox(&app).await.is_empty());
    let jobs: i64 = app
        .query(|c| Ok(outbox_jobs::table.count().get_result(c)?))
        .await;
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn unknown_codes_and_unknown_orders_are_kept_for_the_operator() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000106")).await;
    let arrivals = [
        vtp_body("18000000106", 999, "12/11/2025 08:00:00"),
        // A known code that is not a state change (waybill edited).
        vtp_body("18000000106", 202, "12/11/2025 08:05:00"),
        // Nobody's parcel.
        vtp_body("18099999999", 501, "12/11/2025 08:00:00"),
    ];
    for body in &arrivals {
        assert_eq!(send(&app, body).await, 200);
        drain(&app).await;
    }
    assert_eq!(state_of(&app, &id).await, "awaiting_pickup");
    assert_eq!(
        courier_events(&app, &id).await,
        ["999:unknown_code", "202:informational"]
    );
    assert!(jobs(&app, &id, "notify").await.is_empty());
    let unknown = app.query(|c| events_store::unknown_codes(c, 10)).await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        (
            unknown[0].delivery_id.as_str(),
            unknown[0].raw_code.as_deref()
        ),
        (id.as_str(), Some("999"))
    );
    assert_eq!(
        inbox(&app).await,
        [
            "viettelpost processed unknown_code=1",
            "viettelpost processed informational=1",
            "viettelpost ignored unknown_order=1"
        ]
    );
    let ignored = app
        .query(|c| inbox_store::list(c, inbox_store::IGNORED, 10))
        .await;
    assert_eq!(ignored.len(), 1);
}

#[tokio::test]
async fn a_burst_ends_where_the_timeline_ends() {
    let app = TestApp::spawn().await;
    let id = delivery(&app, VTP, Some("18000000109")).await;
    // A whole journey delivered at once, newest first, and processed side by side.
    let steps = [
        (501, "14/11/2025 10:00:00"),
        (500, "14/11/2025 08:00:00"),
        (550, "13/11/2025 08:00:00"),
        (506, "12/11/2025 11:00:00"),
        (500, "12/11/2025 10:00:00"),
        (300, "11/11/2025 18:00:00"),
        (105, "11/11/2025 11:00:00"),
    ];
    for (code, at) in steps {
        assert_eq!(send(&app, &vtp_body("18000000109", code, at)).await, 200);
    }
    assert_eq!(drain(&app).await, steps.len());
    let (state, _, last, ended) = delivery_state(&app, &id).await;
    assert_eq!(state, "delivered");
    assert_eq!((last, ended), (Some(utc("2025-11-14 03:00:00")), last));
    let history = courier_events(&app, &id).await;
    assert_eq!(history.len(), steps.len());
    assert!(history.contains(&"501:applied".to_owned()), "{history:?}");
    assert_eq!(
        jobs(&app, &id, "notify").await.last().map(String::as_str),
        Some("delivered")
    );
}

#[tokio::test]
async fn both_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    for courier in ["viettelpost", "vnpost"] {
        let route = &doc["paths"][format!("/v1/webhooks/{courier}")]["post"];
        assert_eq!(route["tags"][0], "webhooks", "{courier}");
        assert!(route["responses"]["401"].is_object(), "{courier}");
    }
}
