//! Deliveries: the one-transaction intake (delivery + first event + dispatch job), idempotent
//! replays, agency-scoped reads and cancellation.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{deliveries, delivery_events, idempotency_records, outbox_jobs};
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::state::DeliveryState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub agency_id: String,
    pub dossier_code: String,
    pub tracking_code: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub agency_office: Option<String>,
    pub recipient_name: String,
    pub recipient_phone: String,
    pub recipient_email: Option<String>,
    pub address_line: String,
    pub ward_code: String,
    pub province_code: String,
    pub legacy_ward_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub weight_grams: i32,
    pub document_count: Option<i32>,
    pub declared_value_vnd: Option<i64>,
    pub postage_paid_by: String,
    pub collect_on_delivery_vnd: i64,
    pub courier: String,
    pub service_code: String,
    pub sla_hours: i32,
    pub fallback_courier: Option<String>,
    pub routing_rule_id: Option<String>,
    pub courier_tracking_number: Option<String>,
    pub notes: Option<String>,
    pub notify_sms: bool,
    pub notify_email: bool,
    pub request_fingerprint: String,
    pub request_fields: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_event_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub anonymised_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = delivery_events)]
pub struct EventRow {
    pub id: String,
    pub delivery_id: String,
    pub state: String,
    pub reason: Option<String>,
    pub applied: bool,
    pub source: String,
    pub courier: Option<String>,
    pub raw_code: Option<String>,
    pub raw_text: Option<String>,
    pub location: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub inbox_id: Option<String>,
}

impl EventRow {
    /// An applied event this service makes itself (intake, the agency, dispatch, the
    /// operator), at `at`, with no courier details.
    pub fn ours(
        delivery_id: &str,
        state: DeliveryState,
        reason: Option<&str>,
        source: &str,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            id: new_id(),
            delivery_id: delivery_id.to_owned(),
            state: state.as_str().to_owned(),
            reason: reason.map(str::to_owned),
            applied: true,
            source: source.to_owned(),
            courier: None,
            raw_code: None,
            raw_text: None,
            location: None,
            occurred_at: at,
            recorded_at: at,
            inbox_id: None,
        }
    }
}

/// What intake did with a request.
#[derive(Debug)]
pub enum Intake {
    Created(Box<DeliveryRow>),
    /// The same request again (same dossier code or Idempotency-Key, same body).
    Replayed(Box<DeliveryRow>),
    /// Same dossier code or key, different body: the fields that differ.
    Conflict {
        existing: Box<DeliveryRow>,
        differing: Vec<String>,
    },
}

/// How long an Idempotency-Key is remembered.
const IDEMPOTENCY_HOURS: i64 = 24;
/// Tracking codes are random; a collision is astronomically rare but must not become a 500.
const TRACKING_CODE_TRIES: usize = 3;

/// Writes the delivery, its `received` event, its dispatch job and the idempotency record in
/// one transaction, or answers with the delivery a previous identical request made.
/// `new_tracking_code` is called again if a code happens to be taken.
pub fn create(
    conn: &mut DbConnection,
    mut row: DeliveryRow,
    idempotency_key: Option<&str>,
    mut new_tracking_code: impl FnMut() -> String,
) -> Result<Intake, StoreError> {
    // With an Idempotency-Key the key decides, so look first. Without one, the common case
    // is a new dossier: insert straight away and let the unique (agency, dossier) key catch
    // replays and races, saving a query on the hot path.
    if idempotency_key.is_some()
        && let Some(previous) = find_previous(conn, &row, idempotency_key)?
    {
        return Ok(compare(previous, &row));
    }
    for _ in 0..TRACKING_CODE_TRIES {
        match conn.transaction(|conn| insert_all(conn, &row, idempotency_key)) {
            Ok(()) => return Ok(Intake::Created(Box::new(row))),
            // A concurrent identical request won the race, or the tracking code is taken:
            // answer with the winner, or retry with a new code.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                if let Some(previous) = find_previous(conn, &row, idempotency_key)? {
                    return Ok(compare(previous, &row));
                }
                row.tracking_code = new_tracking_code();
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Task(
        "could not store the delivery after several tries".into(),
    ))
}

