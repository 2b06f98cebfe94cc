//! A headless Chromium for the page tests, driven through chromedriver's W3C WebDriver
//! protocol with reqwest. `scripts/test` installs both (`chromium`, `chromium-driver`) and
//! sets `CIVICPOST_REQUIRE_BROWSER=1`; elsewhere a machine without them skips the test.
//! Screenshots go to the target folder (`tmp/<test>/`), not the repository.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::FutureExt;
use serde_json::{Value, json};

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn browser_available() -> bool {
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

pub fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(crate::SHOTS);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

pub fn backend() -> &'static str {
    if crate::common::backend_is_postgres() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A chromedriver process of this test, ended when dropped.
pub struct Driver {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start() -> Self {
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
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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
    pub async fn session(&self, javascript: bool) -> String {
        self.session_sized(javascript, "360,760").await
    }

    /// A headless window of `size` ("width,height"), with or without JavaScript.
    pub async fn session_sized(&self, javascript: bool, size: &str) -> String {
        let window = format!("--window-size={size}");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            window.as_str(),
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
pub struct Browser<'a> {
    pub driver: &'a Driver,
    pub session: String,
}

impl Browser<'_> {
    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.driver.call(method, &path, body).await
    }

    pub async fn open(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
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
    pub async fn text_of(&self, css: &str) -> String {
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
    pub async fn live_note(&self, start: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let note = self.text_of("#live").await;
            if note.starts_with(start) || Instant::now() > deadline {
                return note;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn source(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/source", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    pub async fn url(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
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
    pub async fn wait_for(&self, needle: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let source = self.source().await;
            if source.contains(needle) || Instant::now() > deadline {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/value");
        self.cmd(reqwest::Method::POST, &path, Some(json!({ "text": text })))
            .await;
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/click");
        self.cmd(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }
}

/// Runs `steps` in a fresh session of `size` ("width,height"), closing it whatever happens.
pub async fn in_session_sized<F>(driver: &Driver, javascript: bool, size: &str, steps: F)
where
    F: for<'b> AsyncFnOnce(&'b Browser<'b>),
{
    let browser = Browser {
        driver,
        session: driver.session_sized(javascript, size).await,
    };
    let outcome = std::panic::AssertUnwindSafe(steps(&browser))
        .catch_unwind()
        .await;
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

/// [`in_session_sized`] in a phone-sized window.
pub async fn in_session<F>(driver: &Driver, javascript: bool, steps: F)
where
    F: for<'b> AsyncFnOnce(&'b Browser<'b>),
{
    in_session_sized(driver, javascript, "360,760", steps).await
}
