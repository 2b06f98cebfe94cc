//! The operator's reports against a hand-computed data set (tests/reports/fixture.rs), on
//! SQLite and on PostgreSQL (`CIVICPOST_TEST_DATABASE`).

mod common;
#[path = "reports/fixture.rs"]
mod fixture;

use common::TestApp;
use common::api::problem_fields;
use serde_json::{Value, json};

const PERIOD: &str = "from=2026-11-01&to=2026-11-03";

async fn app() -> TestApp {
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    app
}

fn find<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .and_then(|a| a.iter().find(|r| r[key] == value))
        .unwrap_or_else(|| panic!("no row with {key}={value} in {rows}"))
}

#[tokio::test]
async fn summary_figures_match_the_hand_computed_fixture() {
    let app = app().await;
    let key = app.operator_key();
    let (status, r) = app
        .get_as(&format!("/v1/reports/summary?{PERIOD}"), &key)
        .await;
    assert_eq!(status, 200, "{r}");

    // Deliveries 1–6 and 8; 7 was enqueued the evening before the period (local time).
    let t = &r["totals"];
    assert_eq!(t["deliveries"], 7, "{t}");
    // 1, 2, 3 and 6 delivered; on time: 1 (10 h ≤ 48), 3 (20 h ≤ 48), 6 (50 h ≤ 72); 2 was
    // 30 h against 24.
    assert_eq!(
        (t["delivered"].clone(), t["on_time"].clone()),
        (json!(4), json!(3))
    );
    assert_eq!(t["on_time_rate"], 0.75);
    // Times 10, 20, 30, 50 h: nearest-rank median the 2nd (20 h), p90 the 4th (50 h).
    assert_eq!(
        (t["median_hours"].clone(), t["p90_hours"].clone()),
        (json!(20.0), json!(50.0))
    );
    assert_eq!(
        (t["returned"].clone(), t["ended"].clone()),
        (json!(1), json!(5))
    );

    let states = &r["by_state"];
    for (state, n) in [
        ("delivered", 4),
        ("returned", 1),
        ("in_transit", 1),
        ("dispatch_failed", 1),
    ] {
        assert_eq!(find(states, "state", state)["count"], n, "{state}");
    }
    assert_eq!(
        find(states, "state", "delivered")["label"],
        "Đã giao thành công"
    );

    // vnpost: 1, 2, 4, 6, 8; delivered 1, 2, 6 (10, 30, 50 h); two failed attempts on 4.
    let vn = find(&r["couriers"], "courier", "vnpost");
    assert_eq!(vn["deliveries"], 5);
    assert_eq!(
        (vn["delivered"].clone(), vn["on_time"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(
        (vn["failed_attempts"].clone(), vn["returned"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        (vn["median_hours"].clone(), vn["p90_hours"].clone()),
        (json!(30.0), json!(50.0))
    );
    // viettelpost: 3 and 5; one delivered in 20 h; one failed attempt on 5.
    let vt = find(&r["couriers"], "courier", "viettelpost");
    assert_eq!(
        (vt["deliveries"].clone(), vt["delivered"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        (vt["failed_attempts"].clone(), vt["median_hours"].clone()),
        (json!(1), json!(20.0))
    );

    let w = find(&r["wards"], "ward_code", fixture::NGOC_HA);
    assert_eq!(w["ward_name"], "Phường Ngọc Hà");
    assert_eq!(
        (
            w["deliveries"].clone(),
            w["delivered"].clone(),
            w["returned"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(
        find(&r["wards"], "ward_code", fixture::THU_DAU_MOT)["deliveries"],
        3
    );
    assert_eq!(
        find(&r["wards"], "ward_code", fixture::BA_DINH)["on_time"],
        1
    );

    // Only events of deliveries in the period: 7's incorrect_address is left out.
    let failed = r["failed_attempt_reasons"].as_array().expect("reasons");
    assert_eq!(failed.len(), 2, "{failed:?}");
    let not_home = find(&r["failed_attempt_reasons"], "reason", "consignee_not_home");
    assert_eq!(
        (not_home["count"].clone(), not_home["courier"].clone()),
        (json!(2), json!("vnpost"))
    );
    assert_eq!(not_home["label"], "Người nhận vắng nhà");
    let returns = &r["return_reasons"];
    assert_eq!(find(returns, "reason", "repeated_failures")["count"], 1);

    let daily = r["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 3);
    assert_eq!(
        (daily[0]["day"].clone(), daily[0]["total"].clone()),
        (json!("2026-11-01"), json!(2))
    );
    assert_eq!(daily[1]["by_state"], json!({"delivered": 1, "returned": 1}));
    assert_eq!(
        daily[2]["by_state"],
        json!({"delivered": 1, "dispatch_failed": 1, "in_transit": 1})
    );

    // A1 (province, target 50 %): 2 + 2 by post on days it reported 5 + 10 → 26.7 %.
    let a1 = find(&r["share_by_post"], "agency", "A1");
    assert_eq!(
        (a1["by_post"].clone(), a1["results_total"].clone()),
        (json!(4), json!(15))
    );
    assert_eq!(
        (a1["share_percent"].clone(), a1["target_percent"].clone()),
        (json!(26.7), json!(50.0))
    );
    assert_eq!(a1["meets_target"], false);
    // A2 (district, 20 %): 3 by post on 11-03; reported 4 (11-02) + 10 (11-03) → 3/14.
    let a2 = find(&r["share_by_post"], "agency", "A2");
    assert_eq!(
        (
            a2["by_post_on_reported_days"].clone(),
            a2["results_total"].clone()
        ),
        (json!(3), json!(14))
    );
    assert_eq!(
        (a2["share_percent"].clone(), a2["meets_target"].clone()),
        (json!(21.4), json!(true))
    );
    assert_eq!(a2["days_reported"], 2);
}

#[tokio::test]
async fn filters_narrow_the_report_and_agencies_see_only_their_own() {
    let app = app().await;
    let op = app.operator_key();
    let (_, r) = app
        .get_as(&format!("/v1/reports/summary?{PERIOD}&province=79"), &op)
        .await;
    assert_eq!(r["totals"]["deliveries"], 3, "{r}");
    assert_eq!(r["province"], "79");
    let (_, r) = app
        .get_as(&format!("/v1/reports/summary?{PERIOD}&agency=A1"), &op)
        .await;
    assert_eq!(r["totals"]["deliveries"], 4, "{r}");
    assert_eq!(r["share_by_post"].as_array().map(Vec::len), Some(1));

    let a2 = app.agency_key("A2");
    let (status, r) = app
        .get_as(&format!("/v1/reports/summary?{PERIOD}"), &a2)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (r["agency"].clone(), r["totals"]["deliveries"].clone()),
        (json!("A2"), json!(3))
    );
    let (status, _) = app
        .get_as(&format!("/v1/reports/summary?{PERIOD}&agency=A1"), &a2)
        .await;
    assert_eq!(status, 403);

    // One day: 2026-11-01 only.
    let (_, r) = app
        .get_as("/v1/reports/states?from=2026-11-01&to=2026-11-01", &op)
        .await;
    assert_eq!(
        r,
        json!([{"state": "delivered", "label": "Đã giao thành công", "count": 2}])
    );
}

#[tokio::test]
async fn sections_download_as_csv() {
    let app = app().await;
    let op = app.operator_key();
    let res = app
        .client
        .get(app.url(&format!("/v1/reports/couriers?{PERIOD}&format=csv")))
        .bearer_auth(&op)
        .send()
        .await
        .expect("csv");
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .expect("header")
        .to_owned();
    assert!(
        disposition.contains("civicpost-couriers-2026-11-01-2026-11-03.csv"),
        "{disposition}"
    );
    let body = res.text().await.expect("body");
    let mut lines = body.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some(
            "courier,deliveries,delivered,on_time,on_time_rate,returned,ended,failed_attempts,median_hours,p90_hours"
        )
    );
    assert!(
        body.contains("vnpost,5,3,2,0.6666666666666666,1,4,2,30,50"),
        "{body}"
    );

    let res = app
        .client
        .get(app.url(&format!("/v1/reports/wards?{PERIOD}")))
        .header("accept", "text/csv")
        .bearer_auth(&op)
        .send()
        .await
        .expect("csv");
    let body = res.text().await.expect("body");
    assert!(body.contains("00008,Phường Ngọc Hà,01,2,1,1,1,1"), "{body}");
    let (status, _) = app
        .get_as(&format!("/v1/reports/daily?{PERIOD}&format=csv"), &op)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = app().await;
    let op = app.operator_key();
    for (query, field) in [
        ("from=2026-13-01", "from:invalid_period"),
        ("from=2026-11-03&to=2026-11-01", "to:invalid_period"),
        ("from=2020-01-01&to=2026-11-01", "from:invalid_period"),
        ("province=99", "province:unknown_province"),
        ("agency=NOPE", "agency:unknown_agency"),
        ("format=xml", "format:unknown_format"),
    ] {
        let (status, p) = app
            .get_as(&format!("/v1/reports/couriers?{query}"), &op)
            .await;
        assert_eq!(status, 400, "{query}: {p}");
        assert_eq!(problem_fields(&p), vec![field.to_owned()], "{query}");
    }
    let (status, _) = app.get_as("/v1/reports/nothing", &op).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(reqwest::Method::GET, "/v1/reports/summary", None, None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn agencies_report_their_totals_and_bad_entries_change_nothing() {
    let app = app().await;
    let a1 = app.agency_key("A1");
    let body = json!({"totals": [
        {"day": "2026-11-01", "results_total": 8},
        {"day": "2026-11-03", "results_total": 2},
    ]});
    let (status, r) = app
        .send_json(
            reqwest::Method::PUT,
            "/v1/reports/result-totals",
            Some(&a1),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let (_, r) = app
        .get_as(&format!("/v1/reports/result-totals?{PERIOD}"), &a1)
        .await;
    assert_eq!(
        r["totals"],
        json!([
            {"day": "2026-11-01", "results_total": 8},
            {"day": "2026-11-02", "results_total": 10},
            {"day": "2026-11-03", "results_total": 2},
        ])
    );
    // One bad entry among good ones: 400 naming it, and nothing saved.
    let body = json!({"totals": [
        {"day": "2026-11-02", "results_total": 99},
        {"day": "02/11/2026", "results_total": 1},
        {"day": "2026-11-03", "results_total": -1},
    ]});
    let (status, p) = app
        .send_json(
            reqwest::Method::PUT,
            "/v1/reports/result-totals",
            Some(&a1),
            Some(body),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem_fields(&p),
        vec![
            "totals[1].day:invalid_date",
            "totals[2].results_total:out_of_range"
        ]
    );
    let (_, r) = app
        .get_as(&format!("/v1/reports/result-totals?{PERIOD}"), &a1)
        .await;
    assert_eq!(r["totals"][1]["results_total"], 10);
    // The operator must name the agency; an agency may not report for another.
    let op = app.operator_key();
    let body = json!({"totals": [{"day": "2026-11-01", "results_total": 1}]});
    let (status, p) = app
        .send_json(
            reqwest::Method::PUT,
            "/v1/reports/result-totals",
            Some(&op),
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (status, problem_fields(&p)),
        (400, vec!["agency:required".to_owned()])
    );
    let mut other = body;
    other["agency"] = json!("A2");
    let (status, _) = app
        .send_json(
            reqwest::Method::PUT,
            "/v1/reports/result-totals",
            Some(&a1),
            Some(other),
        )
        .await;
    assert_eq!(status, 403);
}
