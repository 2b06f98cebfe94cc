//! The `notify` job: a state change the citizen hears about becomes one `notifications` row
//! per channel, each with its own `send_notification` job, in one transaction.
//!
//! - on the primary channel (`notify.primary_channel`, SMS by default) and, with
//!   `notify.send_both` (the default), also on the other; without it the other channel
//!   stands in only when the first cannot be used or fails. SMS needs the agency's leave,
//!   email an address and the agency's leave;
//! - an address on the opt-out list gets a `skipped` row, so the delivery shows why;
//! - SMS in quiet hours is due at their end, unless the message kind is urgent.
//!
//! The unique (delivery, state, channel) makes a repeated job, or a state reached twice, a
//! no-op.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Deserialize;

use super::{ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::domain::jobs::JobKind;
use crate::domain::masking::{mask_email, mask_phone};
use crate::domain::notification::MessageKind;
use crate::domain::state::DeliveryState;
use crate::notify::Notifier;
use crate::store::notifications::{self as store, NewNotification, Recipient};
use crate::store::{DbConnection, StoreError};

pub struct NotifyHandler;

/// Written by `store::followups::state_changed`.
#[derive(Deserialize)]
struct Payload {
    delivery_id: String,
    event_id: String,
    state: String,
}

#[async_trait]
impl JobHandler for NotifyHandler {
    fn kind(&self) -> JobKind {
        JobKind::Notify
    }

    async fn run(&self, job: &ClaimedJob, ctx: &AppState) -> Result<(), JobError> {
        let payload: Payload = job
            .payload()
            .map_err(|e| JobError::permanent(format!("unreadable notify payload: {e}")))?;
        let Some(kind) = DeliveryState::parse(&payload.state).and_then(MessageKind::for_state)
        else {
            return Ok(());
        };
        let notifier = ctx.notifier.clone();
        let now = Utc::now();
        let planned = ctx
            .db
            .run(move |c| {
                c.transaction::<_, StoreError, _>(|c| plan(c, &notifier, &payload, kind, now))
            })
            .await
            .map_err(JobError::retry)?;
        for channel in planned {
            metrics::counter!("civicpost_notifications_planned_total", "channel" => channel)
                .increment(1);
        }
        Ok(())
    }
}

/// The rows for one message, inside the caller's transaction; the channels given a send job.
fn plan(
    conn: &mut DbConnection,
    notifier: &Notifier,
    p: &Payload,
    kind: MessageKind,
    now: DateTime<Utc>,
) -> Result<Vec<&'static str>, StoreError> {
    let Some(recipient) = store::recipient(conn, &p.delivery_id)? else {
        return Ok(Vec::new());
    };
    if recipient.anonymised_at.is_some() {
        return Ok(Vec::new());
    }
    let mut planned = Vec::new();
    let first = notifier.primary;
    let mut first_usable = false;
    for channel in [first, Notifier::other(first)] {
        // The second channel waits in reserve unless both are wanted or the first cannot
        // carry the message (no address, opted out, turned off).
        if channel != first && !notifier.send_both && first_usable {
            break;
        }
        let Some(row) = row_for(conn, notifier, &recipient, channel, kind, now)? else {
            continue;
        };
        first_usable |= channel == first && row.status == store::PENDING;
        let new = NewNotification {
            delivery_id: &p.delivery_id,
            event_id: Some(&p.event_id),
            state: &p.state,
            fallback_of: None,
            ..row.as_new()
        };
        if store::plan(conn, &new)?.is_some() && row.status == store::PENDING {
            planned.push(channel);
        }
    }
    Ok(planned)
}

/// What one channel's row will say, before it is tied to a delivery and event.
pub(super) struct ChannelRow {
    pub channel: &'static str,
    pub status: &'static str,
    pub due_at: chrono::NaiveDateTime,
    pub destination_masked: String,
    pub unsubscribe_token: Option<String>,
    pub note: Option<&'static str>,
}

impl ChannelRow {
    pub fn as_new(&self) -> NewNotification<'_> {
        NewNotification {
            delivery_id: "",
            event_id: None,
            state: "",
            channel: self.channel,
            status: self.status,
            due_at: self.due_at,
            destination_masked: &self.destination_masked,
            fallback_of: None,
            unsubscribe_token: self.unsubscribe_token.as_deref(),
            note: self.note,
        }
    }
}

/// The row `channel` gets for this recipient: `None` when the channel does not apply (no
/// email address), `skipped` when the agency or the citizen said no, else `pending` and due
/// now or at the end of quiet hours.
pub(super) fn row_for(
    conn: &mut DbConnection,
    notifier: &Notifier,
    r: &Recipient,
    channel: &'static str,
    kind: MessageKind,
    now: DateTime<Utc>,
) -> Result<Option<ChannelRow>, StoreError> {
    let (address, allowed, masked) = if channel == store::SMS {
        (r.phone.as_str(), r.notify_sms, mask_phone(&r.phone))
    } else {
        let Some(email) = r.email.as_deref() else {
            return Ok(None);
        };
        (email, r.notify_email, mask_email(email))
    };
    let skip = if !allowed {
        Some("the agency asked for no messages on this channel")
    } else if store::opted_out(conn, channel, address)? {
        Some("the citizen opted out of this channel")
    } else {
        None
    };
    let due = if channel == store::SMS && !notifier.is_urgent(kind) {
        notifier.quiet.next_allowed(now)
    } else {
        now
    };
    Ok(Some(ChannelRow {
        channel,
        status: if skip.is_some() {
            store::SKIPPED
        } else {
            store::PENDING
        },
        due_at: due.naive_utc(),
        destination_masked: masked,
        unsubscribe_token: (channel == store::EMAIL).then(unsubscribe_token),
        note: skip,
    }))
}

/// 128 random bits, hex: the email's unsubscribe link, unguessable and tied to its row.
fn unsubscribe_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
