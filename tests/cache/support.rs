//! Helpers for the cache tests: private `redis-server` processes, raw Redis access, status
//! polling and log capture.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civicpost::cache::{Cache, CacheStatus};

/// A private `redis-server` child process, killed when dropped so no test leaves one behind.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    password: String,
    dir: tempfile::TempDir,
}

impl RedisServer {
    pub fn start(password: &str) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            password: password.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        server.restart();
        server
    }

    /// Starts the server (again) on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "server already running");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--requirepass", &self.password])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server should start");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP or SIGCONT: a frozen server keeps its sockets open but never answers.
    pub fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .expect("server running")
            .id()
            .to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// SIGKILL: the server vanishes without closing anything politely.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}/", self.password, self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A frozen process ignores nothing but SIGKILL, which `kill` sends; no SIGCONT needed.
        self.kill();
    }
}

/// A port nothing listens on right now: bind to port 0, note the port, let it go.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// Reads a key straight from Redis, bypassing the cache, to prove where a write went.
pub async fn raw_get(url: &str, key: &str) -> Option<Vec<u8>> {
    let client = redis::Client::open(url).expect("url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut con)
        .await
        .expect("GET")
}

pub async fn wait_for_status(cache: &Cache, wanted: impl Fn(&CacheStatus) -> bool) -> CacheStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = cache.status();
        if wanted(&status) || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Records every tracing event's level, target and fields as text.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<(tracing::Level, String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogCapture {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={:?} ", field.name(), value));
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*meta.level(), meta.target().to_owned(), text.0));
    }
}

impl LogCapture {
    pub fn ours(&self, level: tracing::Level) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(lvl, target, _)| *lvl == level && target.starts_with("civicpost"))
            .map(|(_, _, text)| text.clone())
            .collect()
    }

    pub fn all_text(&self) -> String {
        let events = self.0.lock().unwrap();
        events.iter().map(|(_, _, text)| text.as_str()).collect()
    }
}
