//! The operator's dashboard in a real browser (Debian's headless Chromium), on both
//! backends: log in with an operator key through the form, read the period's figures and
//! charts (volume per day, share by post against target, on time per courier, the ward map),
//! act on the failure queue with a click and see the action in the audit log. Screenshots go
//! to the target folder (`tmp/dashboard/`).

mod common;
#[path = "reports/fixture.rs"]
mod fixture;
/// Where this test's screenshots go, under the target folder.
const SHOTS: &str = "dashboard";
#[path = "browser/support.rs"]
mod browser;

use std::time::Duration;

use browser::*;
use common::TestApp;

const PERIOD: &str = "from=2026-11-01&to=2026-11-03&province=01";

async fn log_in(app: &TestApp, b: &Browser<'_>) {
    b.open(&app.url("/admin")).await;
    assert!(
        b.url().await.ends_with("/admin/login"),
        "sent to the login page"
    );
    b.type_into("#key", "cpo_wrong").await;
    b.click("form button").await;
    let page = b.wait_for("Khoá không đúng", Duration::from_secs(5)).await;
    assert!(page.contains("Khoá không đúng"), "a wrong key is told so");
    b.type_into("#key", &app.operator_key()).await;
    b.click("form button").await;
    let page = b.wait_for("Việc cần xử lý", Duration::from_secs(10)).await;
    assert!(page.contains("Việc cần xử lý"), "{page}");
}

async fn read_the_figures(app: &TestApp, b: &Browser<'_>) {
    b.open(&app.url(&format!("/admin?{PERIOD}"))).await;
    let page = b
        .wait_for("Bưu gửi theo phường, xã", Duration::from_secs(10))
        .await;
    // The fixture's period: 7 deliveries enqueued, 4 delivered (tests/reports.rs).
    assert!(
        page.contains("<b>7</b><span>bưu gửi tiếp nhận</span>"),
        "{page}"
    );
    assert!(page.contains("<b>4</b><span>đã giao</span>"), "{page}");
    for heading in [
        "Số bưu gửi theo ngày",
        "Trả kết quả qua bưu chính so với chỉ tiêu",
        "Giao đúng hạn theo đơn vị bưu chính",
        "Bưu gửi theo phường, xã · Thành phố Hà Nội",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(
        page.matches("<svg").count() >= 4,
        "four charts drawn as SVG"
    );
    // The map draws Hà Nội's wards; Ba Đình's shape carries its count (deliveries 1 and 2).
    let map = page
        .split("Bưu gửi theo phường, xã")
        .nth(1)
        .unwrap_or_default();
    assert!(map.matches("<path").count() > 100, "the ward polygons");
    assert!(
        map.contains("Phường Ba Đình: 2"),
        "Ba Đình's count in its title"
    );
    let shot = b.screenshot("dashboard").await;
    eprintln!("screenshot: {}", shot.display());
}

async fn act_on_a_failure(app: &TestApp, b: &Browser<'_>) {
    // Fixture delivery 8 is in dispatch_failed: its row offers "retry" first.
    let delivery = delivery_8(app, "id").await;
    let row = b.text_of("#failures tbody tr").await;
    assert!(row.contains(&delivery), "{row}");
    b.click("#failures tbody tr form button").await;
    let page = b.wait_for("failure.retry", Duration::from_secs(10)).await;
    assert!(
        page.contains("failure.retry"),
        "the audit log shows the click"
    );
    assert!(
        page.contains("Việc cần xử lý (0)"),
        "the entry left the queue"
    );
    assert_eq!(
        delivery_8(app, "state").await,
        "received",
        "back in the dispatch queue"
    );
    let shot = b.screenshot("dashboard-after-retry").await;
    eprintln!("screenshot: {}", shot.display());
}

/// Fixture delivery 8's id or state.
async fn delivery_8(app: &TestApp, column: &'static str) -> String {
    use civicpost::store::schema::deliveries;
    use diesel::prelude::*;
    app.query(move |c| {
        let row = deliveries::table.filter(deliveries::dossier_code.eq("H-008"));
        let value = match column {
            "id" => row.select(deliveries::id).first::<String>(c)?,
            _ => row.select(deliveries::state).first::<String>(c)?,
        };
        Ok(value)
    })
    .await
}

#[tokio::test]
async fn an_operator_reads_the_dashboard_and_clears_a_failure_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    let driver = Driver::start().await;
    in_session_sized(&driver, false, "1280,2400", async |b| {
        log_in(&app, b).await;
        read_the_figures(&app, b).await;
        act_on_a_failure(&app, b).await;
    })
    .await;
}
