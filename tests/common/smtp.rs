//! A real SMTP server on 127.0.0.1 for the email tests: tests/notify/smtp_sink.py on
//! aiosmtpd, which `scripts/test` installs. Messages land in a Maildir the test reads back.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl SmtpServer {
    pub fn start() -> Self {
        let python = std::env::var("CIVICPOST_TEST_SMTP_PYTHON")
            .unwrap_or_else(|_| "/usr/bin/python3".into());
        let dir = tempfile::tempdir().expect("dir");
        let maildir = dir.path().join("maildir");
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notify/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg(port.to_string())
            .arg(&maildir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start the SMTP server with {python}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("SMTP server output");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP server did not start (is python3-aiosmtpd installed? scripts/test installs it)"
        );
        Self {
            port,
            maildir,
            _dir: dir,
            child,
        }
    }

    /// Every message received, raw, oldest first.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .flatten()
            .map(|e| {
                let modified = e.metadata().and_then(|m| m.modified()).expect("mtime");
                (modified, e.path())
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).expect("message"))
            .collect()
    }

    /// The `notify.email` settings that send through this server.
    pub fn settings(&self) -> serde_json::Value {
        serde_json::json!({
            "transport": "smtp",
            "smtp": { "host": "127.0.0.1", "port": self.port, "security": "none", "timeout_ms": 3000 },
        })
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
