//! Agencies through the operator API, and who may call the routing and operator endpoints;
//! on SQLite and on PostgreSQL (`CIVICPOST_TEST_DATABASE`).

mod common;

use common::TestApp;
use common::api::problem_fields;
use serde_json::{Value, json};

// Phường Sài Gòn (TP Hồ Chí Minh, 79).
const SAI_GON: &str = "26740";

/// No demo rules or agency: only what each test makes.
async fn bare_app() -> TestApp {
    TestApp::spawn_without_sandbox().await
}

#[tokio::test]
async fn keys_are_checked_on_every_endpoint() {
    let app = bare_app().await;
    let agency = app.agency_key("AGENCY-A");
    let garbage = "cpo_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    for path in [
        "/v1/admin/routing-rules",
        "/v1/admin/agencies",
        "/v1/admin/agencies/AGENCY-A",
        "/v1/routing/preview?ward_code=26740",
    ] {
        let (status, body) = app.send_json(reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, 401, "{path} without a key: {body}");
        let (status, _) = app.get_as(path, garbage).await;
        assert_eq!(status, 401, "{path} with an unknown key");
    }
    for (method, path) in [
        (reqwest::Method::GET, "/v1/admin/routing-rules"),
        (reqwest::Method::POST, "/v1/admin/routing-rules"),
        (reqwest::Method::PATCH, "/v1/admin/routing-rules/x"),
        (
            reqwest::Method::POST,
            "/v1/admin/routing-rules/x/deactivate",
        ),
        (reqwest::Method::GET, "/v1/admin/agencies"),
        (reqwest::Method::POST, "/v1/admin/agencies"),
        (reqwest::Method::PATCH, "/v1/admin/agencies/AGENCY-A"),
    ] {
        let (status, body) = app
            .send_json(method.clone(), path, Some(&agency), Some(json!({})))
            .await;
        assert_eq!(status, 403, "{method} {path} with an agency key: {body}");
    }
    // A disabled agency's key no longer previews.
    let operator = app.operator_key();
    let (status, _) = app
        .patch_as(
            "/v1/admin/agencies/AGENCY-A",
            &operator,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .get_as("/v1/routing/preview?ward_code=26740", &agency)
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("disabled")),
        "{body}"
    );
}

#[tokio::test]
async fn agencies_are_created_and_changed_by_the_operator() {
    let app = bare_app().await;
    let operator = app.operator_key();
    let (status, created) = app
        .post_as(
            "/v1/admin/agencies",
            &operator,
            json!({
                "code": "000.00.01.H29",
                "name": "Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh",
                "sender_ward_code": SAI_GON,
                "sender_line": "Số 86 Lê Thánh Tôn",
                "sender_phone": "028 3829 3236",
                "default_postage_paid_by": "agency",
                "callback_url": "https://motcua.example.gov.vn/hooks/civicpost",
                "callback_secret": "whsec_bWF0LWtoYXUtYmktbWF0LWN1YS1tb3QtY3VhLTIwMjY=",
                "level": "province"
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let agency = &created["agency"];
    assert_eq!(agency["sender_phone"], "02838293236");
    assert_eq!(agency["default_postage_paid_by"], "agency");
    assert_eq!(agency["callback_secret_set"], true);
    assert!(
        !created.to_string().contains("whsec_"),
        "the secret is never returned"
    );
    let key = created["api_key"].as_str().expect("key").to_owned();
    let (status, body) = app
        .get_as(&format!("/v1/routing/preview?ward_code={SAI_GON}"), &key)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agency_code"], "000.00.01.H29", "the new key works");

    let (status, body) = app
        .post_as(
            "/v1/admin/agencies",
            &operator,
            json!({"code": "000.00.01.H29", "name": "Trùng mã"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(problem_fields(&body), ["code:duplicate"]);

    let (status, body) = app
        .post_as(
            "/v1/admin/agencies",
            &operator,
            json!({"code": "bad code!", "sender_ward_code": "99999", "sender_phone": "12",
                   "default_postage_paid_by": "citizen", "callback_url": "ftp://x",
                   "callback_secret": "short", "level": "district"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        problem_fields(&body),
        [
            "callback_secret:invalid_secret",
            "callback_url:invalid_url",
            "code:invalid_format",
            "default_postage_paid_by:invalid_value",
            "level:invalid_value",
            "name:required",
            "sender_phone:invalid_phone",
            "sender_ward_code:unknown_ward",
        ]
    );
    assert!(
        !body.to_string().contains("short"),
        "secrets are not echoed"
    );
    let (_, list) = app.get_as("/v1/admin/agencies", &operator).await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "nothing written: {list}"
    );

    let path = "/v1/admin/agencies/000.00.01.H29";
    let (status, body) = app
        .patch_as(
            path,
            &operator,
            json!({"name": " ", "sender_ward_code": "1"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem_fields(&body),
        ["name:empty", "sender_ward_code:invalid_format",]
    );
    let (status, changed) = app
        .patch_as(
            path,
            &operator,
            json!({"sender_phone": "+84 912 345 678", "callback_url": null,
                   "callback_secret": null, "active": false}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["sender_phone"], "0912345678");
    assert_eq!(changed["callback_url"], Value::Null);
    assert_eq!(changed["callback_secret_set"], false);
    assert_eq!(changed["active"], false);
    assert_eq!(changed["sender_line"], "Số 86 Lê Thánh Tôn", "untouched");
    let (status, _) = app
        .get_as(&format!("/v1/routing/preview?ward_code={SAI_GON}"), &key)
        .await;
    assert_eq!(status, 403, "a disabled agency's key is refused");

    let (status, got) = app.get_as(path, &operator).await;
    assert_eq!(status, 200);
    assert_eq!(got["active"], false);
    let (status, _) = app.get_as("/v1/admin/agencies/NOPE", &operator).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .patch_as(
            "/v1/admin/agencies/NOPE",
            &operator,
            json!({"active": true}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .patch_as(path, &operator, json!({"callback_secrets": "x"}))
        .await;
    assert_eq!(status, 400, "unknown fields are refused");
}
