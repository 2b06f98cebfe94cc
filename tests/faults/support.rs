//! What the fault tests start, stop and kill: `civicpost serve` and `civicpost worker`
//! child processes, a private PostgreSQL cluster and a private Redis server, and a client
//! that keeps retrying the way an agency's integration would.
#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::process::KilledOnDrop;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `civicpost` child that inherits nothing from the test's environment but PATH: quick
/// jobs, no quiet hours, SMS into `dir/sms`, email in memory, logs in `dir/<name>.log`.
fn civicpost(args: &[&str], db_url: &str, dir: &Path, name: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
    let log = File::create(dir.join(format!("{name}.log"))).expect("log file");
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("CIVICPOST__LOG__LEVEL", "warn")
        .env("CIVICPOST__JOBS__LEASE_SECS", "5")
        .env("CIVICPOST__JOBS__POLL_INTERVAL_MS", "50")
        .env("CIVICPOST__JOBS__BACKOFF_BASE_MS", "100")
        .env("CIVICPOST__JOBS__BACKOFF_CAP_MS", "500")
        .env("CIVICPOST__NOTIFY__QUIET_HOURS_START", "00:00")
        .env("CIVICPOST__NOTIFY__QUIET_HOURS_END", "00:00")
        .env("CIVICPOST__NOTIFY__SMS__OUTBOX_DIR", dir.join("sms"))
        .env("CIVICPOST__NOTIFY__EMAIL__TRANSPORT", "memory")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log);
    cmd
}

/// A child process of the service and what it was started with, so it can be started again
/// the same way after a kill.
pub struct Child {
    command: Vec<String>,
    env: Vec<(String, String)>,
    db_url: String,
    pub dir: PathBuf,
    name: String,
    pub port: Option<u16>,
    process: Option<KilledOnDrop>,
    starts: u32,
}

impl Child {
    /// `civicpost serve` on a port of its own; returns once /healthz answers.
    pub async fn serve(db_url: &str, dir: &Path, name: &str, env: &[(&str, String)]) -> Self {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let mut child = Self::new(&["serve", "--bind", &bind], db_url, dir, name, env);
        child.port = Some(port);
        child.start().await;
        child
    }

    /// `civicpost worker`.
    pub async fn worker(db_url: &str, dir: &Path, name: &str, env: &[(&str, String)]) -> Self {
        let mut child = Self::new(&["worker"], db_url, dir, name, env);
        child.start().await;
        child
    }

    fn new(args: &[&str], db_url: &str, dir: &Path, name: &str, env: &[(&str, String)]) -> Self {
        Self {
            command: args.iter().map(|a| a.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            db_url: db_url.to_owned(),
            dir: dir.to_owned(),
            name: name.to_owned(),
            port: None,
            process: None,
            starts: 0,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port.expect("a serving child"))
    }

    pub async fn start(&mut self) {
        self.starts += 1;
        let args: Vec<&str> = self.command.iter().map(String::as_str).collect();
        let name = format!("{}-{}", self.name, self.starts);
        let mut cmd = civicpost(&args, &self.db_url, &self.dir, &name);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        self.process = Some(KilledOnDrop(cmd.spawn().expect("start civicpost")));
        if self.port.is_some() {
            let url = format!("{}/healthz", self.base());
            let client = reqwest::Client::new();
            let start = Instant::now();
            loop {
                if client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    break;
                }
                if start.elapsed() > Duration::from_secs(60) {
                    let log = std::fs::read_to_string(self.dir.join(format!("{name}.log")));
                    panic!(
                        "{name} did not answer /healthz; its log:\n{}",
                        log.unwrap_or_default()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// SIGKILL: no shutdown code runs, as in a power cut.
    pub fn kill_hard(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.0.kill();
            let _ = p.0.wait();
        }
    }

    /// SIGTERM and wait: what an orchestrator does on a rolling restart.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = Command::new("kill").arg(p.0.id().to_string()).status();
            let _ = p.0.wait();
        }
    }
}

/// Environment pointing a `serve` child's adapters at `sim_base`'s Viettel Post simulator
/// (the test app's, which the test can count), with VNPost off.
pub fn couriers_at(sim_base: &str) -> Vec<(&'static str, String)> {
    use civicpost::couriers::sandbox::*;
    use civicpost::domain::courier::Courier;
    vec![
        (
            "CIVICPOST__COURIERS__VIETTELPOST__BASE_URL",
            format!("{sim_base}{}", simulator_path(Courier::Viettelpost)),
        ),
        (
            "CIVICPOST__COURIERS__VIETTELPOST__USERNAME",
            VIETTEL_USERNAME.into(),
        ),
        (
            "CIVICPOST__COURIERS__VIETTELPOST__PASSWORD",
            VIETTEL_PASSWORD.into(),
        ),
        (
            "CIVICPOST__COURIERS__VIETTELPOST__WEBHOOK_TOKEN",
            VIETTEL_WEBHOOK_TOKEN.into(),
        ),
        ("CIVICPOST__COURIERS__VNPOST__ENABLED", "false".into()),
    ]
}

/// The logs of the children that ran in `dir`, for a failing test to show.
pub fn child_logs(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: String = text
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            out.push_str(&format!("--- {}\n{tail}\n", path.display()));
        }
    }
    out
}

