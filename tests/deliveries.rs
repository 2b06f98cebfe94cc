//! Intake and reading of deliveries, on both backends, over real HTTP.

mod common;

use civicpost::store::schema::{deliveries, outbox_jobs};
use common::TestApp;
use diesel::prelude::*;
use serde_json::{Value, json};

fn body(dossier: &str) -> Value {
    json!({
        "dossier_code": dossier,
        "procedure_name": "Cấp giấy phép xây dựng",
        "recipient": {
            "name": "Nguyễn Văn An",
            "phone": "0912 345 678",
            "email": "an.nguyen@example.vn",
            "address": { "line": "Số 12 ngõ 3 Đội Cấn", "ward_code": "00004" }
        },
        "parcel": { "weight_grams": 150 }
    })
}

async fn post(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/v1/deliveries"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("get");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn count_deliveries(app: &TestApp) -> i64 {
    app.query(|c| Ok(deliveries::table.count().get_result(c)?))
        .await
}

#[tokio::test]
async fn a_delivery_is_created_routed_and_queued_in_one_go() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let res = app
        .client
        .post(app.url("/v1/deliveries"))
        .bearer_auth(&key)
        .json(&body("H42-260315-0001"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let d: Value = res.json().await.expect("json");
    assert_eq!(
        location,
        format!("/v1/deliveries/{}", d["id"].as_str().unwrap_or_default())
    );
    assert_eq!(d["state"], "received");
    assert_eq!(d["recipient"]["phone"], "+84912345678");
    assert_eq!(d["recipient"]["address"]["ward"]["name"], "Phường Ba Đình");
    assert_eq!(d["recipient"]["address"]["province"]["code"], "01");
    assert_eq!(d["routing"]["courier"], "vnpost");
    let code = d["tracking_code"].as_str().unwrap_or_default();
    assert!(
        civicpost::domain::tracking::TrackingCode::parse(code).is_ok(),
        "{code}"
    );
    assert!(
        d["tracking_url"]
            .as_str()
            .is_some_and(|u| u.contains("/track/"))
    );
    assert_eq!(
        uuid::Uuid::parse_str(d["id"].as_str().unwrap_or_default())
            .map(|u| u.get_version_num())
            .ok(),
        Some(7)
    );

    let (status, events) = get(&app, &key, &format!("{location}/events")).await;
    assert_eq!(status, 200);
    assert_eq!(events[0]["state"], "received");
    let id = d["id"].as_str().unwrap_or_default().to_owned();
    let jobs: Vec<(String, String)> = app
        .query(move |c| {
            Ok(outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(id))
                .select((outbox_jobs::kind, outbox_jobs::status))
                .load(c)?)
        })
        .await;
    assert_eq!(jobs, [("dispatch".to_owned(), "pending".to_owned())]);
}

#[tokio::test]
async fn replays_are_idempotent_and_changes_are_conflicts() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let (s1, first) = post(&app, &key, &body("D-1")).await;
    assert_eq!(s1, 201);
    // The same request written differently (phone format, extra spaces, NFD text) is the same request.
    let mut same = body("D-1");
    same["recipient"]["phone"] = json!("+84 912.345.678");
    same["recipient"]["name"] = json!("  Nguye\u{0302}\u{0303}n Văn An ");
    let (s2, second) = post(&app, &key, &same).await;
    assert_eq!(s2, 200, "{second}");
    assert_eq!(first["id"], second["id"]);

    let mut changed = body("D-1");
    changed["recipient"]["name"] = json!("Trần Thị Bình");
    changed["parcel"]["weight_grams"] = json!(200);
    let (s3, problem) = post(&app, &key, &changed).await;
    assert_eq!(s3, 409);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["parcel.weight_grams", "recipient.name"],
        "{problem}"
    );
    assert_eq!(count_deliveries(&app).await, 1);
}

#[tokio::test]
async fn idempotency_key_is_honoured() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let send = |dossier: &str| {
        app.client
            .post(app.url("/v1/deliveries"))
            .bearer_auth(&key)
            .header("Idempotency-Key", "5c1f-retry-1")
            .json(&body(dossier))
            .send()
    };
    assert_eq!(send("K-1").await.expect("post").status(), 201);
    assert_eq!(send("K-1").await.expect("post").status(), 200);
    let res = send("K-2").await.expect("post");
    assert_eq!(res.status(), 409, "same key, different body");
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "dossier_code");
    assert_eq!(count_deliveries(&app).await, 1);
}

