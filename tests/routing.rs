//! Routing rules and agencies through the operator API, the routing preview, and the rules
//! fixture loader; on SQLite and on PostgreSQL (`CIVICPOST_TEST_DATABASE`).

mod common;

use civicpost::store::routing::{self, DEMO_RULES, FixtureError, FixtureOutcome};
use common::TestApp;
use common::api::problem_fields;
use serde_json::{Value, json};

// Phường Sài Gòn and Xã Cần Giờ (TP Hồ Chí Minh, 79); Phường Ba Đình (Hà Nội, 01).
const SAI_GON: &str = "26740";
const CAN_GIO: &str = "27664";
const BA_DINH: &str = "00004";
// Phường Thục Phán (Cao Bằng, 04): no demo rule names its province.
const CAO_BANG_WARD: &str = "01273";

/// No demo rules: each test starts from an empty rule table.
async fn bare_app() -> TestApp {
    TestApp::spawn_without_sandbox().await
}

async fn create_rule(app: &TestApp, operator: &str, body: Value) -> String {
    let (status, rule) = app.post_as("/v1/admin/routing-rules", operator, body).await;
    assert_eq!(status, 201, "{rule}");
    rule["id"].as_str().expect("rule id").to_owned()
}

async fn preview(app: &TestApp, key: &str, ward: &str) -> Value {
    let (status, body) = app
        .get_as(&format!("/v1/routing/preview?ward_code={ward}"), key)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_most_specific_rule_wins_end_to_end() {
    let app = bare_app().await;
    let operator = app.operator_key();
    let key_a = app.agency_key("AGENCY-A");
    let key_b = app.agency_key("AGENCY-B");

    let global = create_rule(&app, &operator, json!({"courier": "vnpost"})).await;
    let agency = create_rule(
        &app,
        &operator,
        json!({"agency_code": "AGENCY-A", "courier": "viettelpost", "service_code": "VTK"}),
    )
    .await;
    let province = create_rule(
        &app,
        &operator,
        json!({"province_code": "79", "courier": "viettelpost", "service_code": "VCN", "sla_hours": 48, "fallback_courier": "vnpost"}),
    )
    .await;
    let agency_province = create_rule(
        &app,
        &operator,
        json!({"agency_code": "AGENCY-A", "province_code": "79", "courier": "vnpost", "service_code": "ETN011"}),
    )
    .await;
    let ward = create_rule(
        &app,
        &operator,
        json!({"ward_code": SAI_GON, "courier": "vnpost", "service_code": "ETN013", "sla_hours": 24}),
    )
    .await;
    let agency_ward = create_rule(
        &app,
        &operator,
        json!({"agency_code": "AGENCY-A", "province_code": "79", "ward_code": SAI_GON, "courier": "viettelpost", "service_code": "VHT", "sla_hours": 12, "fallback_courier": "vnpost"}),
    )
    .await;

    let cases = [
        (&key_a, SAI_GON, &agency_ward, "agency_ward"),
        (&key_b, SAI_GON, &ward, "ward"),
        (&key_a, CAN_GIO, &agency_province, "agency_province"),
        (&key_b, CAN_GIO, &province, "province"),
        (&key_a, BA_DINH, &agency, "agency_default"),
        (&key_b, BA_DINH, &global, "global_default"),
    ];
    for (key, ward_code, rule_id, specificity) in cases {
        let body = preview(&app, key, ward_code).await;
        assert_eq!(
            body["decision"]["rule_id"],
            json!(rule_id),
            "{ward_code}: {body}"
        );
        assert_eq!(body["decision"]["specificity"], specificity, "{body}");
        assert_eq!(body["rule"]["id"], json!(rule_id));
        assert_eq!(body["rule"]["specificity"], specificity);
    }

    let body = preview(&app, &key_a, SAI_GON).await;
    assert_eq!(
        body["ward"],
        json!({"code": SAI_GON, "name": "Phường Sài Gòn"})
    );
    assert_eq!(
        body["province"],
        json!({"code": "79", "name": "Thành phố Hồ Chí Minh"})
    );
    assert_eq!(body["agency_code"], "AGENCY-A");
    assert_eq!(
        body["decision"],
        json!({"courier": "viettelpost", "service_code": "VHT", "sla_hours": 12,
               "fallback_courier": "vnpost", "rule_id": agency_ward, "specificity": "agency_ward"})
    );

    // An operator sees the rules for everyone, or an agency's when it names one.
    let body = preview(&app, &operator, SAI_GON).await;
    assert_eq!(body["decision"]["rule_id"], json!(ward));
    assert_eq!(body["agency_code"], Value::Null);
    let (status, body) = app
        .get_as(
            &format!("/v1/routing/preview?ward_code={SAI_GON}&agency_code=AGENCY-A"),
            &operator,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"]["rule_id"], json!(agency_ward));

    // Deactivated: the next level down takes over; repeating it is harmless.
    for _ in 0..2 {
        let (status, rule) = app
            .post_as(
                &format!("/v1/admin/routing-rules/{agency_ward}/deactivate"),
                &operator,
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{rule}");
        assert_eq!(rule["active"], false);
    }
    let body = preview(&app, &key_a, SAI_GON).await;
    assert_eq!(body["decision"]["rule_id"], json!(ward));

    // Priority breaks a tie within one level.
    let preferred = create_rule(
        &app,
        &operator,
        json!({"ward_code": SAI_GON, "courier": "viettelpost", "priority": 5}),
    )
    .await;
    let body = preview(&app, &key_b, SAI_GON).await;
    assert_eq!(body["decision"]["rule_id"], json!(preferred));
    assert_eq!(
        body["decision"]["service_code"], "VCN",
        "the courier's standard code"
    );

    let (status, listed) = app
        .get_as("/v1/admin/routing-rules?active=false", &operator)
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, [agency_ward.as_str()]);
    let (_, all) = app.get_as("/v1/admin/routing-rules", &operator).await;
    assert_eq!(all.as_array().map(Vec::len), Some(7));
    assert_eq!(all[0]["specificity"], "agency_ward", "most specific first");
}

#[tokio::test]
async fn with_no_rule_vnpost_carries_it() {
    let app = bare_app().await;
    let key = app.agency_key("AGENCY-A");
    let body = preview(&app, &key, BA_DINH).await;
    assert_eq!(
        body["decision"],
        json!({"courier": "vnpost", "service_code": "CTN009", "sla_hours": 72,
               "fallback_courier": null, "rule_id": null, "specificity": "built_in_default"})
    );
    assert_eq!(body["rule"], Value::Null);
}

#[tokio::test]
async fn preview_refuses_bad_wards_and_other_agencies() {
    let app = bare_app().await;
    let operator = app.operator_key();
    let key = app.agency_key("AGENCY-A");
    app.agency_key("AGENCY-B");

    let (status, body) = app.get_as("/v1/routing/preview?ward_code=123", &key).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(problem_fields(&body), ["ward_code:invalid_format"]);
    let (status, body) = app
        .get_as("/v1/routing/preview?ward_code=99999", &key)
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = app.get_as("/v1/routing/preview", &key).await;
    assert_eq!(status, 400, "ward_code is required");
    let (status, _) = app
        .get_as("/v1/routing/preview?ward_code=26740&color=red", &key)
        .await;
    assert_eq!(status, 400, "unknown parameters are refused");
    let (status, body) = app
        .get_as(
            "/v1/routing/preview?ward_code=26740&agency_code=AGENCY-B",
            &key,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app
        .get_as(
            "/v1/routing/preview?ward_code=26740&agency_code=AGENCY-A",
            &key,
        )
        .await;
    assert_eq!(status, 200, "an agency may name itself");
    let (status, _) = app
        .get_as(
            "/v1/routing/preview?ward_code=26740&agency_code=NOPE",
            &operator,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_rules_name_every_field_and_write_nothing() {
    let app = bare_app().await;
    let operator = app.operator_key();
    let (status, body) = app
        .post_as(
            "/v1/admin/routing-rules",
            &operator,
            json!({"agency_code": "NOPE", "province_code": "99", "ward_code": "1234",
                   "courier": "dhl", "service_code": "", "sla_hours": 0,
                   "fallback_courier": "ups", "priority": 99999}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let expected = [
        "agency_code:unknown_agency",
        "courier:unknown_courier",
        "fallback_courier:unknown_courier",
        "priority:out_of_range",
        "province_code:unknown_province",
        "service_code:invalid_format",
        "sla_hours:out_of_range",
        "ward_code:invalid_format",
    ];
    assert_eq!(problem_fields(&body), expected);

    let (status, body) = app
        .post_as(
            "/v1/admin/routing-rules",
            &operator,
            json!({"province_code": "79", "ward_code": BA_DINH, "fallback_courier": "vnpost", "sla_hours": 721}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem_fields(&body),
        [
            "courier:required",
            "sla_hours:out_of_range",
            "ward_code:ward_not_in_province",
        ]
    );
    let (status, body) = app
        .post_as(
            "/v1/admin/routing-rules",
            &operator,
            json!({"courier": "vnpost", "fallback_courier": "vnpost", "ward_code": "99999"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem_fields(&body),
        ["fallback_courier:same_as_courier", "ward_code:unknown_ward",]
    );
    let (status, _) = app
        .post_as(
            "/v1/admin/routing-rules",
            &operator,
            json!({"courier": "vnpost", "carrier": "x"}),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (_, all) = app.get_as("/v1/admin/routing-rules", &operator).await;
    assert_eq!(all, json!([]), "nothing written");

    // A patch is checked as a whole rule, and an invalid one changes nothing.
    let id = create_rule(
        &app,
        &operator,
        json!({"province_code": "79", "courier": "viettelpost"}),
    )
    .await;
    let path = format!("/v1/admin/routing-rules/{id}");
    let (status, body) = app
        .patch_as(
            &path,
            &operator,
            json!({"ward_code": BA_DINH, "sla_hours": -1}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        problem_fields(&body),
        ["sla_hours:out_of_range", "ward_code:ward_not_in_province",]
    );
    let (_, rule) = app.get_as(&path, &operator).await;
    assert_eq!(rule["ward_code"], Value::Null);
    assert_eq!(rule["sla_hours"], 72);

    let (status, rule) = app
        .patch_as(
            &path,
            &operator,
            json!({"province_code": null, "ward_code": BA_DINH, "courier": "vnpost", "sla_hours": 24}),
        )
        .await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["ward_code"], BA_DINH);
    assert_eq!(rule["province_code"], Value::Null);
    assert_eq!(
        rule["service_code"], "CTN009",
        "new courier, its standard code"
    );
    assert_eq!(rule["specificity"], "ward");

    let (status, _) = app
        .patch_as(
            "/v1/admin/routing-rules/nope",
            &operator,
            json!({"sla_hours": 5}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_as(
            "/v1/admin/routing-rules/nope/deactivate",
            &operator,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn demo_rules_load_in_sandbox_and_reload_as_no_op() {
    let app = TestApp::spawn().await; // sandbox is the default
    let key = app.agency_key("AGENCY-A");
    let body = preview(&app, &key, SAI_GON).await;
    assert_eq!(body["decision"]["rule_id"], "demo-hcm-viettelpost");
    assert_eq!(body["decision"]["fallback_courier"], "vnpost");
    let body = preview(&app, &key, "26732").await;
    assert_eq!(
        body["decision"]["rule_id"], "demo-hcm-con-dao-vnpost",
        "ward beats province"
    );
    let body = preview(&app, &key, "20200").await;
    assert_eq!(body["decision"]["rule_id"], "demo-da-nang-viettelpost");
    let body = preview(&app, &key, BA_DINH).await;
    assert_eq!(body["decision"]["rule_id"], "demo-ha-noi-vnpost-fast");
    let body = preview(&app, &key, CAO_BANG_WARD).await;
    assert_eq!(body["decision"]["rule_id"], "demo-global-vnpost");

    let db = &app.state.db;
    let again = db
        .run_blocking(|conn| routing::load_fixture(conn, DEMO_RULES))
        .expect("reload");
    let rules = DEMO_RULES.matches("[[rule]]").count();
    assert_eq!(
        again,
        FixtureOutcome {
            inserted: 0,
            updated: 0,
            unchanged: rules
        }
    );

    // Changed in the file: updated in place, the others untouched.
    let changed = DEMO_RULES.replace("sla_hours = 120", "sla_hours = 96");
    let outcome = db
        .run_blocking(|conn| routing::load_fixture(conn, &changed))
        .expect("update");
    assert_eq!(
        outcome,
        FixtureOutcome {
            inserted: 0,
            updated: 1,
            unchanged: rules - 1
        }
    );
    let rule = db
        .run_blocking(|conn| routing::get(conn, "demo-hcm-con-dao-vnpost"))
        .expect("get")
        .expect("exists");
    assert_eq!(rule.rule.sla_hours, 96);

    // One bad rule: nothing of the file is written.
    let bad = format!(
        "{changed}\n[[rule]]\nid = \"new-one\"\ncourier = \"vnpost\"\n\n[[rule]]\nid = \"broken\"\nward_code = \"99999\"\ncourier = \"vnpost\"\n"
    );
    let err = db
        .run_blocking(|conn| routing::load_fixture(conn, &bad))
        .expect_err("invalid");
    match err {
        FixtureError::Invalid(errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, format!("rule[{}].ward_code", rules + 1));
        }
        other => panic!("expected field errors, got {other}"),
    }
    let missing = db
        .run_blocking(|conn| routing::get(conn, "new-one"))
        .expect("get");
    assert!(
        missing.is_none(),
        "the valid rule of a bad file is not written"
    );
    let err = db
        .run_blocking(|conn| routing::load_fixture(conn, "[[rule]]\nid = \"x\"\n"))
        .expect_err("parse");
    assert!(matches!(err, FixtureError::Parse(_)), "{err}");
}

#[tokio::test]
async fn routing_and_operator_paths_are_documented_with_bearer_auth() {
    let app = bare_app().await;
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method) in [
        ("/v1/routing/preview", "get"),
        ("/v1/admin/routing-rules", "get"),
        ("/v1/admin/routing-rules", "post"),
        ("/v1/admin/routing-rules/{id}", "patch"),
        ("/v1/admin/routing-rules/{id}/deactivate", "post"),
        ("/v1/admin/agencies", "post"),
        ("/v1/admin/agencies/{code}", "patch"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} documented");
        assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
        assert!(
            op["responses"]["401"]["content"]["application/problem+json"].is_object(),
            "{method} {path}: problem responses"
        );
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "RoutingPreview",
        "RoutingDecision",
        "RuleView",
        "AgencyView",
        "AgencyCreated",
    ] {
        assert!(schemas[name].is_object(), "{name} schema");
    }
    assert!(
        schemas["AgencyView"]["properties"]["callback_secret"].is_null(),
        "the secret is write-only"
    );
}
