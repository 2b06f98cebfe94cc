//! Parcels a courier has said nothing about for a while, for the pull fallback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{deliveries, delivery_events};
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;
use crate::domain::state::DeliveryState;

/// States in which a parcel is with the courier and news is expected.
const WITH_COURIER: [DeliveryState; 8] = [
    DeliveryState::AwaitingPickup,
    DeliveryState::PickedUp,
    DeliveryState::InTransit,
    DeliveryState::OutForDelivery,
    DeliveryState::DeliveryFailed,
    DeliveryState::ReadyForPickup,
    DeliveryState::OnHold,
    DeliveryState::Returning,
];

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct QuietParcel {
    pub delivery_id: String,
    pub tracking_number: String,
}

/// Parcels of `courier` with no news and not asked about since `before`, quietest first.
pub fn quiet_parcels(
    conn: &mut DbConnection,
    courier: Courier,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<QuietParcel>, StoreError> {
    let states: Vec<&str> = WITH_COURIER.iter().map(|s| s.as_str()).collect();
    let rows: Vec<(String, Option<String>)> = deliveries::table
        .filter(deliveries::courier.eq(courier.as_str()))
        .filter(deliveries::courier_tracking_number.is_not_null())
        .filter(deliveries::state.eq_any(states))
        .filter(
            deliveries::last_event_at
                .lt(before)
                .or(deliveries::last_event_at.is_null()),
        )
        .filter(
            deliveries::courier_pulled_at
                .lt(before)
                .or(deliveries::courier_pulled_at.is_null()),
        )
        .order(deliveries::last_event_at.asc())
        .limit(limit)
        .select((deliveries::id, deliveries::courier_tracking_number))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(delivery_id, tracking)| {
            tracking.map(|tracking_number| QuietParcel {
                delivery_id,
                tracking_number,
            })
        })
        .collect())
}

/// Notes that the courier was asked, whatever it said.
pub fn mark_pulled(
    conn: &mut DbConnection,
    delivery_id: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(deliveries::table.find(delivery_id))
        .set(deliveries::courier_pulled_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// The courier events already in a delivery's history: (status code, courier time).
pub fn known_events(
    conn: &mut DbConnection,
    delivery_id: &str,
) -> Result<Vec<(String, NaiveDateTime)>, StoreError> {
    let rows: Vec<(Option<String>, NaiveDateTime)> = delivery_events::table
        .filter(delivery_events::delivery_id.eq(delivery_id))
        .filter(delivery_events::raw_code.is_not_null())
        .select((delivery_events::raw_code, delivery_events::occurred_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, at)| code.map(|code| (code, at)))
        .collect())
}
