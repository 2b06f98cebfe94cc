//! The callback address guard, with `callbacks.allow_private_addresses` off (the default):
//! operators cannot set a URL that reaches a private address, and a URL that reaches one
//! anyway (set before the check existed, or a name whose DNS changed) is refused again at
//! send time, with a live receiver on 127.0.0.1 proving nothing got through.

#[path = "callbacks/support.rs"]
mod callbacks_support;
mod common;
#[path = "webhooks/support.rs"]
mod support;

use callbacks_support::*;
use civicpost::callbacks::signing::generate_secret;
use civicpost::domain::courier::Courier;
use common::TestApp;
use serde_json::json;
use support::{bytes, delivery, drain, post_hook, vtp_body};

/// Callback settings with the guard on.
fn guarded() -> serde_json::Value {
    let mut settings = callback_settings();
    settings["callbacks"]["allow_private_addresses"] = json!(false);
    settings
}

/// Private, loopback, link-local, unique-local and mapped addresses, in several spellings.
const REFUSED: [&str; 10] = [
    "http://127.0.0.1:8080/cb",
    "http://10.20.30.40/cb",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/cb",
    "http://[::ffff:127.0.0.1]/cb",
    "http://[::ffff:a00:1]/cb",
    "http://[fd00::1]/cb",
    "http://[fe80::1]/cb",
    "http://2130706433/cb",
    "http://localhost:8080/cb",
];

#[tokio::test]
async fn operators_cannot_point_callbacks_at_private_addresses() {
    let app = TestApp::spawn_with(guarded()).await;
    let operator = app.operator_key();
    app.agency_key("H42");
    for url in REFUSED {
        let (status, body) = app
            .patch_as(
                "/v1/admin/agencies/H42",
                &operator,
                json!({ "callback_url": url }),
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["errors"][0]["field"], "callback_url", "{body}");
        assert_eq!(body["errors"][0]["code"], "not_public_address", "{body}");
        let (status, body) = app
            .post_as(
                "/v1/admin/agencies",
                &operator,
                json!({ "code": "H43", "name": "Một cửa", "callback_url": url }),
            )
            .await;
        assert_eq!(status, 400, "create, {url}: {body}");
    }
    let (_, agency) = app.get_as("/v1/admin/agencies/H42", &operator).await;
    assert_eq!(
        agency["callback_url"],
        serde_json::Value::Null,
        "nothing saved"
    );
    for bad in [
        "ftp://example.gov.vn/cb",
        "https://user:pw@example.gov.vn/cb",
        "/cb",
    ] {
        let (status, body) = app
            .patch_as(
                "/v1/admin/agencies/H42",
                &operator,
                json!({ "callback_url": bad }),
            )
            .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["errors"][0]["code"], "invalid_url", "{body}");
    }
    // A public address, and a name that does not resolve (yet): accepted, checked at send.
    for ok in [
        "https://203.113.131.1/hooks",
        "https://motcua.example.gov.vn/hooks/civicpost",
    ] {
        let (status, body) = app
            .patch_as(
                "/v1/admin/agencies/H42",
                &operator,
                json!({ "callback_url": ok }),
            )
            .await;
        assert_eq!(status, 200, "{ok}: {body}");
    }
}

#[tokio::test]
async fn private_addresses_are_refused_again_when_sending() {
    let app = TestApp::spawn_with(guarded()).await;
    let operator = app.operator_key();
    let receiver = Receiver::start(&[]).await;
    let port = receiver.addr.port();
    let id = delivery(&app, Courier::Viettelpost, Some("18000000101")).await;
    let hook = bytes(&vtp_body("18000000101", 105, "10/11/2025 11:07:16"));
    assert_eq!(post_hook(&app, Courier::Viettelpost, &hook).await.0, 200);
    drain(&app).await;
    let secret = generate_secret();
    // The receiver listens on 127.0.0.1: every spelling below would reach it if let through.
    let urls = [
        format!("http://127.0.0.1:{port}/cb"),
        format!("http://[::ffff:127.0.0.1]:{port}/cb"),
        format!("http://2130706433:{port}/cb"),
        format!("http://[::1]:{port}/cb"),
        format!("http://10.0.0.1:{port}/cb"),
        format!("http://169.254.169.254:{port}/cb"),
        format!("http://localhost:{port}/cb"),
    ];
    for (n, url) in urls.iter().enumerate() {
        set_endpoint(&app, "H42", Some(url), Some(&secret)).await;
        if n > 0 {
            let (status, body) = app
                .post_as(
                    "/v1/admin/callbacks/replay",
                    &operator,
                    json!({ "delivery_id": id }),
                )
                .await;
            assert_eq!(
                (status, body["enqueued"].as_u64()),
                (202, Some(1)),
                "{body}"
            );
        }
        assert_eq!(run_callbacks_once(&app).await, 1, "{url}");
        let recorded = attempts(&app, &id).await;
        assert_eq!(recorded.len(), n + 1, "{url}");
        let (_, status, error, _) = recorded.last().cloned().expect("attempt");
        assert_eq!(status, None, "{url}");
        let error = error.unwrap_or_default();
        assert!(error.starts_with("not sent: "), "{url}: {error}");
        assert!(
            error.contains("callbacks only go to public addresses"),
            "{error}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
    // An address in the URL cannot change: parked at once. A name may resolve elsewhere
    // later: retried.
    let jobs = callback_jobs(&app, &id).await;
    assert_eq!(jobs.len(), urls.len());
    assert!(
        jobs[..urls.len() - 1].iter().all(|j| j == "parked 1"),
        "{jobs:?}"
    );
    assert_eq!(jobs[urls.len() - 1], "pending 1");
    receiver.stop().await;
}
