//! Dispatch's side of a delivery: what to send, the intent recorded before a create call,
//! the outcome, the masked courier exchanges, and the operator's retry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::deliveries::{DeliveryRow, EventRow};
use super::schema::{agencies, courier_exchanges, deliveries, delivery_events, outbox_jobs};
use super::{DbConnection, StoreError, jobs};
use crate::couriers::exchange::Exchange;
use crate::domain::courier::Courier;
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::state::DeliveryState;

/// The agency's return address: where the courier picks the parcel up.
#[derive(Debug, Clone, Queryable)]
pub struct Sender {
    pub name: String,
    pub ward_code: Option<String>,
    pub line: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DispatchTarget {
    pub delivery: DeliveryRow,
    /// A courier a create call went to without a recorded outcome: ask it again first.
    pub dispatch_courier: Option<String>,
    pub sender: Sender,
}

pub fn load(conn: &mut DbConnection, id: &str) -> Result<Option<DispatchTarget>, StoreError> {
    let found: Option<(DeliveryRow, Option<String>, Sender)> = deliveries::table
        .inner_join(agencies::table)
        .filter(deliveries::id.eq(id))
        .select((
            DeliveryRow::as_select(),
            deliveries::dispatch_courier,
            (
                agencies::name,
                agencies::sender_ward_code,
                agencies::sender_line,
                agencies::sender_phone,
            ),
        ))
        .first(conn)
        .optional()?;
    Ok(
        found.map(|(delivery, dispatch_courier, sender)| DispatchTarget {
            delivery,
            dispatch_courier,
            sender,
        }),
    )
}

type Undispatched<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<deliveries::table, &'a str>,
        diesel::dsl::Eq<deliveries::state, &'static str>,
    >,
    diesel::dsl::IsNull<deliveries::courier_tracking_number>,
>;

/// The delivery while it waits for its first courier order.
fn still_undispatched(id: &str) -> Undispatched<'_> {
    deliveries::table
        .find(id)
        .filter(deliveries::state.eq(DeliveryState::Received.as_str()))
        .filter(deliveries::courier_tracking_number.is_null())
}

/// Records, before the create call, that `courier` may get an order for this delivery.
/// Refused (`false`) when the delivery is no longer waiting or another courier holds it.
pub fn mark_intent(
    conn: &mut DbConnection,
    id: &str,
    courier: Courier,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        still_undispatched(id).filter(
            deliveries::dispatch_courier
                .is_null()
                .or(deliveries::dispatch_courier.eq(courier.as_str())),
        ),
    )
    .set(deliveries::dispatch_courier.eq(courier.as_str()))
    .execute(conn)?;
    Ok(changed == 1)
}

/// `courier` answered for sure that it has no order: another courier may be tried.
pub fn clear_intent(conn: &mut DbConnection, id: &str, courier: Courier) -> Result<(), StoreError> {
    diesel::update(
        deliveries::table
            .find(id)
            .filter(deliveries::dispatch_courier.eq(courier.as_str())),
    )
    .set(deliveries::dispatch_courier.eq(None::<String>))
    .execute(conn)?;
    Ok(())
}

/// What a courier accepted.
#[derive(Debug, Clone)]
pub struct Created {
    pub courier: Courier,
    pub service_code: String,
    pub tracking_number: String,
    pub fee_vnd: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The delivery is now `awaiting_pickup`.
    Dispatched,
    /// An earlier run already recorded it.
    AlreadyDispatched,
    /// The agency cancelled while the order was being created: a courier cancel is queued.
    CancelledMeanwhile,
}

