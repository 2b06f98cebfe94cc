//! Public tracking under load and change, over real HTTP on both backends: the cache (in
//! process and in Redis) shows a webhook on the very next read, the per-address limit
//! answers 429 with Retry-After and is shared by nodes on one Redis, the per-dossier limit,
//! and the live stream an open page listens to.

mod common;
#[path = "webhooks/support.rs"]
mod support;
#[path = "tracking/support.rs"]
mod tracking_support;

use std::time::Duration;

use civicpost::store::schema::deliveries;
use common::TestApp;
use diesel::prelude::*;
use serde_json::json;
use tracking_support::*;

/// Now in Vietnam time as Viettel writes it, `minutes` ahead.
fn vn_now(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::minutes(minutes))
        .with_timezone(&civicpost::tracking::view::VIETNAM)
        .format("%d/%m/%Y %H:%M:%S")
        .to_string()
}

async fn state_shown(app: &TestApp, p: &Parcel) -> String {
    let (status, view) = app.get_json(&format!("/v1/track/{}", p.code)).await;
    assert_eq!(status, 200, "{view}");
    view["state"].as_str().unwrap_or_default().to_owned()
}

/// The cache really serves reads (a change made behind the service's back stays unseen),
/// and a webhook's event is on the next read all the same.
async fn webhook_shows_on_the_next_read(app: TestApp) {
    let p = parcel(&app, "18000000401").await;
    assert_eq!(state_shown(&app, &p).await, "awaiting_pickup");
    let id = p.id.clone();
    app.query(move |c| {
        diesel::update(deliveries::table.find(&id))
            .set(deliveries::recipient_name.eq("Trần Thị Bình"))
            .execute(c)?;
        Ok(())
    })
    .await;
    let (_, cached) = app.get_json(&format!("/v1/track/{}", p.code)).await;
    assert_eq!(
        cached["recipient"]["name"], "Nguyễn V. A.",
        "served from the cache"
    );

    vtp(&app, &p, 105, &vn_now(1), None).await;
    assert_eq!(state_shown(&app, &p).await, "picked_up");
    vtp(&app, &p, 500, &vn_now(2), None).await;
    let (_, view) = app.get_json(&format!("/v1/track/{}", p.code)).await;
    assert_eq!(view["state"], "out_for_delivery");
    assert_eq!(
        view["recipient"]["name"], "Trần T. B.",
        "rebuilt from the database"
    );
    let (_, _, html) = text(&app, &format!("/track/{}", p.code)).await;
    assert!(html.contains("Đang giao đến bạn"), "the page too");

    // The agency cancels another parcel: its page says so at once.
    let q = parcel(&app, "18000000402").await;
    assert_eq!(state_shown(&app, &q).await, "awaiting_pickup");
    let key = app.agency_key("H42");
    let (status, _) = app
        .post_as(&format!("/v1/deliveries/{}/cancel", q.id), &key, json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(state_shown(&app, &q).await, "cancelled");
}

#[tokio::test]
async fn in_process_cache_shows_a_webhook_on_the_next_read() {
    webhook_shows_on_the_next_read(TestApp::spawn().await).await;
}

#[tokio::test]
async fn redis_cache_shows_a_webhook_on_the_next_read() {
    let app = TestApp::spawn_with(on_redis(json!({}))).await;
    assert_eq!(
        app.state.cache.status(),
        civicpost::cache::CacheStatus::Redis
    );
    webhook_shows_on_the_next_read(app).await;
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds")
}

#[tokio::test]
async fn too_many_lookups_get_429_with_retry_after() {
    let app = TestApp::spawn_with(json!({"tracking": {"rate_limit_per_minute": 3}})).await;
    let p = parcel(&app, "18000000403").await;
    // One budget across the JSON API and the pages.
    for path in [
        "/track",
        &format!("/track/{}", p.code),
        &format!("/v1/track/{}", p.code),
    ] {
        assert_ne!(app.get(path).await.status().as_u16(), 429, "{path}");
    }
    let res = app.get(&format!("/v1/track/{}", p.code)).await;
    assert_eq!(res.status().as_u16(), 429);
    assert!((1..=20).contains(&retry_after(&res)), "a token every 20 s");
    let kind = res.headers().get("content-type").cloned();
    assert_eq!(
        kind.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: serde_json::Value = res.json().await.expect("problem");
    assert_eq!(problem["status"], 429);
    assert_eq!(problem["type"], "urn:civicpost:problem:rate-limited");

    let res = app.get(&format!("/track/{}", p.code)).await;
    assert_eq!(res.status().as_u16(), 429);
    assert!(retry_after(&res) >= 1);
    let page = res.text().await.expect("page");
    assert!(
        page.contains("quá nhiều lần") && page.contains("<form"),
        "{page}"
    );
    // Other routes are not tracking's business.
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
}

#[tokio::test]
async fn nodes_on_one_redis_share_the_limit() {
    let namespace = format!("cpt-{}:", uuid::Uuid::now_v7().simple());
    let limited = json!({"tracking": {"rate_limit_per_minute": 4}});
    let a = TestApp::spawn_with(on_redis_in(&namespace, limited.clone())).await;
    let b = TestApp::spawn_with(on_redis_in(&namespace, limited)).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(app.get("/track").await.status().as_u16(), 200);
    }
    assert_eq!(a.get("/track").await.status().as_u16(), 429);
    assert_eq!(b.get("/v1/track/K7RM2XQ9H4").await.status().as_u16(), 429);
}

#[tokio::test]
async fn guessing_phone_digits_is_cut_off_per_dossier() {
    let app = TestApp::spawn_with(json!({"tracking": {"dossier_attempts_per_hour": 3}})).await;
    let p = parcel(&app, "18000000404").await;
    let path = |digits: &str| format!("/v1/track?dossier={}&phone4={digits}", p.dossier);
    for guess in ["0000", "0001", "0002"] {
        assert_eq!(app.get_json(&path(guess)).await.0, 404);
    }
    let res = app.get(&path("5678")).await;
    assert_eq!(res.status().as_u16(), 429, "even the right digits wait now");
    assert!(retry_after(&res) > 60, "a try every 20 minutes");
    assert_eq!(app.get_json(&format!("/v1/track/{}", p.code)).await.0, 200);
}

/// Reads the stream until `needle` shows up or `patience` runs out; what it read.
async fn read_until(
    mut res: reqwest::Response,
    needle: &'static str,
    patience: Duration,
) -> String {
    let mut body = String::new();
    let _ = tokio::time::timeout(patience, async {
        while let Ok(Some(chunk)) = res.chunk().await {
            body.push_str(&String::from_utf8_lossy(&chunk));
            if body.contains(needle) {
                return;
            }
        }
    })
    .await;
    body
}

#[tokio::test]
async fn an_open_page_hears_of_each_event_and_of_the_end() {
    let fast = json!({"tracking": {"stream_check_ms": 100}});
    let app = TestApp::spawn_with(on_redis(fast)).await;
    let p = parcel(&app, "18000000405").await;
    let (_, _, page) = text(&app, &format!("/track/{}", p.code)).await;
    let live = page
        .split("data-live=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page names its stream")
        .replace("&#x2f;", "/")
        .replace("&#x3f;", "?")
        .replace("&#x3d;", "=");
    let res = app.get(&live).await;
    assert_eq!(res.status().as_u16(), 200, "{live}");
    let kind = res.headers().get("content-type").cloned();
    assert_eq!(
        kind.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );

    let stream = tokio::spawn(read_until(res, "event: end", Duration::from_secs(20)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    vtp(&app, &p, 500, &vn_now(1), None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    vtp(&app, &p, 501, &vn_now(2), None).await;
    let body = stream.await.expect("reader");
    assert!(body.starts_with("retry: 5000\n\n"), "{body}");
    let updates: Vec<&str> = body.split("event: update\n").skip(1).collect();
    assert!(!updates.is_empty(), "{body}");
    assert!(body.contains("Đã giao thành công") && body.ends_with("event: end\ndata: \n\n"));
    assert!(
        updates.iter().all(|u| u
            .lines()
            .take_while(|l| !l.is_empty())
            .all(|l| l.starts_with("data: "))),
        "every line of the markup is a data line: {body}"
    );
    assert_masked(&p, &body);
    // No stream for what is not a parcel: a typo, or a code nobody has.
    let nobody = civicpost::domain::tracking::TrackingCode::generate();
    for code in ["K7RM".to_owned(), nobody.as_str().to_owned()] {
        let res = app.get(&format!("/track/{code}/events")).await;
        assert_eq!(res.status().as_u16(), 404, "{code}");
    }
}
