//! The local SMS outbox: one JSON line per message in `<dir>/outbox.jsonl`, flushed to disk
//! before the send counts as done. It stands in for the citizens' phones on first run and in
//! sandbox mode (browsable at `/dev/sms`), so it keeps the full number; it is never logged.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SmsMessage;
use crate::notify::{SendError, Sent, mask_phone};

pub const OUTBOX_FILE: &str = "outbox.jsonl";

/// One line of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub time: DateTime<Utc>,
    pub phone: String,
    pub text: String,
    pub request_id: String,
}

pub fn outbox_file(dir: &Path) -> PathBuf {
    dir.join(OUTBOX_FILE)
}

/// Appends the message and syncs the file.
pub async fn append(dir: &Path, sms: &SmsMessage) -> Result<Sent, SendError> {
    let entry = OutboxEntry {
        time: Utc::now(),
        phone: sms.phone.clone(),
        text: sms.text.clone(),
        request_id: sms.request_id.clone(),
    };
    let mut line = serde_json::to_vec(&entry)
        .map_err(|e| SendError::permanent(format!("outbox: cannot encode the message: {e}")))?;
    line.push(b'\n');
    let dir = dir.to_path_buf();
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        // One write of one line to a file opened for appending: lines from concurrent
        // sends do not interleave.
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(outbox_file(&dir))?;
        file.write_all(&line)?;
        file.sync_data()
    })
    .await;
    match written {
        Ok(Ok(())) => {
            tracing::debug!(phone = %mask_phone(&sms.phone), "SMS written to the outbox");
            Ok(Sent {
                provider: "outbox".into(),
                provider_id: sms.request_id.clone(),
            })
        }
        Ok(Err(e)) => Err(SendError::transient(format!(
            "outbox: cannot write {OUTBOX_FILE}: {e}"
        ))),
        Err(e) => Err(SendError::transient(format!("outbox: write task: {e}"))),
    }
}

/// Every readable line, oldest first (an empty list when there is no outbox yet).
pub fn read(dir: &Path) -> std::io::Result<Vec<OutboxEntry>> {
    match std::fs::read_to_string(outbox_file(dir)) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn appends_lines_that_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let outbox = dir.path().join("nested");
        for n in 0..3 {
            let sms = SmsMessage {
                phone: "0912345678".into(),
                text: format!("Buu pham {n} dang duoc giao"),
                request_id: format!("n-{n}"),
            };
            let sent = append(&outbox, &sms).await.expect("written");
            assert_eq!(sent.provider, "outbox");
            assert_eq!(sent.provider_id, format!("n-{n}"));
        }
        let entries = read(&outbox).expect("read");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].text, "Buu pham 2 dang duoc giao");
        assert!(read(dir.path()).expect("none").is_empty());
    }
}
