//! The `civicpost` binary as an operator uses it.

mod common;

use std::process::{Command, Output};

use common::TestDb;

fn civicpost(db: Option<&TestDb>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("CIVICPOST_CONFIG");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CIVICPOST__")) {
        cmd.env_remove(k);
    }
    if let Some(db) = db {
        cmd.env("DATABASE_URL", &db.url);
    }
    let dir = tempfile::tempdir().expect("dir");
    cmd.current_dir(dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run civicpost")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn config_masks_secrets_and_honours_the_environment() {
    let out = civicpost(
        None,
        &["config"],
        &[
            (
                "DATABASE_URL",
                "postgres://civicpost:s3cret-pw@db.internal:5432/civicpost",
            ),
            ("REDIS_URL", "redis://:redis-pw@cache:6379/0"),
            ("CIVICPOST__HTTP__BIND", "0.0.0.0:9000"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("s3cret-pw") && !text.contains("redis-pw"),
        "{text}"
    );
    assert!(
        text.contains("postgres://civicpost:****@db.internal:5432/civicpost"),
        "{text}"
    );
    assert!(text.contains("bind = \"0.0.0.0:9000\""), "{text}");
}

#[test]
fn bad_settings_name_the_setting_and_the_fix() {
    let out = civicpost(None, &["config"], &[("CIVICPOST__HTTP__BIND", "localhost")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("http.bind"), "{}", stderr(&out));
    let out = civicpost(None, &["config"], &[("DATABASE_URL", "mysql://x/y")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("DATABASE_URL") && stderr(&out).contains("mysql"),
        "{}",
        stderr(&out)
    );
    let out = civicpost(
        None,
        &["config"],
        &[("CIVICPOST__DATABASE__POOL_SIZE", "many")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).to_lowercase().contains("pool_size"),
        "{}",
        stderr(&out)
    );
    let out = civicpost(
        None,
        &["config", "--config", "/nonexistent/civicpost.toml"],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/civicpost.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_database_that_cannot_be_reached_fails_clearly() {
    let out = civicpost(
        None,
        &["migrate"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("PostgreSQL") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn units_lookup_by_code_name_point_and_legacy() {
    let out = civicpost(None, &["units", "lookup", "00004"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Phường Ba Đình"));

    let out = civicpost(None, &["units", "lookup", "Ba Đình, Hà Nội"], &[]);
    assert!(stdout(&out).contains("00004"), "{}", stdout(&out));

    let out = civicpost(None, &["units", "lookup", "21.0368,105.8345"], &[]);
    assert!(
        stdout(&out).contains("00004") && stdout(&out).contains("inside"),
        "{}",
        stdout(&out)
    );

    let out = civicpost(None, &["units", "lookup", "--legacy", "00001"], &[]);
    assert!(
        stdout(&out).contains("Phúc Xá") && stdout(&out).contains("00097"),
        "{}",
        stdout(&out)
    );

    // 23737: an old code only. Read bare, it is the 2025 scheme, where it names nothing.
    let out = civicpost(None, &["units", "lookup", "23737"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--legacy"), "{}", stderr(&out));

    let out = civicpost(None, &["units", "lookup", "91.5,200"], &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
}

#[test]
fn a_corrupt_fixtures_folder_is_named_with_the_line() {
    let dir = tempfile::tempdir().expect("dir");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/admin-units");
    for entry in std::fs::read_dir(src).expect("fixtures") {
        let entry = entry.expect("entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    let units = dir.path().join("units.csv");
    let text = std::fs::read_to_string(&units).expect("read");
    let broken = text.replacen("00004", "0x004", 1);
    std::fs::write(&units, broken).expect("write");
    let dir_text = dir.path().display().to_string();
    let out = civicpost(
        None,
        &["units", "lookup", "00008"],
        &[("CIVICPOST__UNITS__FIXTURES_DIR", &dir_text)],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("units.csv") && err.contains("line 2"), "{err}");
}

#[test]
fn agency_keys_print_alone_on_the_last_line() {
    let db = TestDb::new();
    let out = civicpost(
        Some(&db),
        &[
            "agency",
            "create",
            "--code",
            "H42",
            "--name",
            "Trung tâm PVHCC Quảng Trị",
            "--sender-ward",
            "00004",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("cpa_") && !last.contains(' '), "{text}");

    let out = civicpost(Some(&db), &["agency", "rotate-key", "H42"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rotated = stdout(&out).lines().last().unwrap_or_default().to_owned();
    assert!(rotated.starts_with("cpa_") && rotated != last);

    let out = civicpost(Some(&db), &["agency", "list"], &[]);
    assert!(stdout(&out).contains("H42"));
    let out = civicpost(Some(&db), &["agency", "disable", "H42"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = civicpost(Some(&db), &["agency", "list"], &[]);
    assert!(stdout(&out).contains("disabled"));

    let out = civicpost(Some(&db), &["operator", "create-key"], &[]);
    assert!(
        stdout(&out)
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("cpo_")
    );

    let out = civicpost(
        Some(&db),
        &[
            "agency",
            "create",
            "--code",
            "X",
            "--name",
            "Y",
            "--sender-ward",
            "99999",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("99999"));
}

#[test]
fn couriers_sync_units_prints_every_unmatched_name() {
    let db = TestDb::new();
    // Sandbox mode: the command serves the simulators itself for as long as it runs.
    let out = civicpost(Some(&db), &["couriers", "sync-units", "viettelpost"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("viettelpost: 3321 units listed, 3319 official wards matched and stored"),
        "{text}"
    );
    assert!(
        text.contains("PHƯỜNG PHÚC XÁ (province 1 Hà Nội): no ward of that name in province 01"),
        "{text}"
    );
    assert!(
        text.contains("XÃ ĐẮK HÀ (province 39 Quảng Ngãi)"),
        "{text}"
    );
    assert!(
        text.contains("20333 Đặc khu Hoàng Sa (Thành phố Đà Nẵng)")
            && text.contains("23500 Xã Đăk Hà (Tỉnh Quảng Ngãi)"),
        "{text}"
    );

    // A courier that cannot be reached: a failure, named, and nothing stored.
    let out = civicpost(
        Some(&db),
        &["couriers", "sync-units", "viettelpost"],
        &[(
            "CIVICPOST__COURIERS__VIETTELPOST__BASE_URL",
            "http://127.0.0.1:9",
        )],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("viettelpost address list"),
        "{}",
        stderr(&out)
    );

    let out = civicpost(Some(&db), &["couriers", "sync-units", "ghn"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("vnpost"), "{}", stderr(&out));
}

#[test]
fn serve_prints_a_demo_key_and_stops_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_civicpost"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("REDIS_URL")
        // No configuration at all: the default ./data/civicpost.db, folder made on first run.
        .env_remove("DATABASE_URL")
        .env_remove("CIVICPOST_CONFIG")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let done = line.starts_with("cpa_");
        banner.push(line);
        if done {
            break;
        }
    }
    let text = banner.join("\n");
    assert!(
        banner.last().is_some_and(|l| l.starts_with("cpa_")),
        "demo key alone on its line: {text}"
    );
    let docs = banner
        .iter()
        .find(|l| l.contains("API docs"))
        .expect("docs URL");
    let base = docs
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .trim_end_matches("/docs/")
        .to_owned();
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.0\r\n\r\n").expect("send");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    assert!(
        dir.path().join("data/civicpost.db").is_file(),
        "default database made"
    );
}