fn insert_all(
    conn: &mut DbConnection,
    row: &DeliveryRow,
    idempotency_key: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values(row)
        .execute(conn)?;
    diesel::insert_into(delivery_events::table)
        .values(&EventRow::ours(
            &row.id,
            DeliveryState::Received,
            None,
            "intake",
            row.created_at,
        ))
        .execute(conn)?;
    super::jobs::enqueue(conn, &NewJob::dispatch(&row.id)).map_err(into_diesel)?;
    if let Some(key) = idempotency_key {
        let now = now_utc();
        diesel::delete(
            idempotency_records::table
                .filter(idempotency_records::agency_id.eq(&row.agency_id))
                .filter(idempotency_records::idempotency_key.eq(key))
                .filter(idempotency_records::expires_at.le(now)),
        )
        .execute(conn)?;
        diesel::insert_into(idempotency_records::table)
            .values((
                idempotency_records::agency_id.eq(&row.agency_id),
                idempotency_records::idempotency_key.eq(key),
                idempotency_records::request_fingerprint.eq(&row.request_fingerprint),
                idempotency_records::delivery_id.eq(&row.id),
                idempotency_records::response_status.eq(201),
                idempotency_records::created_at.eq(now),
                idempotency_records::expires_at
                    .eq(now + chrono::Duration::hours(IDEMPOTENCY_HOURS)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn into_diesel(e: StoreError) -> DieselError {
    match e {
        StoreError::Query(e) => e,
        other => DieselError::QueryBuilderError(other.to_string().into()),
    }
}

/// The delivery an earlier request made under the same Idempotency-Key (while remembered)
/// or the same dossier code.
fn find_previous(
    conn: &mut DbConnection,
    row: &DeliveryRow,
    key: Option<&str>,
) -> Result<Option<DeliveryRow>, StoreError> {
    if let Some(key) = key {
        let remembered: Option<Option<String>> = idempotency_records::table
            .filter(idempotency_records::agency_id.eq(&row.agency_id))
            .filter(idempotency_records::idempotency_key.eq(key))
            .filter(idempotency_records::expires_at.gt(now_utc()))
            .select(idempotency_records::delivery_id)
            .first(conn)
            .optional()?;
        if let Some(Some(id)) = remembered {
            return Ok(deliveries::table
                .find(id)
                .select(DeliveryRow::as_select())
                .first(conn)
                .optional()?);
        }
    }
    Ok(deliveries::table
        .filter(deliveries::agency_id.eq(&row.agency_id))
        .filter(deliveries::dossier_code.eq(&row.dossier_code))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

fn compare(previous: DeliveryRow, attempt: &DeliveryRow) -> Intake {
    if previous.request_fingerprint == attempt.request_fingerprint {
        return Intake::Replayed(Box::new(previous));
    }
    let parse = |s: &str| serde_json::from_str::<BTreeMap<String, String>>(s).unwrap_or_default();
    let (old, new) = (
        parse(&previous.request_fields),
        parse(&attempt.request_fields),
    );
    let differing: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Intake::Conflict {
        existing: Box::new(previous),
        differing,
    }
}

/// One delivery, only if it belongs to `agency_id` (another agency's id is simply not found).
pub fn find_for_agency(
    conn: &mut DbConnection,
    agency_id: &str,
    id: &str,
) -> Result<Option<DeliveryRow>, StoreError> {
    Ok(deliveries::table
        .find(id)
        .filter(deliveries::agency_id.eq(agency_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for listing an agency's deliveries, newest first.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub dossier_code: Option<String>,
    pub state: Option<DeliveryState>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    /// The id of the last delivery of the previous page (ids are time-ordered UUID v7).
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn list_for_agency(
    conn: &mut DbConnection,
    agency_id: &str,
    filter: &ListFilter,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let mut query = deliveries::table
        .filter(deliveries::agency_id.eq(agency_id.to_owned()))
        .select(DeliveryRow::as_select())
        .order(deliveries::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(code) = &filter.dossier_code {
        query = query.filter(deliveries::dossier_code.eq(code.clone()));
    }
    if let Some(state) = filter.state {
        query = query.filter(deliveries::state.eq(state.as_str()));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(deliveries::created_at.ge(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(deliveries::created_at.lt(to));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(deliveries::id.lt(after.clone()));
    }
    Ok(query.load(conn)?)
}

pub fn events(conn: &mut DbConnection, delivery_id: &str) -> Result<Vec<EventRow>, StoreError> {
    Ok(delivery_events::table
        .filter(delivery_events::delivery_id.eq(delivery_id))
        .order((
            delivery_events::occurred_at.asc(),
            delivery_events::id.asc(),
        ))
        .select(EventRow::as_select())
        .load(conn)?)
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such delivery")]
    NotFound,
    #[error("the delivery is already {0}; it can be cancelled only before the courier picks it up")]
    TooLate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DieselError> for CancelError {
    fn from(e: DieselError) -> Self {
        CancelError::Store(e.into())
    }
}

/// Cancels before pickup: new state, an event, and the pending dispatch job withdrawn, together.
pub fn cancel(
    conn: &mut DbConnection,
    agency_id: &str,
    id: &str,
    reason: Option<&str>,
) -> Result<DeliveryRow, CancelError> {
    conn.transaction(|conn| {
        let row = find_for_agency(conn, agency_id, id)?.ok_or(CancelError::NotFound)?;
        let state = DeliveryState::parse(&row.state);
        if row.state == DeliveryState::Cancelled.as_str() {
            return Ok(row);
        }
        if !state.is_some_and(DeliveryState::can_cancel) {
            return Err(CancelError::TooLate(row.state));
        }
        let now = now_utc();
        let cancelled = DeliveryState::Cancelled.as_str();
        // The state guard makes a concurrent courier update win cleanly instead of being overwritten.
        let changed = diesel::update(
            deliveries::table
                .find(id)
                .filter(deliveries::state.eq(&row.state)),
        )
        .set((
            deliveries::state.eq(cancelled),
            deliveries::state_reason.eq(reason),
            deliveries::updated_at.eq(now),
            deliveries::last_event_at.eq(now),
            deliveries::ended_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(CancelError::TooLate(row.state));
        }
        let event = EventRow::ours(id, DeliveryState::Cancelled, reason, "agency", now);
        diesel::insert_into(delivery_events::table)
            .values(&event)
            .execute(conn)?;
        super::followups::state_changed(conn, id, &event.id, DeliveryState::Cancelled, now)?;
        diesel::update(
            outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(id))
                .filter(outbox_jobs::kind.eq(JobKind::Dispatch.as_str()))
                .filter(outbox_jobs::status.eq("pending")),
        )
        .set((
            outbox_jobs::status.eq("cancelled"),
            outbox_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
        // An order already at the courier is cancelled there too, by a job that retries.
        if let (Some(tracking), Some(courier)) = (
            row.courier_tracking_number.as_deref(),
            Courier::parse(&row.courier),
        ) {
            super::dispatch::enqueue_courier_cancel(conn, id, courier, tracking)?;
        }
        find_for_agency(conn, agency_id, id)?.ok_or(CancelError::NotFound)
    })
}
