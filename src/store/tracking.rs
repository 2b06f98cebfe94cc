//! Reads for the citizens' public tracking: a delivery by its tracking code or dossier code,
//! with its sending agency's name and the events that changed its state.

use diesel::prelude::*;

use super::deliveries::{DeliveryRow, EventRow};
use super::schema::{agencies, deliveries, delivery_events};
use super::{DbConnection, StoreError};

/// Everything a tracking page is made from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub delivery: DeliveryRow,
    pub agency_name: String,
    /// Applied events only (duplicates and late events are history, not news), oldest first.
    pub events: Vec<EventRow>,
}

/// The delivery with this canonical tracking code (`ABCD2345XY`).
pub fn by_tracking_code(
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<Snapshot>, StoreError> {
    let row: Option<DeliveryRow> = deliveries::table
        .filter(deliveries::tracking_code.eq(code))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| snapshot(conn, row)).transpose()
}

diesel::define_sql_function! {
    /// SQL `upper()`: ASCII on SQLite, which is all dossier codes use.
    fn upper(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Deliveries carrying this dossier code in any case (`h42` for `H42`), newest first. Codes
/// are unique per agency only; the caller picks the one whose phone matches. The index is on
/// `upper(dossier_code)`.
pub fn by_dossier_code(
    conn: &mut DbConnection,
    dossier: &str,
) -> Result<Vec<DeliveryRow>, StoreError> {
    Ok(deliveries::table
        .filter(upper(deliveries::dossier_code).eq(dossier.to_ascii_uppercase()))
        .order(deliveries::id.desc())
        .limit(20)
        .select(DeliveryRow::as_select())
        .load(conn)?)
}

/// The agency's name and the applied events of `row`.
pub fn snapshot(conn: &mut DbConnection, row: DeliveryRow) -> Result<Snapshot, StoreError> {
    let agency_name: String = agencies::table
        .find(&row.agency_id)
        .select(agencies::name)
        .first(conn)?;
    let events = delivery_events::table
        .filter(delivery_events::delivery_id.eq(&row.id))
        .filter(delivery_events::applied.eq(true))
        .order((
            delivery_events::occurred_at.asc(),
            delivery_events::id.asc(),
        ))
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(Snapshot {
        delivery: row,
        agency_name,
        events,
    })
}

/// The tracking codes of these deliveries (those that exist), for cache invalidation.
pub fn tracking_codes(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(deliveries::table
        .filter(deliveries::id.eq_any(ids))
        .select(deliveries::tracking_code)
        .load(conn)?)
}