/// SMS messages written by the children sharing `dir`: lines of their outbox.
pub fn sms_written(dir: &Path) -> usize {
    let file = civicpost::notify::sms::outbox::outbox_file(&dir.join("sms"));
    std::fs::read_to_string(file).map_or(0, |text| text.lines().count())
}

/// What an agency's integration does: POST with an Idempotency-Key and retry on anything
/// but a definite answer (connection refused or reset, timeouts, 5xx) until `patience` runs
/// out. Returns the final status and body, and every status seen on the way.
pub async fn post_until_answered(
    client: &reqwest::Client,
    urls: &[String],
    key: &str,
    idempotency_key: &str,
    body: &Value,
    patience: Duration,
) -> (u16, Value, Vec<String>) {
    let start = Instant::now();
    let mut seen = Vec::new();
    for attempt in 0.. {
        let url = &urls[attempt % urls.len()];
        let res = client
            .post(url)
            .bearer_auth(key)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_server_error() => seen.push(r.status().as_u16().to_string()),
            Ok(r) => {
                let status = r.status().as_u16();
                seen.push(status.to_string());
                let answer = r.json().await.unwrap_or(Value::Null);
                return (status, answer, seen);
            }
            Err(e) => seen.push(
                if e.is_timeout() {
                    "timeout"
                } else {
                    "no connection"
                }
                .into(),
            ),
        }
        assert!(
            start.elapsed() < patience,
            "{idempotency_key}: no answer; saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!()
}

/// A PostgreSQL cluster of the test's own (initdb in a temporary folder, trust auth, a free
/// port), so it can be restarted without touching the machine's server.
pub struct PrivatePostgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect(
                "PostgreSQL server binaries in /usr/lib/postgresql (scripts/test installs them)",
            )
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb");
        let data = tempfile::tempdir().expect("data dir");
        if is_root() {
            // PostgreSQL refuses to run as root.
            run(Command::new("chown")
                .args(["-R", "postgres"])
                .arg(data.path()));
        }
        let pg = Self {
            bin,
            data,
            port: free_port(),
        };
        pg.as_owner(
            "initdb",
            &[
                "-D",
                &pg.dir(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.pg_ctl("start");
        pg
    }

    fn dir(&self) -> String {
        self.data.path().join("pg").display().to_string()
    }

    fn as_owner(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        run(cmd.args(args).stdout(Stdio::null()));
    }

    fn pg_ctl(&self, action: &str) {
        let dir = self.dir();
        let log = self.data.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.data.path().display()
        );
        let mut args = vec!["-D", &dir, "-l", &log, "-w", "-o", &options];
        if action == "restart" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        self.as_owner("pg_ctl", &args);
    }

    /// Fast shutdown (open sessions are cut) and start again on the same port.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let dir = self.dir();
        self.as_owner("pg_ctl", &["-D", &dir, "-m", "immediate", "stop"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("run command");
    assert!(status.success(), "{cmd:?}: {status}");
}

/// A Redis server of the test's own on a free port, no persistence: stopped and started
/// again on the same port, it comes back empty, as after a crash.
pub struct PrivateRedis {
    pub port: u16,
    process: Option<KilledOnDrop>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            process: None,
        };
        redis.start_again();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it)");
        self.process = Some(KilledOnDrop(child));
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        self.process.take();
    }
}
