//! Courier events applied to deliveries. Each event is one transaction: its history row, the
//! delivery's new state, and the notify and callback jobs a change causes commit together.
//!
//! Events of one delivery are serialised: the transaction's first statement writes the
//! delivery row (a no-op update), which on PostgreSQL takes the row lock until commit and on
//! SQLite takes the database write lock before anything is read (a read first would pin a
//! snapshot that a concurrent writer makes stale, failing the later write at once). The unique
//! index on applied courier events backs this up: a second copy of an event can never be
//! applied twice, whatever path it takes.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, max};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{deliveries, delivery_events};
use super::{DbConnection, StoreError};
use crate::couriers::CourierEvent;
use crate::domain::courier::Courier;
use crate::domain::ids::{new_id, now_utc};

use crate::domain::state::DeliveryState;
use crate::domain::transitions::{self, Current, Incoming, Skip, Verdict};

/// `delivery_events.source` of courier events.
pub const SOURCE_COURIER: &str = "courier";

/// The delivery a courier event is about: by the courier's tracking number, else by our
/// delivery id echoed as the order reference. A reference counts only for a delivery of the
/// same courier that has no other tracking number: otherwise the event is about an order
/// since replaced, or not ours at all.
pub fn find_delivery(
    conn: &mut DbConnection,
    courier: Courier,
    tracking_number: &str,
    reference: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let by_tracking: Option<String> = deliveries::table
        .filter(deliveries::courier.eq(courier.as_str()))
        .filter(deliveries::courier_tracking_number.eq(tracking_number))
        .select(deliveries::id)
        .first(conn)
        .optional()?;
    if by_tracking.is_some() {
        return Ok(by_tracking);
    }
    let Some(reference) = reference.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    Ok(deliveries::table
        .find(reference)
        .filter(deliveries::courier.eq(courier.as_str()))
        .filter(
            deliveries::courier_tracking_number
                .is_null()
                .or(deliveries::courier_tracking_number.eq(tracking_number)),
        )
        .select(deliveries::id)
        .first(conn)
        .optional()?)
}

/// What recording one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Kept in the history, with what the state machine made of it.
    Event(Verdict),
    /// This inbox row's event was recorded by an earlier run of the same job.
    AlreadyRecorded,
    /// The delivery disappeared between lookup and recording.
    DeliveryGone,
}

/// Records one courier event for `delivery_id` and applies it when the state machine says so.
pub fn record(
    conn: &mut DbConnection,
    delivery_id: &str,
    courier: Courier,
    inbox_id: &str,
    event: &CourierEvent,
) -> Result<Recorded, StoreError> {
    // The lock makes a unique violation near impossible; if one happens anyway (a path that
    // does not lock), the second try sees the applied event and records a duplicate.
    let mut tries = 0;
    loop {
        tries += 1;
        match conn.transaction(|conn| record_once(conn, delivery_id, courier, inbox_id, event)) {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) if tries < 2 => {
            }
            other => return other.map_err(StoreError::from),
        }
    }
}

fn record_once(
    conn: &mut DbConnection,
    delivery_id: &str,
    courier: Courier,
    inbox_id: &str,
    event: &CourierEvent,
) -> QueryResult<Recorded> {
    let locked = diesel::update(deliveries::table.find(delivery_id))
        .set(deliveries::updated_at.eq(deliveries::updated_at))
        .execute(conn)?;
    if locked == 0 {
        return Ok(Recorded::DeliveryGone);
    }
    let stored: String = deliveries::table
        .find(delivery_id)
        .select(deliveries::state)
        .first(conn)?;
    let state = DeliveryState::parse(&stored).ok_or_else(|| {
        DieselError::QueryBuilderError(format!("delivery in unknown state {stored:?}").into())
    })?;
    let this_event = delivery_events::table
        .filter(delivery_events::delivery_id.eq(delivery_id))
        .filter(delivery_events::raw_code.eq(&event.raw_code))
        .filter(delivery_events::occurred_at.eq(event.occurred_at));
    let rerun: bool = diesel::select(exists(
        this_event.filter(delivery_events::inbox_id.eq(inbox_id)),
    ))
    .get_result(conn)?;
    if rerun {
        return Ok(Recorded::AlreadyRecorded);
    }
    let already_applied: bool = diesel::select(exists(
        this_event
            .filter(delivery_events::source.eq(SOURCE_COURIER))
            .filter(delivery_events::applied.eq(true)),
    ))
    .get_result(conn)?;
    let latest: Option<NaiveDateTime> = delivery_events::table
        .filter(delivery_events::delivery_id.eq(delivery_id))
        .filter(delivery_events::source.eq(SOURCE_COURIER))
        .filter(delivery_events::outcome.eq_any(transitions::CONFIRMING))
        .select(max(delivery_events::occurred_at))
        .first(conn)?;
    let verdict = transitions::decide(
        &Current {
            state,
            latest_courier_event_at: latest,
            already_applied,
        },
        &Incoming {
            state: event.state,
            known_code: event.known_code,
            occurred_at: event.occurred_at,
        },
    );
    let event_id = insert_event(conn, delivery_id, courier, inbox_id, event, state, verdict)?;
    if let Verdict::Apply(to) = verdict {
        apply(conn, delivery_id, event, to, &event_id)?;
    }
    Ok(Recorded::Event(verdict))
}

