//! Citizen notifications: one row per (delivery, state, channel), planned by the `notify`
//! job and sent by a `send_notification` job each. The unique `(delivery_id, state, channel)`
//! is what makes a message go out once even when a courier repeats itself or a back-edge
//! brings a state round again.
//!
//! Status moves `pending → sending → sent | failed | pending (retry) | unconfirmed`;
//! `skipped` rows are planned messages the citizen opted out of.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::{agencies, deliveries, delivery_events, notification_optouts, notifications};
use super::{DbConnection, StoreError, jobs};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};

pub const PENDING: &str = "pending";
/// Handed to the provider; the answer is not recorded yet. Found so by a later attempt, the
/// send was interrupted (a crash, a lease that ran out) and may or may not have gone out.
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
/// Not sent because the citizen or the agency said no to the channel.
pub const SKIPPED: &str = "skipped";
/// An interrupted send on a channel that cannot be repeated safely: not sent again.
pub const UNCONFIRMED: &str = "unconfirmed";

pub const SMS: &str = "sms";
pub const EMAIL: &str = "email";

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub delivery_id: String,
    pub state: String,
    pub channel: String,
    pub status: String,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub event_id: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub destination_masked: Option<String>,
    pub fallback_of: Option<String>,
    #[serde(skip)]
    pub unsubscribe_token: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Who a delivery's messages go to, and what the agency allowed.
#[derive(Clone, Queryable)]
pub struct Recipient {
    pub phone: String,
    pub email: Option<String>,
    pub notify_sms: bool,
    pub notify_email: bool,
    pub anonymised_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipient")
            .field("has_email", &self.email.is_some())
            .field("notify_sms", &self.notify_sms)
            .field("notify_email", &self.notify_email)
            .finish_non_exhaustive()
    }
}

pub fn recipient(
    conn: &mut DbConnection,
    delivery_id: &str,
) -> Result<Option<Recipient>, StoreError> {
    Ok(deliveries::table
        .find(delivery_id)
        .select((
            deliveries::recipient_phone,
            deliveries::recipient_email,
            deliveries::notify_sms,
            deliveries::notify_email,
            deliveries::anonymised_at,
        ))
        .first(conn)
        .optional()?)
}

/// The opt-out list's key for an address: SHA-256 of the channel and the normalised address
/// (E.164 phone, lower-case email).
pub fn address_hash(channel: &str, address: &str) -> String {
    let normalised = address.trim().to_lowercase();
    hex::encode(Sha256::digest(format!("{channel}:{normalised}")))
}

