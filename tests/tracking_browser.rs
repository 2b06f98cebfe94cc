//! The tracking page in a real browser (Debian's headless Chromium), on both backends:
//! a citizen types a code into the form on `/track`, lands on the parcel's page, and sees
//! the timeline change by itself when the courier's webhook arrives (the live stream and its
//! few lines of script); with JavaScript off, the same form and page work and the page
//! reloads itself (a `<noscript>` meta refresh). Screenshots go to the target folder (`tmp/tracking/`), not the repository.
//!
//! Chromium is driven through chromedriver's W3C WebDriver protocol with the HTTP client the
//! tests already have. `scripts/test` installs both (`chromium`, `chromium-driver`) and sets
//! `CIVICPOST_REQUIRE_BROWSER=1`; elsewhere a machine without them skips this test, saying so.

mod common;
#[path = "webhooks/support.rs"]
mod support;
#[path = "tracking/support.rs"]
mod tracking_support;
/// Where this test's screenshots go, under the target folder.
const SHOTS: &str = "tracking";
#[path = "browser/support.rs"]
mod browser;

use browser::*;

use std::time::Duration;

use common::TestApp;
use serde_json::json;
use tracking_support::*;

/// Types the code (lower case, as people do) into the form on `/track` and submits it.
async fn look_up(app: &TestApp, browser: &Browser<'_>, p: &Parcel) -> String {
    browser.open(&app.url("/track")).await;
    browser.type_into("#code", &p.display.to_lowercase()).await;
    browser.click("form button").await;
    let page = browser
        .wait_for("Chờ bưu chính đến lấy", Duration::from_secs(10))
        .await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/track/{}", p.display))
    );
    assert!(
        page.contains("Nguyễn V. A.") && page.contains("Đã tiếp nhận"),
        "{page}"
    );
    assert_masked(p, &page);
    page
}

async fn out_for_delivery(app: &TestApp, p: &Parcel) {
    let at = (chrono::Utc::now() + chrono::TimeDelta::minutes(1))
        .with_timezone(&civicpost::tracking::view::VIETNAM)
        .format("%d/%m/%Y %H:%M:%S")
        .to_string();
    vtp(app, p, 500, &at, None).await;
}

/// With JavaScript: the open page takes the stream's update in place.
async fn with_javascript(app: &TestApp, browser: &Browser<'_>, p: &Parcel) {
    look_up(app, browser, p).await;
    let note = browser
        .live_note("Trang tự cập nhật", Duration::from_secs(5))
        .await;
    assert_eq!(
        note, "Trang tự cập nhật khi có thông tin mới.",
        "the script ran"
    );
    let shot = browser.screenshot("track-awaiting-pickup").await;
    eprintln!("screenshot: {}", shot.display());

    out_for_delivery(app, p).await;
    let page = browser
        .wait_for("Đang giao đến bạn", Duration::from_secs(10))
        .await;
    assert!(
        page.contains("Đang giao đến bạn"),
        "the open page updated itself"
    );
    let note = browser
        .live_note("Đã cập nhật lúc", Duration::from_secs(2))
        .await;
    assert!(
        note.starts_with("Đã cập nhật lúc"),
        "by the stream, not a reload: {note}"
    );
    let timeline = page.split("id=\"timeline\"").nth(1).unwrap_or_default();
    assert!(timeline.contains("Bưu cục Gia Lâm"), "{timeline}");
    let shot = browser.screenshot("track-out-for-delivery").await;
    eprintln!("screenshot: {}", shot.display());
}

/// Without JavaScript: the GET form works all the same, and the page reloads itself (the
/// `<noscript>` meta refresh, every `tracking.refresh_secs`).
async fn without_javascript(app: &TestApp, browser: &Browser<'_>, p: &Parcel) {
    look_up(app, browser, p).await;
    let note = browser.text_of("#live").await;
    assert_eq!(note, "Trang tự tải lại sau mỗi 5 giây.", "no script ran");
    out_for_delivery(app, p).await;
    let page = browser
        .wait_for("Đang giao đến bạn", Duration::from_secs(15))
        .await;
    assert!(
        page.contains("Đang giao đến bạn"),
        "reloaded by the meta refresh"
    );
    let shot = browser.screenshot("track-without-javascript").await;
    eprintln!("screenshot: {}", shot.display());
}

#[tokio::test]
async fn a_citizen_watches_the_parcel_move_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let settings = json!({"tracking": {"stream_check_ms": 200, "refresh_secs": 5}});
    let app = TestApp::spawn_with(settings).await;
    let p = parcel(&app, "18000000501").await;
    let q = parcel(&app, "18000000502").await;
    let driver = Driver::start().await;
    in_session(&driver, true, async |b| with_javascript(&app, b, &p).await).await;
    in_session(&driver, false, async |b| {
        without_javascript(&app, b, &q).await
    })
    .await;
}
