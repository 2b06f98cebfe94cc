//! Fills `courier_unit_mappings`, the table dispatch reads a courier's address ids from:
//! fetches the courier's published address list through its adapter, matches it onto the
//! official wards by name within each province ([`matching`]), and replaces the courier's
//! stored mapping in one transaction.

pub mod matching;

pub use matching::{MatchOutcome, MatchedUnit, OfficialWard, Unmatched, UnmatchedUnit};

use super::CourierError;
use crate::app::AppState;
use crate::domain::courier::Courier;
use crate::store::StoreError;
use crate::store::courier_units::{self, CourierUnitMapping};

/// What one sync found.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub courier: Courier,
    /// Units in the courier's list.
    pub listed: usize,
    /// Official wards the courier now has ids for (stored).
    pub matched: usize,
    /// Courier units that matched no official ward, in the courier's order.
    pub unmatched_units: Vec<UnmatchedUnit>,
    /// Official wards no courier unit matched, by code.
    pub unmatched_wards: Vec<OfficialWard>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0} is not enabled in [couriers]")]
    NotEnabled(Courier),
    #[error("{courier} address list: {source}")]
    Courier {
        courier: Courier,
        #[source]
        source: CourierError,
    },
    /// Nothing is stored then: an empty or unreadable list must not wipe a good mapping.
    #[error(
        "{}: none of the {} listed units matched an official ward; the stored mapping is unchanged",
        .0.courier, .0.listed
    )]
    NothingMatched(Box<SyncReport>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Fetches, matches and stores the courier's mapping.
pub async fn sync(state: &AppState, courier: Courier) -> Result<SyncReport, SyncError> {
    let adapter = state
        .couriers
        .adapter(courier)
        .ok_or(SyncError::NotEnabled(courier))?;
    let units = adapter
        .address_units()
        .await
        .map_err(|source| SyncError::Courier { courier, source })?;
    let listed = units.len();
    let official = state.units.clone();
    // Normalising some 7,000 names is CPU work: keep it off the async workers.
    let outcome = tokio::task::spawn_blocking(move || {
        matching::match_units(units, official.provinces(), official.wards())
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    let mappings: Vec<CourierUnitMapping> = outcome
        .matched
        .into_iter()
        .map(|m| CourierUnitMapping {
            courier: courier.as_str().to_owned(),
            ward_code: m.ward_code,
            courier_province_id: m.unit.province_id,
            courier_district_id: m.unit.district_id,
            courier_ward_id: m.unit.ward_id,
            courier_ward_name: m.unit.ward_name,
        })
        .collect();
    let report = SyncReport {
        courier,
        listed,
        matched: mappings.len(),
        unmatched_units: outcome.unmatched_units,
        unmatched_wards: outcome.unmatched_wards,
    };
    if mappings.is_empty() {
        return Err(SyncError::NothingMatched(Box::new(report)));
    }
    // Thousands of rows would fill a pooled connection's caches for good.
    state
        .db
        .run_detached(move |conn| courier_units::replace_all(conn, courier, &mappings))
        .await?;
    Ok(report)
}

/// Syncs every enabled courier that has no mapping yet (a first run), logging a summary of
/// each; returns what it did, courier by courier. Couriers with a mapping are left alone.
pub async fn sync_if_empty(state: &AppState) -> Vec<(Courier, Result<SyncReport, SyncError>)> {
    let mut done = Vec::new();
    for courier in state.couriers.enabled() {
        let stored = state
            .db
            .run(move |conn| courier_units::count(conn, courier))
            .await;
        let result = match stored {
            Ok(0) => sync(state, courier).await,
            Ok(_) => continue,
            Err(e) => Err(e.into()),
        };
        log(courier, &result);
        done.push((courier, result));
    }
    done
}

/// Unit names are public data, not personal data: they may be logged.
fn log(courier: Courier, result: &Result<SyncReport, SyncError>) {
    match result {
        Ok(r) => {
            tracing::info!(
                courier = %courier,
                listed = r.listed,
                matched = r.matched,
                courier_units_unmatched = r.unmatched_units.len(),
                official_wards_unmatched = r.unmatched_wards.len(),
                "courier address units synced (every unmatched name: civicpost couriers sync-units {courier})"
            );
            for u in &r.unmatched_units {
                tracing::debug!(courier = %courier, ward_id = %u.unit.ward_id,
                    name = %u.unit.ward_name, reason = %u.reason, "courier unit unmatched");
            }
            for w in &r.unmatched_wards {
                tracing::debug!(courier = %courier, ward_code = %w.code, name = %w.name,
                    "official ward without a courier unit");
            }
        }
        Err(e) => {
            tracing::warn!(courier = %courier, error = %e, "courier address units not synced")
        }
    }
}
