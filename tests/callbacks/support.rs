//! Shared by the callback suites: a real HTTP receiver on 127.0.0.1 that answers a script of
//! statuses, the independent signature check (`verify.py`), a worker that runs callback jobs
//! only, an agency pointed at a receiver, and what the database then holds.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use civicpost::jobs::callback::CallbackHandler;
use civicpost::jobs::{Registry, Worker, WorkerOptions};
use civicpost::store::schema::{agencies, callback_attempts, outbox_jobs};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::TestApp;

/// Settings for callback tests: receivers on 127.0.0.1 allowed, retries at once.
pub fn callback_settings() -> Value {
    json!({
        "callbacks": { "allow_private_addresses": true, "backoff_base_ms": 1,
                       "backoff_cap_ms": 1, "timeout_ms": 2000, "connect_timeout_ms": 1000 },
        "couriers": { "simulator": { "autopilot": false } },
    })
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

#[derive(Default)]
struct Script {
    statuses: VecDeque<u16>,
    received: Vec<Received>,
}

/// An agency's endpoint: answers the scripted statuses in turn, then 200.
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Mutex<Script>>,
) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = {
        let mut script = script.lock().expect("script");
        script.received.push(Received {
            headers,
            body: body.to_vec(),
        });
        script.statuses.pop_front().unwrap_or(200)
    };
    let status = actix_web::http::StatusCode::from_u16(status).expect("status");
    let answer = if status.is_success() {
        r#"{"received":true}"#
    } else {
        "{\"error\":\"database unavailable\",\n\"retry\":true}"
    };
    HttpResponse::build(status)
        .content_type("application/json")
        .body(answer)
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        let script = Arc::new(Mutex::new(Script {
            statuses: statuses.iter().copied().collect(),
            received: Vec::new(),
        }));
        let data = web::Data::from(script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind receiver");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            addr,
            script,
            handle,
        }
    }

    /// The receiver's URL with `path` (which may carry a query).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().expect("script").received.clone()
    }

    pub fn answer_next(&self, statuses: &[u16]) {
        self.script
            .lock()
            .expect("script")
            .statuses
            .extend(statuses.iter().copied());
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Checks a request with `verify.py` (Python's own hmac, hashlib and base64): the payload
/// when authentic, the script's reason otherwise.
pub fn python_verify(
    secret: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/callbacks/verify.py");
    let request = json!({ "headers": headers, "body_b64": STANDARD.encode(body) });
    let mut child = Command::new("python3")
        .arg(script)
        .arg(secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("python3 ends");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    } else {
        Err(text)
    }
}

/// A worker that runs callback jobs only (dispatch, notify and ingestion are left alone).
pub fn callback_worker(app: &TestApp) -> Worker {
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(10),
        lease: Duration::from_secs(30),
        ..WorkerOptions::default()
    };
    Worker::new(
        app.state.db.clone(),
        app.state.clone(),
        Registry::new().with(CallbackHandler),
        options,
    )
}

/// Runs callback jobs until none is pending or running, or `patience` is over.
pub async fn run_callbacks(app: &TestApp, patience: Duration) {
    let worker = callback_worker(app);
    let deadline = Instant::now() + patience;
    while open_callback_jobs(app).await > 0 && Instant::now() < deadline {
        if worker.run_once().await.expect("worker pass") == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// One pass of the callback worker: the jobs it ran.
pub async fn run_callbacks_once(app: &TestApp) -> usize {
    callback_worker(app).run_once().await.expect("worker pass")
}

pub async fn open_callback_jobs(app: &TestApp) -> i64 {
    app.query(|c| {
        Ok(outbox_jobs::table
            .filter(outbox_jobs::kind.eq("callback"))
            .filter(outbox_jobs::status.eq_any(["pending", "running"]))
            .count()
            .get_result(c)?)
    })
    .await
}

/// Callback jobs of a delivery, oldest first: `status attempts`.
pub async fn callback_jobs(app: &TestApp, delivery_id: &str) -> Vec<String> {
    let id = delivery_id.to_owned();
    let rows: Vec<(String, i32)> = app
        .query(move |c| {
            Ok(outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(id))
                .filter(outbox_jobs::kind.eq("callback"))
                .order((outbox_jobs::created_at, outbox_jobs::id))
                .select((outbox_jobs::status, outbox_jobs::attempts))
                .load(c)?)
        })
        .await;
    rows.into_iter().map(|(s, a)| format!("{s} {a}")).collect()
}

/// The recorded attempts of a delivery: (attempt, status code, error, excerpt).
pub async fn attempts(
    app: &TestApp,
    delivery_id: &str,
) -> Vec<(i32, Option<i32>, Option<String>, Option<String>)> {
    let id = delivery_id.to_owned();
    app.query(move |c| {
        Ok(callback_attempts::table
            .filter(callback_attempts::delivery_id.eq(id))
            .order((callback_attempts::attempted_at, callback_attempts::id))
            .select((
                callback_attempts::attempt,
                callback_attempts::status_code,
                callback_attempts::error,
                callback_attempts::response_excerpt,
            ))
            .load(c)?)
    })
    .await
}

/// Points agency `code` at `url` through the operator API; the secret generated for it.
pub async fn point_agency_at(app: &TestApp, operator: &str, code: &str, url: &str) -> String {
    let (status, saved) = app
        .patch_as(
            &format!("/v1/admin/agencies/{code}"),
            operator,
            json!({ "callback_url": url }),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["callback_secret_set"], true);
    saved["generated_callback_secret"]
        .as_str()
        .expect("a secret is generated for a URL set without one")
        .to_owned()
}

/// Sets an agency's callback URL and secret straight in the database, past the operator
/// API's checks (as an older release, or a DNS change after the check, would leave it).
pub async fn set_endpoint(app: &TestApp, code: &str, url: Option<&str>, secret: Option<&str>) {
    let (code, url, secret) = (
        code.to_owned(),
        url.map(str::to_owned),
        secret.map(str::to_owned),
    );
    app.query(move |c| {
        diesel::update(agencies::table.filter(agencies::code.eq(code)))
            .set((
                agencies::callback_url.eq(url),
                agencies::callback_secret.eq(secret),
                agencies::callback_disabled_at.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(c)?;
        Ok(())
    })
    .await;
}

/// Collects every log line of this test binary (`civicpost=trace`), to show what never
/// appears in logs.
pub fn captured_logs() -> &'static LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("civicpost=trace,info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    })
}

#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
