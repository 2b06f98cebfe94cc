//! The pull fallback: parcels whose webhooks were lost are refreshed from VNPost's history,
//! once per stale period, without recording an event twice. Both backends, real HTTP.

mod common;

use std::time::Duration;

use civicpost::jobs::pull::pull_once;
use common::TestApp;
use common::couriers::dispatch_settings;
use serde_json::json;

#[tokio::test]
async fn quiet_vnpost_parcels_are_refreshed_from_the_history_once() {
    let mut settings = dispatch_settings();
    settings["couriers"]["pull"] = json!({"stale_after_secs": 2});
    let app = TestApp::spawn_with(settings).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let hanoi = app.enqueue_delivery(&key, "H29-260301-0001", "00070").await;
    let hcm = app.enqueue_delivery(&key, "H29-260301-0002", "25747").await;
    app.drain_jobs(Duration::from_secs(10)).await;
    let item = app
        .delivery(&hanoi)
        .courier_tracking_number
        .expect("VNPost item");
    assert_eq!(app.delivery(&hcm).courier, "viettelpost");

    // Three statuses whose webhooks never arrive, a second later (couriers stamp to the second).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    app.sim_control(
        "vnpost",
        "advance",
        json!({"itemCode": item, "statuses": [6, 10, 12], "webhookUrl": "http://127.0.0.1:9/"}),
    )
    .await;
    assert_eq!(app.delivery(&hanoi).state, "awaiting_pickup");
    // The citizen's page, read (and cached) before the pull.
    let page = format!("/v1/track/{}", app.delivery(&hanoi).tracking_code);
    let (_, view) = app.get_json(&page).await;
    assert_eq!(view["state"], "awaiting_pickup");
    assert_eq!(
        view["courier"]["tracking_url"],
        format!("https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key={item}").as_str()
    );
    let nothing_yet = pull_once(&app.state).await.expect("pull");
    assert_eq!(nothing_yet.asked, 0, "not quiet for long enough yet");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let first = pull_once(&app.state).await.expect("pull");
    // The history starts with VNPost's own "order accepted" (1): recorded, changing nothing.
    assert_eq!(
        (first.asked, first.recorded, first.failed),
        (1, 4, 0),
        "{first:?}"
    );
    assert_eq!(app.delivery(&hanoi).state, "out_for_delivery");
    let (_, view) = app.get_json(&page).await;
    assert_eq!(
        view["state"], "out_for_delivery",
        "pulled events reach the page at once"
    );
    assert_eq!(
        app.delivery_states(&hanoi),
        [
            "received",
            "awaiting_pickup",
            "picked_up",
            "in_transit",
            "out_for_delivery"
        ]
    );
    assert_eq!(
        app.delivery(&hcm).state,
        "awaiting_pickup",
        "Viettel Post has no history"
    );

    let again = pull_once(&app.state).await.expect("pull");
    assert_eq!(again.asked, 0, "asked once per stale period");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = pull_once(&app.state).await.expect("pull");
    assert_eq!(
        (later.asked, later.recorded),
        (1, 0),
        "known events are not recorded again"
    );
}