#[tokio::test]
async fn twenty_racing_identical_posts_create_exactly_one_delivery() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let request = body("RACE-1");
    let posts = (0..20).map(|_| {
        let client = app.client.clone();
        let url = app.url("/v1/deliveries");
        let (key, request) = (key.clone(), request.clone());
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .json(&request)
                .send()
                .await
                .expect("post");
            let status = res.status().as_u16();
            let v: Value = res.json().await.expect("json");
            (status, v["id"].as_str().unwrap_or_default().to_owned())
        })
    });
    let results: Vec<(u16, String)> = futures_util::future::join_all(posts)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let replayed = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, 19), "{results:?}");
    assert!(
        results.iter().all(|(_, id)| *id == results[0].1),
        "all answer with the same delivery"
    );
    assert_eq!(count_deliveries(&app).await, 1);
    let jobs: i64 = app
        .query(|c| Ok(outbox_jobs::table.count().get_result(c)?))
        .await;
    assert_eq!(jobs, 1, "one dispatch job");
}

#[tokio::test]
async fn every_invalid_field_is_reported_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let mut bad = body("");
    bad["recipient"]["phone"] = json!("0243 826 1234");
    bad["recipient"]["name"] = json!("Nguyễn ".repeat(30));
    bad["recipient"]["email"] = json!("not-an-email");
    bad["recipient"]["address"] = json!({ "line": "Thôn 3", "ward_code": "99999" });
    bad["parcel"]["weight_grams"] = json!(0);
    bad["payment"] = json!({ "collect_on_delivery_vnd": -5 });
    let (status, problem) = post(&app, &key, &bad).await;
    assert_eq!(status, 400);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    fields.sort();
    assert_eq!(
        fields,
        [
            "dossier_code",
            "parcel.weight_grams",
            "payment.collect_on_delivery_vnd",
            "recipient.address.ward_code",
            "recipient.email",
            "recipient.name",
            "recipient.phone",
        ],
        "{problem}"
    );
    let name_error = problem["errors"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["field"] == "recipient.name"))
        .cloned()
        .unwrap_or_default();
    assert!(
        name_error["message"]
            .as_str()
            .is_some_and(|m| m.contains("bytes")),
        "{name_error}"
    );
    assert_eq!(count_deliveries(&app).await, 0);
}

#[tokio::test]
async fn addresses_in_every_form() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let cases = [
        (
            "A-1",
            json!({ "line": "Số 5 phố Phúc Xá", "legacy_ward_code": "00001" }),
            "00097",
        ),
        (
            "A-2",
            json!({ "line": "Số 1", "ward_name": "phường ba đình", "province_name": "Hà Nội" }),
            "00004",
        ),
        (
            "A-3",
            json!({ "line": "Số 1", "lat": 21.0368, "lon": 105.8345 }),
            "00004",
        ),
    ];
    for (dossier, address, ward) in cases {
        let mut request = body(dossier);
        request["recipient"]["address"] = address;
        let (status, d) = post(&app, &key, &request).await;
        assert_eq!(status, 201, "{dossier}: {d}");
        assert_eq!(d["recipient"]["address"]["ward"]["code"], ward, "{dossier}");
    }
}

#[tokio::test]
async fn keys_and_agencies_are_checked() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let res = app
        .client
        .post(app.url("/v1/deliveries"))
        .json(&body("X"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let (status, _) = post(
        &app,
        "cpa_aaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        &body("X"),
    )
    .await;
    assert_eq!(status, 401);
    let operator = app.operator_key();
    assert_eq!(post(&app, &operator, &body("X")).await.0, 403);
    app.query(|c| {
        civicpost::store::agencies::set_active(c, "H42", false)
            .map_err(|e| civicpost::store::StoreError::Task(e.to_string()))
    })
    .await;
    assert_eq!(post(&app, &key, &body("X")).await.0, 403);
    assert_eq!(count_deliveries(&app).await, 0);
}

#[tokio::test]
async fn agencies_see_only_their_own_deliveries() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.agency_key("A"), app.agency_key("B"));
    let (_, d) = post(&app, &a, &body("SHARED-CODE")).await;
    let id = d["id"].as_str().unwrap_or_default();
    assert_eq!(get(&app, &b, &format!("/v1/deliveries/{id}")).await.0, 404);
    assert_eq!(
        get(&app, &b, &format!("/v1/deliveries/{id}/events"))
            .await
            .0,
        404
    );
    let cancel = app
        .client
        .post(app.url(&format!("/v1/deliveries/{id}/cancel")))
        .bearer_auth(&b)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), 404);
    // The same dossier code belongs to each agency separately.
    assert_eq!(post(&app, &b, &body("SHARED-CODE")).await.0, 201);
    let (_, page) = get(&app, &b, "/v1/deliveries").await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(get(&app, &a, &format!("/v1/deliveries/{id}")).await.0, 200);
    assert_eq!(get(&app, &a, "/v1/deliveries/not-a-uuid").await.0, 404);
}