pub fn opted_out(
    conn: &mut DbConnection,
    channel: &str,
    address: &str,
) -> Result<bool, StoreError> {
    let hash = address_hash(channel, address);
    let found: i64 = notification_optouts::table
        .filter(notification_optouts::channel.eq(channel))
        .filter(notification_optouts::address_hash.eq(hash))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Records that `address` wants no more messages on `channel`; `false` when it was already
/// on the list.
pub fn opt_out(
    conn: &mut DbConnection,
    channel: &str,
    address: &str,
    source: &str,
) -> Result<bool, StoreError> {
    let values = (
        notification_optouts::channel.eq(channel),
        notification_optouts::address_hash.eq(address_hash(channel, address)),
        notification_optouts::source.eq(source),
        notification_optouts::created_at.eq(now_utc()),
    );
    let insert = diesel::insert_into(notification_optouts::table).values(values);
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConnection::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(inserted > 0)
}

/// A message the `notify` job decided on.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub delivery_id: &'a str,
    pub event_id: Option<&'a str>,
    pub state: &'a str,
    pub channel: &'a str,
    /// `pending` (a send job is enqueued) or `skipped`.
    pub status: &'a str,
    pub due_at: NaiveDateTime,
    pub destination_masked: &'a str,
    pub fallback_of: Option<&'a str>,
    pub unsubscribe_token: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Inserts the row unless the (delivery, state, channel) already has one, and when it is
/// `pending` enqueues its `send_notification` job, due at `due_at`. Run it inside the caller's
/// transaction. `Some(id)` when inserted.
pub fn plan(conn: &mut DbConnection, n: &NewNotification) -> Result<Option<String>, StoreError> {
    let id = new_id();
    let now = now_utc();
    let values = (
        notifications::id.eq(&id),
        notifications::delivery_id.eq(n.delivery_id),
        notifications::event_id.eq(n.event_id),
        notifications::state.eq(n.state),
        notifications::channel.eq(n.channel),
        notifications::status.eq(n.status),
        notifications::due_at.eq(n.due_at),
        notifications::destination_masked.eq(n.destination_masked),
        notifications::fallback_of.eq(n.fallback_of),
        notifications::unsubscribe_token.eq(n.unsubscribe_token),
        notifications::last_error.eq(n.note),
        notifications::attempts.eq(0),
        notifications::created_at.eq(now),
        notifications::updated_at.eq(now),
    );
    let insert = diesel::insert_into(notifications::table).values(values);
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConnection::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    if inserted == 0 {
        return Ok(None);
    }
    if n.status == PENDING {
        let job = NewJob {
            kind: JobKind::SendNotification,
            delivery_id: Some(n.delivery_id.to_owned()),
            payload: serde_json::json!({ "notification_id": id }),
            run_at: Some(n.due_at),
        };
        jobs::enqueue(conn, &job)?;
    }
    Ok(Some(id))
}

/// Another `send_notification` job for a row, due at `at` (quiet hours reached it between
/// retries).
pub fn reschedule(
    conn: &mut DbConnection,
    n: &NotificationRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(notifications::table.find(&n.id))
        .set((
            notifications::due_at.eq(at),
            notifications::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    let job = NewJob {
        kind: JobKind::SendNotification,
        delivery_id: Some(n.delivery_id.clone()),
        payload: serde_json::json!({ "notification_id": n.id }),
        run_at: Some(at),
    };
    jobs::enqueue(conn, &job)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<NotificationRow>, StoreError> {
    Ok(notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_unsubscribe_token(
    conn: &mut DbConnection,
    token: &str,
) -> Result<Option<NotificationRow>, StoreError> {
    Ok(notifications::table
        .filter(notifications::unsubscribe_token.eq(token))
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?)
}

/// A delivery's messages, oldest first.
pub fn for_delivery(
    conn: &mut DbConnection,
    delivery_id: &str,
) -> Result<Vec<NotificationRow>, StoreError> {
    Ok(notifications::table
        .filter(notifications::delivery_id.eq(delivery_id))
        .order((notifications::created_at.asc(), notifications::id.asc()))
        .select(NotificationRow::as_select())
        .load(conn)?)
}

/// Whether a send may start, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// `pending → sending`, attempt counted.
    Fresh,
    /// It was already `sending`: an earlier attempt was interrupted (attempt counted).
    Interrupted,
    /// It ended already (`sent`, `failed`, `skipped`, `unconfirmed`): nothing to do.
    Ended,
}

/// Marks the row `sending` and counts the attempt, committing before anything goes out.
pub fn begin_send(conn: &mut DbConnection, id: &str) -> Result<Begin, StoreError> {
    let now = now_utc();
    let from_pending = diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::status.eq(PENDING)),
    )
    .set((
        notifications::status.eq(SENDING),
        notifications::attempts.eq(notifications::attempts + 1),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)?;
    if from_pending > 0 {
        return Ok(Begin::Fresh);
    }
    let interrupted = diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::status.eq(SENDING)),
    )
    .set((
        notifications::attempts.eq(notifications::attempts + 1),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(if interrupted > 0 {
        Begin::Interrupted
    } else {
        Begin::Ended
    })
}

/// The provider took it. Wins over any other status: the message is out.
pub fn record_sent(
    conn: &mut DbConnection,
    id: &str,
    provider: &str,
    provider_message_id: &str,
) -> Result<(), StoreError> {
    let now = now_utc();
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(SENT),
            notifications::provider.eq(provider),
            notifications::provider_message_id.eq(provider_message_id),
            notifications::sent_at.eq(now),
            notifications::last_error.eq(None::<String>),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a row that is not `sent` with `status` (`failed`, `unconfirmed`, `skipped`), or puts
/// it back to `pending` for a retry; `error` says why (no addresses).
pub fn record_outcome(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    provider: Option<&str>,
    error: &str,
) -> Result<(), StoreError> {
    diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::status.ne(SENT)),
    )
    .set((
        notifications::status.eq(status),
        notifications::provider.eq(provider),
        notifications::last_error.eq(error),
        notifications::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(())
}

/// What a message says: the delivery, its agency and the event that caused it.
#[derive(Clone)]
pub struct MessageFacts {
    pub tracking_code: String,
    pub dossier_code: String,
    pub procedure_name: Option<String>,
    pub agency_name: String,
    pub agency_office: Option<String>,
    pub recipient_name: String,
    pub courier: String,
    pub courier_tracking_number: Option<String>,
    pub collect_on_delivery_vnd: i64,
    pub state_reason: Option<String>,
    pub event_reason: Option<String>,
    pub event_location: Option<String>,
    pub event_occurred_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for MessageFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageFacts")
            .field("tracking_code", &self.tracking_code)
            .field("courier", &self.courier)
            .finish_non_exhaustive()
    }
}

/// The facts for a row's message; the event's when the row names one.
pub fn message_facts(
    conn: &mut DbConnection,
    n: &NotificationRow,
) -> Result<Option<MessageFacts>, StoreError> {
    type Base = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
    );
    let base: Option<Base> = deliveries::table
        .inner_join(agencies::table)
        .filter(deliveries::id.eq(&n.delivery_id))
        .select((
            deliveries::tracking_code,
            deliveries::dossier_code,
            deliveries::procedure_name,
            agencies::name,
            deliveries::agency_office,
            deliveries::recipient_name,
            deliveries::courier,
            deliveries::courier_tracking_number,
            deliveries::collect_on_delivery_vnd,
            deliveries::state_reason,
        ))
        .first(conn)
        .optional()?;
    let Some(b) = base else { return Ok(None) };
    let event: Option<(Option<String>, Option<String>, NaiveDateTime)> = match &n.event_id {
        Some(event_id) => delivery_events::table
            .find(event_id)
            .select((
                delivery_events::reason,
                delivery_events::location,
                delivery_events::occurred_at,
            ))
            .first(conn)
            .optional()?,
        None => None,
    };
    let (event_reason, event_location, event_occurred_at) = match event {
        Some((r, l, t)) => (r, l, Some(t)),
        None => (None, None, None),
    };
    Ok(Some(MessageFacts {
        tracking_code: b.0,
        dossier_code: b.1,
        procedure_name: b.2,
        agency_name: b.3,
        agency_office: b.4,
        recipient_name: b.5,
        courier: b.6,
        courier_tracking_number: b.7,
        collect_on_delivery_vnd: b.8,
        state_reason: b.9,
        event_reason,
        event_location,
        event_occurred_at,
    }))
}