/// The history row. Its state is what the courier said, or, for codes that are no state
/// (unknown, payouts), the state the delivery stayed in.
fn insert_event(
    conn: &mut DbConnection,
    delivery_id: &str,
    courier: Courier,
    inbox_id: &str,
    event: &CourierEvent,
    current: DeliveryState,
    verdict: Verdict,
) -> QueryResult<String> {
    let id = new_id();
    let state = match verdict {
        Verdict::Apply(to) => to,
        Verdict::Skip(_) => event.state.unwrap_or(current),
    };
    diesel::insert_into(delivery_events::table)
        .values((
            delivery_events::id.eq(&id),
            delivery_events::delivery_id.eq(delivery_id),
            delivery_events::state.eq(state.as_str()),
            delivery_events::reason.eq(event.reason.as_deref()),
            delivery_events::applied.eq(matches!(verdict, Verdict::Apply(_))),
            delivery_events::source.eq(SOURCE_COURIER),
            delivery_events::courier.eq(courier.as_str()),
            delivery_events::raw_code.eq(&event.raw_code),
            delivery_events::raw_text.eq(event.raw_text.as_deref()),
            delivery_events::location.eq(event.location.as_deref()),
            delivery_events::occurred_at.eq(event.occurred_at),
            delivery_events::recorded_at.eq(now_utc()),
            delivery_events::inbox_id.eq(inbox_id),
            delivery_events::outcome.eq(verdict.outcome()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The new state, and the work it causes: the agency's callback always, the citizen's
/// message for the states citizens hear about. The handlers of both kinds come with later
/// issues; until then the jobs wait, pending, and nothing claims them.
fn apply(
    conn: &mut DbConnection,
    delivery_id: &str,
    event: &CourierEvent,
    to: DeliveryState,
    event_id: &str,
) -> QueryResult<()> {
    let ended_at = to.is_terminal().then_some(event.occurred_at);
    let delivered_seconds = match to {
        DeliveryState::Delivered => Some(seconds_since_enqueue(conn, delivery_id, event)?),
        _ => None,
    };
    diesel::update(deliveries::table.find(delivery_id))
        .set((
            deliveries::state.eq(to.as_str()),
            deliveries::state_reason.eq(event.reason.as_deref()),
            deliveries::last_event_at.eq(event.occurred_at),
            deliveries::ended_at.eq(ended_at),
            deliveries::delivered_seconds.eq(delivered_seconds),
            deliveries::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    super::followups::state_changed(conn, delivery_id, event_id, to, event.occurred_at)
        .map_err(query_error)
}

/// Enqueue to delivery, for the reports (a courier clock behind ours counts as zero).
fn seconds_since_enqueue(
    conn: &mut DbConnection,
    delivery_id: &str,
    event: &CourierEvent,
) -> QueryResult<i64> {
    let created_at: NaiveDateTime = deliveries::table
        .find(delivery_id)
        .select(deliveries::created_at)
        .first(conn)?;
    Ok((event.occurred_at - created_at).num_seconds().max(0))
}

/// A store error as diesel's, for `?` inside a transaction closure.
pub(super) fn query_error(e: StoreError) -> DieselError {
    match e {
        StoreError::Query(e) => e,
        other => DieselError::QueryBuilderError(other.to_string().into()),
    }
}

/// A courier status code no mapping knows, as operators see it.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct UnknownCode {
    pub event_id: String,
    pub delivery_id: String,
    pub courier: Option<String>,
    pub raw_code: Option<String>,
    pub raw_text: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
}

/// Events whose status code no mapping knows, newest first: each needs a mapping decision.
pub fn unknown_codes(conn: &mut DbConnection, limit: i64) -> Result<Vec<UnknownCode>, StoreError> {
    Ok(delivery_events::table
        .filter(delivery_events::outcome.eq(Skip::UnknownCode.as_str()))
        .order(delivery_events::recorded_at.desc())
        .limit(limit)
        .select((
            delivery_events::id,
            delivery_events::delivery_id,
            delivery_events::courier,
            delivery_events::raw_code,
            delivery_events::raw_text,
            delivery_events::occurred_at,
            delivery_events::recorded_at,
        ))
        .load(conn)?)
}