#[tokio::test]
async fn listing_pages_newest_first_with_filters() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    for i in 0..5 {
        assert_eq!(post(&app, &key, &body(&format!("L-{i}"))).await.0, 201);
    }
    let (_, page1) = get(&app, &key, "/v1/deliveries?limit=2").await;
    let codes = |p: &Value| {
        p["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["dossier_code"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(codes(&page1), ["L-4", "L-3"]);
    let cursor = page1["next_cursor"].as_str().unwrap_or_default().to_owned();
    let (_, page2) = get(
        &app,
        &key,
        &format!("/v1/deliveries?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(codes(&page2), ["L-2", "L-1"]);
    let (_, one) = get(&app, &key, "/v1/deliveries?dossier_code=L-3").await;
    assert_eq!(codes(&one), ["L-3"]);
    let (_, none) = get(&app, &key, "/v1/deliveries?state=delivered").await;
    assert_eq!(codes(&none), Vec::<String>::new());
    let (status, problem) = get(
        &app,
        &key,
        "/v1/deliveries?state=teleported&limit=500&created_from=yesterday",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem["errors"].as_array().map(Vec::len),
        Some(3),
        "{problem}"
    );
}

#[tokio::test]
async fn cancel_before_pickup_only() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let (_, d) = post(&app, &key, &body("C-1")).await;
    let id = d["id"].as_str().unwrap_or_default().to_owned();
    let url = app.url(&format!("/v1/deliveries/{id}/cancel"));
    let res = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .json(&json!({"reason": "Công dân nhận trực tiếp"}))
        .send()
        .await
        .expect("cancel");
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["state"], "cancelled");
    let again = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("cancel");
    assert_eq!(again.status(), 200, "cancelling twice is harmless");
    let job_id = id.clone();
    let status: String = app
        .query(move |c| {
            Ok(outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(job_id))
                .filter(outbox_jobs::kind.eq("dispatch"))
                .select(outbox_jobs::status)
                .first(c)?)
        })
        .await;
    assert_eq!(status, "cancelled", "the dispatch job is withdrawn");

    let (_, d2) = post(&app, &key, &body("C-2")).await;
    let id2 = d2["id"].as_str().unwrap_or_default().to_owned();
    let moved = id2.clone();
    app.query(move |c| {
        Ok(diesel::update(deliveries::table.find(moved))
            .set(deliveries::state.eq("in_transit"))
            .execute(c)?)
    })
    .await;
    let res = app
        .client
        .post(app.url(&format!("/v1/deliveries/{id2}/cancel")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("cancel");
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("in_transit")),
        "{problem}"
    );
}

#[tokio::test]
async fn hostile_input_gets_a_precise_4xx_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let key = app.agency_key("H42");
    let raw = |payload: Vec<u8>| {
        app.client
            .post(app.url("/v1/deliveries"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(payload)
            .send()
    };

    let res = raw(b"{\"dossier_code\": \"X\",".to_vec())
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let res = raw(b"{\"dossier_code\": \"\xff\xfe\"}".to_vec())
        .await
        .expect("post");
    assert_eq!(res.status(), 400, "invalid UTF-8");
    let mut wrong_type = body("T-1");
    wrong_type["parcel"]["weight_grams"] = json!("heavy");
    let (status, problem) = post(&app, &key, &wrong_type).await;
    assert_eq!(status, 400);
    assert_eq!(
        problem["errors"][0]["field"], "parcel.weight_grams",
        "{problem}"
    );
    let mut typo = body("T-2");
    typo["recipient"]["phon"] = json!("0912345678");
    let (status, problem) = post(&app, &key, &typo).await;
    assert_eq!(status, 400);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("phon")),
        "{problem}"
    );
    let mut huge = body("T-3");
    huge["recipient"]["name"] = json!("A".repeat(10 * 1024 * 1024));
    assert_eq!(post(&app, &key, &huge).await.0, 413);
    assert_eq!(count_deliveries(&app).await, 0);

    // SQL-looking text is data like any other.
    let mut sql = body("'; DROP TABLE deliveries; --");
    sql["recipient"]["address"]["line"] = json!("1' OR '1'='1");
    let (status, d) = post(&app, &key, &sql).await;
    assert_eq!(status, 201);
    assert_eq!(d["dossier_code"], "'; DROP TABLE deliveries; --");
    assert_eq!(count_deliveries(&app).await, 1);
}
