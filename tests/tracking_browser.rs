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

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::TestApp;
use futures_util::FutureExt;
use serde_json::{Value, json};
use tracking_support::*;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn browser_available() -> bool {
    if installed("chromium") && installed("chromedriver") {
        return true;
    }
    let required = std::env::var("CIVICPOST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "chromium and chromedriver are required but not installed"
    );
    eprintln!(
        "SKIPPED: chromium or chromedriver not installed (apt-get install chromium chromium-driver)"
    );
    false
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tracking");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

fn backend() -> &'static str {
    if common::backend_is_postgres() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A chromedriver process of this test, ended when dropped.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let ready = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer");
    }

    /// One WebDriver command; its `value`.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("webdriver call");
        let status = res.status();
        let answer: Value = res.json().await.expect("webdriver json");
        assert!(status.is_success(), "{path}: {answer}");
        answer["value"].clone()
    }

    /// A phone-sized headless window, with or without JavaScript.
    async fn session(&self, javascript: bool) -> String {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=360,760",
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": args},
        }}});
        let value = self
            .call(reqwest::Method::POST, "/session", Some(caps))
            .await;
        let session = value["sessionId"].as_str().expect("session id").to_owned();
        if !javascript {
            // Page scripts off (the driver's own commands still work), for this tab's life.
            let cdp = json!({"cmd": "Emulation.setScriptExecutionDisabled",
                             "params": {"value": true}});
            let path = format!("/session/{session}/goog/cdp/execute");
            self.call(reqwest::Method::POST, &path, Some(cdp)).await;
        }
        session
    }
}

/// What one browser session does; runs inside `catch_unwind` so the session always closes.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
}

impl Browser<'_> {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.driver.call(method, &path, body).await
    }

    async fn open(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {found}"))
            .to_owned()
    }

    /// The rendered text of the first element matching `css`.
    async fn text_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The live note once it starts with `start`, or whatever it says after `patience`.
    async fn live_note(&self, start: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let note = self.text_of("#live").await;
            if note.starts_with(start) || Instant::now() > deadline {
                return note;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn source(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/source", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn url(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("png");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = shots_dir().join(format!("{name}-{}.png", backend()));
        std::fs::write(&path, png).expect("screenshot saved");
        path
    }

    /// The page source once it contains `needle` (the page is not reloaded meanwhile).
    async fn wait_for(&self, needle: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let source = self.source().await;
            if source.contains(needle) || Instant::now() > deadline {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Types the code (lower case, as people do) into the form on `/track` and submits it.
async fn look_up(app: &TestApp, browser: &Browser<'_>, p: &Parcel) -> String {
    browser.open(&app.url("/track")).await;
    let input = browser.find("#code").await;
    let typed = p.display.to_lowercase();
    let path = format!("/element/{input}/value");
    browser
        .cmd(reqwest::Method::POST, &path, Some(json!({ "text": typed })))
        .await;
    let submit = browser.find("form button").await;
    let path = format!("/element/{submit}/click");
    browser
        .cmd(reqwest::Method::POST, &path, Some(json!({})))
        .await;
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

/// Runs `steps` in a fresh session, closing it whatever happens.
async fn in_session<F>(driver: &Driver, javascript: bool, steps: F)
where
    F: for<'b> AsyncFnOnce(&'b Browser<'b>),
{
    let browser = Browser {
        driver,
        session: driver.session(javascript).await,
    };
    let outcome = AssertUnwindSafe(steps(&browser)).catch_unwind().await;
    let path = format!("/session/{}", browser.session);
    let _ = driver
        .http
        .delete(format!("{}{path}", driver.base))
        .send()
        .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
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
