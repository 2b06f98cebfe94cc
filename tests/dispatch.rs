//! Dispatch against both simulators over real HTTP, on both backends: happy paths, token
//! renewal, faults, fallback, the circuit breaker, failure and retry, cancellation.

mod common;

use std::time::Duration;

use civicpost::couriers::breaker::BreakerState;
use civicpost::couriers::viettelpost::sim::Faults;
use civicpost::domain::courier::Courier;
use common::TestApp;
use common::couriers::dispatch_settings;
use serde_json::json;

/// In Hà Nội: the demo rules send it by VNPost (ETN011).
const HANOI_WARD: &str = "00070";
/// In TP Hồ Chí Minh: the demo rules send it by Viettel Post, VNPost as fallback.
const HCM_WARD: &str = "25747";
/// In Hà Nội too, but a rule of these tests sends it by Viettel Post, VNPost as fallback.
const FALLBACK_WARD: &str = "00025";
const PATIENCE: Duration = Duration::from_secs(10);

async fn app() -> (TestApp, String) {
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let operator = app.operator_key();
    let rule = json!({"ward_code": FALLBACK_WARD, "courier": "viettelpost",
                      "service_code": "VCN", "fallback_courier": "vnpost"});
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/v1/admin/routing-rules",
            Some(&operator),
            Some(rule),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let key = app.sending_agency_key("000.00.01.H29");
    (app, key)
}

fn viettel(app: &TestApp) -> &civicpost::couriers::viettelpost::sim::SimState {
    app.viettel_sim()
}

fn vnpost(app: &TestApp) -> &civicpost::couriers::vnpost::sim::SimState {
    &app.state.simulators.as_ref().expect("simulators").vnpost
}

