//! The scheduled retention purge (DESIGN.md, personal data): every `retention.run_every_mins`,
//! on whichever replica holds the lock, deliveries that ended more than
//! `retention.personal_data_days` ago lose their personal data, batch by batch, and the run is
//! written to the audit log.

use std::time::Duration;

use chrono::TimeDelta;

use crate::app::AppState;
use crate::cache::Coordinator;
use crate::domain::ids::now_utc;
use crate::store::retention::{self, RunTotals};
use crate::store::{Db, StoreError};

const LOCK_KEY: &str = "retention:purge";

/// One whole run: batches until nothing is left, then one audit entry. `None` when the
/// retention is switched off (`personal_data_days = 0`).
pub async fn run_once(
    db: &Db,
    days: u32,
    batch_size: u32,
    actor: &str,
) -> Result<Option<RunTotals>, StoreError> {
    if days == 0 {
        return Ok(None);
    }
    let cutoff = now_utc() - TimeDelta::days(i64::from(days));
    let limit = i64::from(batch_size.max(1));
    let mut totals = RunTotals::default();
    loop {
        let batch = db
            .run(move |c| retention::purge_batch(c, cutoff, limit))
            .await?;
        if batch.is_empty() {
            break;
        }
        totals.add(batch);
    }
    let actor = actor.to_owned();
    db.run(move |c| retention::record_run(c, &actor, cutoff, days, &totals))
        .await?;
    metrics::counter!("civicpost_retention_anonymised_total").increment(totals.deliveries as u64);
    metrics::gauge!("civicpost_retention_last_run_timestamp_seconds")
        .set(now_utc().and_utc().timestamp() as f64);
    Ok(Some(totals))
}

/// Runs the purge on schedule; a replica that misses the lock waits for the next turn.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let settings = state.settings.retention.clone();
        let interval = Duration::from_secs(settings.run_every_mins.saturating_mul(60));
        loop {
            tokio::time::sleep(interval).await;
            if settings.personal_data_days == 0 {
                continue;
            }
            let token = match state.cache.try_lock(LOCK_KEY, interval).await {
                Ok(Some(token)) => token,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "retention skipped: no lock");
                    continue;
                }
            };
            let run = run_once(
                &state.db,
                settings.personal_data_days,
                settings.batch_size,
                "system:retention",
            )
            .await;
            match run {
                Ok(Some(totals)) => tracing::info!(?totals, "retention purge ran"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge stopped"),
            }
            let _ = state.cache.unlock(LOCK_KEY, &token).await;
        }
    })
}
