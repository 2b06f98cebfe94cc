//! The pull fallback: a webhook can be lost (a courier that gave up after its retries, an
//! outage on our side), so parcels a courier has said nothing about for
//! `couriers.pull.stale_after_secs` are refreshed from its history endpoint where it has one
//! (VNPost). One replica at a time, under a lock in the cache; events go through the same
//! state machine as webhooks, and events already in the history are left out.

use std::collections::HashSet;
use std::time::Duration;

use chrono::TimeDelta;

use crate::app::AppState;
use crate::cache::Coordinator;
use crate::couriers::CourierError;
use crate::domain::ids::{new_id, now_utc};
use crate::store::{StoreError, courier_events, pull};

const LOCK_KEY: &str = "pull:courier-history";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PullReport {
    /// Parcels whose courier was asked.
    pub asked: usize,
    /// New events recorded (applied or not).
    pub recorded: usize,
    /// Parcels the courier could not answer for this round.
    pub failed: usize,
}

/// One round over every enabled courier that offers a history.
pub async fn pull_once(state: &AppState) -> Result<PullReport, StoreError> {
    let settings = &state.settings.couriers.pull;
    let mut report = PullReport::default();
    if settings.stale_after_secs == 0 {
        return Ok(report);
    }
    let stale =
        TimeDelta::seconds(i64::try_from(settings.stale_after_secs).unwrap_or(i64::MAX / 2));
    let before = now_utc() - stale;
    // Marks the events of this round in the history, as the inbox id does for webhooks.
    let round = format!("pull-{}", new_id());
    for courier in state.couriers.enabled() {
        let Some(adapter) = state.couriers.adapter(courier) else {
            continue;
        };
        let limit = settings.batch_size;
        let parcels = state
            .db
            .run(move |c| pull::quiet_parcels(c, courier, before, limit))
            .await?;
        for parcel in parcels {
            let events = match adapter.tracking_history(&parcel.tracking_number).await {
                Ok(events) => events,
                // No history call at this courier: nothing to do for any of its parcels.
                Err(CourierError::Unsupported) => break,
                Err(e) => {
                    tracing::warn!(courier = courier.as_str(), error = %e, "history pull failed");
                    report.failed += 1;
                    continue;
                }
            };
            report.asked += 1;
            let round = round.clone();
            let delivery_id = parcel.delivery_id.clone();
            let recorded = state
                .db
                .run(move |c| {
                    let known: HashSet<_> = pull::known_events(c, &parcel.delivery_id)?
                        .into_iter()
                        .collect();
                    let mut recorded = 0;
                    for event in events {
                        if known.contains(&(event.raw_code.clone(), event.occurred_at)) {
                            continue;
                        }
                        courier_events::record(c, &parcel.delivery_id, courier, &round, &event)?;
                        recorded += 1;
                    }
                    pull::mark_pulled(c, &parcel.delivery_id, now_utc())?;
                    Ok::<_, StoreError>(recorded)
                })
                .await?;
            if recorded > 0 {
                // Committed: the public page shows what the webhook never brought.
                crate::tracking::deliveries_changed(state, vec![delivery_id]).await;
            }
            report.recorded += recorded;
        }
    }
    if report.recorded > 0 {
        metrics::counter!("civicpost_pull_events_total").increment(report.recorded as u64);
    }
    Ok(report)
}

/// Runs a round every `couriers.pull.interval_secs` on whichever replica holds the lock.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_secs(state.settings.couriers.pull.interval_secs);
        loop {
            tokio::time::sleep(interval).await;
            let token = match state.cache.try_lock(LOCK_KEY, interval).await {
                Ok(Some(token)) => token,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "history pull skipped: no lock");
                    continue;
                }
            };
            match pull_once(&state).await {
                Ok(report) if report.asked > 0 || report.failed > 0 => {
                    tracing::info!(?report, "courier history pulled");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "history pull stopped"),
            }
            let _ = state.cache.unlock(LOCK_KEY, &token).await;
        }
    })
}