/// Stores the courier's order and moves the delivery to `awaiting_pickup`, in one transaction.
pub fn record_created(
    conn: &mut DbConnection,
    id: &str,
    created: &Created,
) -> Result<Recorded, StoreError> {
    // Conditional updates rather than a row lock: the same on both backends, and a
    // concurrent cancel or an earlier run decides which branch matches.
    conn.transaction(|conn| {
        let now = now_utc();
        let awaiting = DeliveryState::AwaitingPickup.as_str();
        let set_order = || {
            (
                deliveries::courier.eq(created.courier.as_str()),
                deliveries::service_code.eq(&created.service_code),
                deliveries::courier_tracking_number.eq(&created.tracking_number),
                deliveries::courier_fee_vnd.eq(created.fee_vnd),
                deliveries::dispatch_courier.eq(None::<String>),
                deliveries::dispatched_at.eq(now),
                deliveries::updated_at.eq(now),
            )
        };
        let unordered = deliveries::table
            .find(id)
            .filter(deliveries::courier_tracking_number.is_null());
        let waiting = [
            DeliveryState::Received.as_str(),
            DeliveryState::DispatchFailed.as_str(),
        ];
        let dispatched = diesel::update(unordered.filter(deliveries::state.eq_any(waiting)))
            .set((
                set_order(),
                deliveries::state.eq(awaiting),
                deliveries::state_reason.eq(None::<String>),
                deliveries::last_event_at.eq(now),
            ))
            .execute(conn)?;
        let outcome = if dispatched == 1 {
            Recorded::Dispatched
        } else {
            let cancelled = DeliveryState::Cancelled.as_str();
            let kept = diesel::update(unordered.filter(deliveries::state.eq(cancelled)))
                .set(set_order())
                .execute(conn)?;
            if kept == 0 {
                return Ok(Recorded::AlreadyDispatched);
            }
            enqueue_courier_cancel(conn, id, created.courier, &created.tracking_number)?;
            Recorded::CancelledMeanwhile
        };
        let event = dispatch_event(id, created, outcome == Recorded::Dispatched, now);
        diesel::insert_into(delivery_events::table)
            .values(&event)
            .execute(conn)?;
        if outcome == Recorded::Dispatched {
            let state = DeliveryState::AwaitingPickup;
            super::followups::state_changed(conn, id, &event.id, state, now)?;
        }
        Ok(outcome)
    })
}

fn dispatch_event(id: &str, created: &Created, applied: bool, now: NaiveDateTime) -> EventRow {
    EventRow {
        applied,
        courier: Some(created.courier.as_str().into()),
        raw_text: Some(format!("order {}", created.tracking_number)),
        ..EventRow::ours(id, DeliveryState::AwaitingPickup, None, "dispatch", now)
    }
}

/// Queues the courier-side cancellation of an existing order.
pub fn enqueue_courier_cancel(
    conn: &mut DbConnection,
    id: &str,
    courier: Courier,
    tracking_number: &str,
) -> Result<(), StoreError> {
    jobs::enqueue(
        conn,
        &NewJob {
            kind: JobKind::CourierCancel,
            delivery_id: Some(id.to_owned()),
            payload: serde_json::json!({
                "courier": courier.as_str(),
                "tracking_number": tracking_number,
            }),
            run_at: None,
        },
    )?;
    Ok(())
}

/// No courier took the order: `dispatch_failed` with the reasons, for the operator.
pub fn record_failed(conn: &mut DbConnection, id: &str, reasons: &str) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let now = now_utc();
        let failed = DeliveryState::DispatchFailed.as_str();
        let changed = diesel::update(still_undispatched(id))
            .set((
                deliveries::state.eq(failed),
                deliveries::state_reason.eq(reasons),
                deliveries::updated_at.eq(now),
                deliveries::last_event_at.eq(now),
            ))
            .execute(conn)?;
        if changed == 1 {
            let state = DeliveryState::DispatchFailed;
            let event = EventRow::ours(id, state, Some(reasons), "dispatch", now);
            diesel::insert_into(delivery_events::table)
                .values(&event)
                .execute(conn)?;
            super::followups::state_changed(conn, id, &event.id, state, now)?;
        }
        Ok(changed == 1)
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    Requeued,
    /// Only `dispatch_failed` deliveries are retried; this is the state it is in.
    NotFailed(String),
    NotFound,
}