#[tokio::test]
async fn viettel_post_happy_path_stores_the_order_and_masked_calls() {
    let (app, key) = app().await;
    let id = app
        .enqueue_delivery(&key, "H29-260101-0001", HCM_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;

    let d = app.delivery(&id);
    assert_eq!(d.state, "awaiting_pickup");
    assert_eq!(d.courier, "viettelpost");
    let tracking = d.courier_tracking_number.expect("tracking number");
    assert_eq!(viettel(&app).order_status(&tracking), Some(100));
    assert_eq!(viettel(&app).order_count(), 1);

    let operator = app.operator_key();
    let (status, detail) = app
        .send_json(
            reqwest::Method::GET,
            &format!("/v1/admin/deliveries/{id}"),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert!(
        detail["courier_fee_vnd"]
            .as_i64()
            .is_some_and(|fee| fee > 0)
    );
    let calls = detail["courier_calls"].as_array().expect("calls");
    let operations: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .collect();
    assert!(
        operations.contains(&"/v2/order/getPriceAll"),
        "{operations:?}"
    );
    assert!(
        operations.contains(&"/v2/order/createOrder"),
        "{operations:?}"
    );
    let text = detail.to_string();
    for personal in [
        "0912345678",
        "Nguyễn Văn An",
        "Số 12 ngõ 3",
        "Hoàng Hoa Thám",
    ] {
        assert!(!text.contains(personal), "{personal} kept unmasked");
    }
    let events = app.delivery_states(&id);
    assert_eq!(events, ["received", "awaiting_pickup"]);
}

#[tokio::test]
async fn vnpost_happy_path_uses_the_rule_service() {
    let (app, key) = app().await;
    let id = app
        .enqueue_delivery(&key, "H29-260101-0002", HANOI_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;

    let d = app.delivery(&id);
    assert_eq!(
        (d.state.as_str(), d.courier.as_str()),
        ("awaiting_pickup", "vnpost"),
        "{:?}",
        d.state_reason
    );
    assert_eq!(d.service_code, "ETN011");
    let item = d.courier_tracking_number.expect("itemCode");
    assert!(vnpost(&app).order_status(&item).is_some());
    assert_eq!(vnpost(&app).order_count(), 1);
}

#[tokio::test]
async fn expired_tokens_are_renewed_during_dispatch() {
    let (app, key) = app().await;
    let first = app
        .enqueue_delivery(&key, "H29-260101-0003", HCM_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    let logins = viettel(&app).tokens_issued();
    viettel(&app).expire_tokens();
    let second = app
        .enqueue_delivery(&key, "H29-260101-0004", HCM_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    assert_eq!(app.delivery(&first).state, "awaiting_pickup");
    assert_eq!(app.delivery(&second).state, "awaiting_pickup");
    assert!(
        viettel(&app).tokens_issued() > logins,
        "a new token was obtained"
    );
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried_until_the_order_is_made() {
    let (app, key) = app().await;
    viettel(&app).set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let id = app
        .enqueue_delivery(&key, "H29-260101-0005", HCM_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    assert_eq!(app.delivery(&id).state, "awaiting_pickup");
    assert_eq!(
        app.delivery(&id).courier,
        "viettelpost",
        "one 503 is not a reason to switch"
    );

    // Slower than the 700 ms timeout, once: the next try gets through.
    app.sim_control("vnpost", "faults", json!({"delayMs": 1500}))
        .await;
    let slow = app
        .enqueue_delivery(&key, "H29-260101-0006", HANOI_WARD)
        .await;
    let worker = app.worker();
    worker.run_once().await.expect("pass");
    let d = app.delivery(&slow);
    assert_eq!(d.state, "received", "a timeout leaves the delivery waiting");
    app.sim_control("vnpost", "faults", json!({"delayMs": 0}))
        .await;
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&slow);
    assert_eq!(d.state, "awaiting_pickup");
    assert_eq!(
        vnpost(&app).order_count(),
        1,
        "the timed-out call left no second order"
    );
}

#[tokio::test]
async fn a_refused_route_falls_back_to_the_rule_fallback() {
    let (app, key) = app().await;
    viettel(&app).set_faults(Faults {
        refuse_route: true,
        ..Faults::default()
    });
    let id = app
        .enqueue_delivery(&key, "H29-260101-0007", FALLBACK_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&id);
    assert_eq!(
        (d.state.as_str(), d.courier.as_str()),
        ("awaiting_pickup", "vnpost"),
        "{:?}",
        d.state_reason
    );
    assert_eq!(
        d.service_code, "CTN009",
        "the fallback courier's standard service"
    );
    assert_eq!(viettel(&app).order_count(), 0);
}

#[tokio::test]
async fn an_open_breaker_sends_orders_to_the_fallback_then_half_opens() {
    let (app, key) = app().await;
    viettel(&app).set_faults(Faults {
        fail_next: 1000,
        ..Faults::default()
    });
    let id = app
        .enqueue_delivery(&key, "H29-260101-0008", FALLBACK_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&id);
    assert_eq!(
        (d.state.as_str(), d.courier.as_str()),
        ("awaiting_pickup", "vnpost"),
        "{:?}",
        d.state_reason
    );
    let breaker = app
        .state
        .couriers
        .breaker(Courier::Viettelpost)
        .expect("breaker");
    assert_eq!(breaker.state(), BreakerState::Open);

    // While open, Viettel Post is not called at all.
    let calls_before = viettel(&app).create_calls();
    let second = app
        .enqueue_delivery(&key, "H29-260101-0009", FALLBACK_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    assert_eq!(app.delivery(&second).courier, "vnpost");
    assert_eq!(viettel(&app).create_calls(), calls_before);

    // After open_secs, one probe goes through; Viettel Post is back, so it closes.
    viettel(&app).set_faults(Faults::default());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    let third = app
        .enqueue_delivery(&key, "H29-260101-0010", FALLBACK_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    assert_eq!(app.delivery(&third).courier, "viettelpost");
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn when_every_courier_refuses_the_operator_sees_why_and_can_retry() {
    let (app, key) = app().await;
    viettel(&app).set_faults(Faults {
        refuse_route: true,
        ..Faults::default()
    });
    app.sim_control("vnpost", "faults", json!({"refuseNext": 1000}))
        .await;
    let id = app
        .enqueue_delivery(&key, "H29-260101-0011", FALLBACK_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&id);
    assert_eq!(d.state, "dispatch_failed");
    let reason = d.state_reason.expect("reason");
    assert!(
        reason.contains("viettelpost:") && reason.contains("vnpost:"),
        "{reason}"
    );

    let operator = app.operator_key();
    let (status, queue) = app
        .send_json(
            reqwest::Method::GET,
            "/v1/admin/deliveries?state=dispatch_failed",
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(queue[0]["id"], id.as_str());

    viettel(&app).set_faults(Faults::default());
    let retry = format!("/v1/admin/deliveries/{id}/retry");
    let (status, _) = app
        .send_json(reqwest::Method::POST, &retry, Some(&operator), None)
        .await;
    assert_eq!(status, 202);
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&id);
    assert_eq!(
        (d.state.as_str(), d.courier.as_str()),
        ("awaiting_pickup", "viettelpost")
    );
    let (status, problem) = app
        .send_json(reqwest::Method::POST, &retry, Some(&operator), None)
        .await;
    assert_eq!(status, 409, "{problem}");
    let agency_key = app.agency_key("000.00.01.H30");
    let (status, _) = app
        .send_json(reqwest::Method::POST, &retry, Some(&agency_key), None)
        .await;
    assert_eq!(status, 403, "agencies cannot retry dispatches");
}

#[tokio::test]
async fn an_unmapped_ward_fails_with_an_operator_facing_reason() {
    let app = TestApp::spawn_with(dispatch_settings()).await;
    let key = app.sending_agency_key("000.00.01.H29");
    let id = app
        .enqueue_delivery(&key, "H29-260101-0012", HCM_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    let d = app.delivery(&id);
    assert_eq!(d.state, "dispatch_failed");
    let reason = d.state_reason.expect("reason");
    assert!(reason.contains("civicpost couriers sync-units"), "{reason}");
    assert_eq!(viettel(&app).create_calls(), 0);
}

#[tokio::test]
async fn cancelling_a_dispatched_delivery_cancels_the_courier_order() {
    let (app, key) = app().await;
    let id = app
        .enqueue_delivery(&key, "H29-260101-0013", HCM_WARD)
        .await;
    let other = app
        .enqueue_delivery(&key, "H29-260101-0014", HANOI_WARD)
        .await;
    app.drain_jobs(PATIENCE).await;
    for delivery in [&id, &other] {
        let (status, body) = app
            .send_json(
                reqwest::Method::POST,
                &format!("/v1/deliveries/{delivery}/cancel"),
                Some(&key),
                Some(json!({"reason": "citizen collects at the counter"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    app.drain_jobs(PATIENCE).await;
    let tracking = app.delivery(&id).courier_tracking_number.expect("tracking");
    assert_eq!(viettel(&app).order_status(&tracking), Some(107));
    let item = app.delivery(&other).courier_tracking_number.expect("item");
    assert_eq!(
        vnpost(&app).order_status(&item),
        Some(9),
        "VNPost: cancelled"
    );
    assert_eq!(app.open_jobs(), 0, "the cancel jobs are done");
}
