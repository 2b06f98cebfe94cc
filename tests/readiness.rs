//! Readiness follows Redis going away and coming back, while the service keeps serving.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use serde_json::json;

struct RedisProcess {
    child: Child,
    port: u16,
}

impl RedisProcess {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

async fn wait_for_status(app: &TestApp, want: u16) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = app.get_json("/readyz").await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "readyz stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_turns_503_when_redis_goes_and_back_when_it_returns() {
    let port = free_port();
    let redis = RedisProcess::start(port);
    let app = TestApp::spawn_with(json!({
        "redis": { "url": format!("redis://127.0.0.1:{}", redis.port), "retry_interval_ms": 100 }
    }))
    .await;
    let body = wait_for_status(&app, 200).await;
    assert_eq!(body["checks"]["redis"], "ok");

    drop(redis);
    let body = wait_for_status(&app, 503).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("redis")),
        "names what is down: {body}"
    );
    // Still serving everything that does not need Redis.
    assert_eq!(app.get("/v1/units/wards/00004").await.status(), 200);
    assert_eq!(app.get("/healthz").await.status(), 200);

    let _redis = RedisProcess::start(port);
    let body = wait_for_status(&app, 200).await;
    assert_eq!(body["checks"]["redis"], "ok");
}

#[tokio::test]
async fn an_unreachable_redis_at_start_serves_with_readiness_503() {
    let port = free_port();
    let app =
        TestApp::spawn_with(json!({ "redis": { "url": format!("redis://127.0.0.1:{port}") } }))
            .await;
    let body = wait_for_status(&app, 503).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("redis")),
        "{body}"
    );
    assert_eq!(app.get("/v1/units/wards/00004").await.status(), 200);
}