/// The operator's retry of a `dispatch_failed` delivery: back to `received`, its parked
/// dispatch job requeued with a fresh budget (or a new one when none is parked).
pub fn retry(conn: &mut DbConnection, id: &str) -> Result<RetryOutcome, StoreError> {
    conn.transaction(|conn| {
        let now = now_utc();
        let received = DeliveryState::Received.as_str();
        let changed = diesel::update(
            deliveries::table
                .find(id)
                .filter(deliveries::state.eq(DeliveryState::DispatchFailed.as_str())),
        )
        .set((
            deliveries::state.eq(received),
            deliveries::state_reason.eq(None::<String>),
            deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            let state: Option<String> = deliveries::table
                .find(id)
                .select(deliveries::state)
                .first(conn)
                .optional()?;
            return Ok(state.map_or(RetryOutcome::NotFound, RetryOutcome::NotFailed));
        }
        let reason = Some("dispatch retried by the operator");
        diesel::insert_into(delivery_events::table)
            .values(&EventRow::ours(
                id,
                DeliveryState::Received,
                reason,
                "operator",
                now,
            ))
            .execute(conn)?;
        let parked: Option<String> = outbox_jobs::table
            .filter(outbox_jobs::delivery_id.eq(id))
            .filter(outbox_jobs::kind.eq(JobKind::Dispatch.as_str()))
            .filter(outbox_jobs::status.eq("parked"))
            .select(outbox_jobs::id)
            .first(conn)
            .optional()?;
        match parked {
            Some(job_id) => {
                jobs::requeue(conn, &job_id)?;
            }
            None => {
                jobs::enqueue(conn, &NewJob::dispatch(id))?;
            }
        }
        Ok(RetryOutcome::Requeued)
    })
}

/// Keeps the masked courier calls of one dispatch attempt.
pub fn save_exchanges(
    conn: &mut DbConnection,
    id: &str,
    job_id: Option<&str>,
    exchanges: &[Exchange],
) -> Result<(), StoreError> {
    let now = now_utc();
    for e in exchanges {
        diesel::insert_into(courier_exchanges::table)
            .values((
                courier_exchanges::id.eq(new_id()),
                courier_exchanges::delivery_id.eq(id),
                courier_exchanges::job_id.eq(job_id),
                courier_exchanges::courier.eq(e.courier.as_str()),
                courier_exchanges::operation.eq(&e.operation),
                courier_exchanges::status_code.eq(e.status_code.map(i32::from)),
                courier_exchanges::duration_ms.eq(e.duration_ms),
                courier_exchanges::request_body.eq(&e.request_body),
                courier_exchanges::response_body.eq(&e.response_body),
                courier_exchanges::error.eq(&e.error),
                courier_exchanges::occurred_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = courier_exchanges)]
pub struct ExchangeRow {
    pub courier: String,
    pub operation: String,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub occurred_at: NaiveDateTime,
}

/// A delivery's courier calls, oldest first.
pub fn exchanges(conn: &mut DbConnection, id: &str) -> Result<Vec<ExchangeRow>, StoreError> {
    Ok(courier_exchanges::table
        .filter(courier_exchanges::delivery_id.eq(id))
        .order((courier_exchanges::occurred_at, courier_exchanges::id))
        .select(ExchangeRow::as_select())
        .load(conn)?)
}

/// A delivery as the operator sees it: routing, courier and failure details, no personal data.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct OperatorRow {
    pub id: String,
    pub agency_id: String,
    pub dossier_code: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub ward_code: String,
    pub courier: String,
    pub service_code: String,
    pub fallback_courier: Option<String>,
    pub courier_tracking_number: Option<String>,
    pub courier_fee_vnd: Option<i64>,
    pub dispatch_courier: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Newest change first, optionally in one state (`dispatch_failed`: the failure queue).
pub fn list_for_operator(
    conn: &mut DbConnection,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<OperatorRow>, StoreError> {
    let mut query = deliveries::table
        .select(OperatorRow::as_select())
        .order((deliveries::updated_at.desc(), deliveries::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(deliveries::state.eq(state.to_owned()));
    }
    Ok(query.load(conn)?)
}

pub fn find_for_operator(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<OperatorRow>, StoreError> {
    Ok(deliveries::table
        .find(id)
        .select(OperatorRow::as_select())
        .first(conn)
        .optional()?)
}
