//! The HTTP skeleton over real sockets: health, readiness, docs, metrics, errors, units.

mod common;

use common::TestApp;
use serde_json::json;

fn assert_problem(res: &reqwest::Response) {
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(ct, "application/problem+json", "problem content type");
}

#[tokio::test]
async fn health_docs_and_openapi_are_served() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().contains_key("x-request-id"),
        "request id on every response"
    );

    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["redis"], "not configured");

    let res = app.get("/docs").await;
    assert_eq!(res.status(), 308);
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "swagger page");
    let js = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(js.status(), 200, "assets ship with the binary");

    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/units/wards/{code}",
        "/v1/units/resolve",
        "/v1/units/locate",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Handlers mounted in a scope document the scope's prefix too (the reports and the
    // failure queue once appeared as "/summary" and "").
    for path in doc["paths"].as_object().expect("paths").keys() {
        assert!(
            path.starts_with("/v1/")
                || ["/healthz", "/readyz", "/metrics"].contains(&path.as_str()),
            "{path:?} is not where the handler answers"
        );
    }
    for path in [
        "/v1/reports/summary",
        "/v1/admin/failures",
        "/v1/admin/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = TestApp::spawn().await;
    app.get("/v1/units/wards/00004").await;
    let body = app.get("/metrics").await.text().await.expect("metrics");
    assert!(body.contains("civicpost_http_requests_total"), "{body}");
    assert!(
        body.contains("route=\"/v1/units/wards/{code}\""),
        "pattern, not the raw path"
    );
}

#[tokio::test]
async fn unknown_routes_and_codes_are_problems() {
    let app = TestApp::spawn().await;
    let res = app.get("/nope").await;
    assert_eq!(res.status(), 404);
    assert_problem(&res);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], 404);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:civicpost:problem:"))
    );

    let res = app.get("/v1/units/wards/99999").await;
    assert_eq!(res.status(), 404);
    assert_problem(&res);
    let res = app.get("/v1/units/wards/12a").await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "ward_code");
    assert_eq!(body["errors"][0]["code"], "invalid_format");

    // 23737 is an old code only (Ia Mơ Nông); the answer says to send it as legacy.
    let (status, body) = app.get_json("/v1/units/wards/23737").await;
    assert_eq!(status, 404);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("legacy_ward_code")),
        "{body}"
    );
}

#[tokio::test]
async fn wards_by_code_name_legacy_and_point() {
    let app = TestApp::spawn().await;
    let (status, ward) = app.get_json("/v1/units/wards/00004").await;
    assert_eq!(status, 200);
    assert_eq!(ward["name"], "Phường Ba Đình");
    assert_eq!(ward["province"]["code"], "01");

    let (status, ward) = app
        .get_json("/v1/units/wards?province=H%C3%A0%20N%E1%BB%99i&name=ba%20%C4%91%C3%ACnh")
        .await;
    assert_eq!(status, 200, "{ward}");
    assert_eq!(ward["code"], "00004");

    let (status, legacy) = app.get_json("/v1/units/legacy-wards/00001").await;
    assert_eq!(status, 200);
    assert_eq!(legacy["old_name"], "Phường Phúc Xá");
    assert_eq!(legacy["candidates"][0]["ward"]["code"], "00097");

    // Inside Phường Ba Đình's polygon (Quảng trường Ba Đình).
    let (status, located) = app
        .get_json("/v1/units/locate?lat=21.0368&lon=105.8345")
        .await;
    assert_eq!(status, 200, "{located}");
    assert_eq!(located["resolved_by"], "coordinates");
    assert!(
        located.get("approximate_distance_m").is_none(),
        "polygon hit is exact"
    );
}

#[tokio::test]
async fn malformed_coordinates_name_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("lat=abc&lon=105.8", "query"),
        ("lat=91&lon=105.8", "lat"),
        ("lat=21&lon=200", "lon"),
        ("lat=0&lon=0", "lat"),
    ] {
        let res = app.get(&format!("/v1/units/locate?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        assert_problem(&res);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn resolve_reports_every_problem_precisely() {
    let app = TestApp::spawn().await;
    let post = |body: serde_json::Value| {
        let client = app.client.clone();
        let url = app.url("/v1/units/resolve");
        async move { client.post(url).json(&body).send().await.expect("post") }
    };
    let res = post(json!({"ward_code": "00004", "province_code": "79"})).await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "province_mismatch");

    let res = post(json!({"ward_code": "00004", "legacy_ward_code": "00001"})).await;
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "conflicting_locators");

    let res = post(json!({"ward_kode": "00004"})).await;
    assert_eq!(
        res.status(),
        400,
        "unknown fields are rejected so typos surface"
    );
    let body: serde_json::Value = res.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ward_kode")),
        "{body}"
    );

    let res = app
        .client
        .post(app.url("/v1/units/resolve"))
        .header("content-type", "application/json")
        .body("{\"ward_code\": \"00004\",\n  oops}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    assert_problem(&res);
    let body: serde_json::Value = res.json().await.expect("json");
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("line 2"), "parse position: {message}");

    let huge = format!("{{\"line\": \"{}\"}}", "x".repeat(300 * 1024));
    let res = app
        .client
        .post(app.url("/v1/units/resolve"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);
    assert_problem(&res);

    let res = app
        .client
        .post(app.url("/v1/units/resolve"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn split_legacy_ward_needs_a_decider() {
    let app = TestApp::spawn().await;
    let split = first_split_legacy_code(&app).await;
    let res = app
        .client
        .post(app.url("/v1/units/resolve"))
        .json(&json!({"legacy_ward_code": split.0}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "legacy_ward_split");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    for candidate in &split.1 {
        assert!(
            message.contains(candidate.as_str()),
            "lists {candidate}: {message}"
        );
    }
    // Naming the new ward in the address line decides it.
    let (code, name) = (&split.1[0], &split.2[0]);
    let res = app
        .client
        .post(app.url("/v1/units/resolve"))
        .json(&json!({"legacy_ward_code": split.0, "line": format!("Thôn 1, {name}")}))
        .send()
        .await
        .expect("post");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["ward"]["code"], code.as_str(), "{body}");
    assert_eq!(body["legacy_ward_code"], split.0.as_str());
}

/// The first old ward of the official table that was split, with its candidates' codes and names.
async fn first_split_legacy_code(app: &TestApp) -> (String, Vec<String>, Vec<String>) {
    let data = &app.state.units;
    let link = data
        .legacy_links()
        .iter()
        .find(|l| l.partial)
        .expect("a split ward");
    let old = link.old_ward_code.clone().expect("old code");
    let resolution = data.legacy(&old).expect("resolution");
    let codes = resolution
        .candidates
        .iter()
        .map(|c| c.ward.code.clone())
        .collect();
    let names = resolution
        .candidates
        .iter()
        .map(|c| c.ward.name.clone())
        .collect();
    (old, codes, names)
}
