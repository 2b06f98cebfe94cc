//! The `send_notification` job: one planned message out through its channel, once.
//!
//! Before anything goes out the row is marked `sending` and committed. A later attempt that
//! finds it still `sending` knows an earlier send was cut off (a crash, a lease that ran
//! out) and may have gone out: an SMS is sent again under the same request id, which the
//! gateway answers with the first message's id instead of sending twice; an email, which no
//! SMTP server deduplicates, is marked `unconfirmed` and not sent again.
//!
//! A temporary failure (gateway 5xx, SMTP 4xx, a timeout) retries with backoff; a permanent
//! one (invalid number, rejected address), or the last attempt, fails the row and hands the
//! message to the other channel when the citizen has one. The citizen's opt-out and quiet
//! hours are checked again right before sending: either may have changed since planning.

use async_trait::async_trait;
use chrono::Utc;
use diesel::Connection;
use serde::Deserialize;

use super::notify::row_for;
use super::{ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::domain::jobs::JobKind;
use crate::domain::notification::MessageKind;
use crate::domain::state::DeliveryState;
use crate::notify::facts::{self, Links};
use crate::notify::{FailureKind, SendError, Sent};
use crate::store::StoreError;
use crate::store::notifications::{self as store, Begin, NewNotification, NotificationRow};

pub struct SendNotificationHandler;

#[derive(Deserialize)]
struct Payload {
    notification_id: String,
}

#[async_trait]
impl JobHandler for SendNotificationHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendNotification
    }

    async fn run(&self, job: &ClaimedJob, ctx: &AppState) -> Result<(), JobError> {
        let payload: Payload = job
            .payload()
            .map_err(|e| JobError::permanent(format!("unreadable notification payload: {e}")))?;
        let id = payload.notification_id;
        let row = db(ctx, {
            let id = id.clone();
            move |c| store::find(c, &id)
        })
        .await?
        .ok_or_else(|| JobError::permanent("the notification no longer exists"))?;
        let Some(kind) = DeliveryState::parse(&row.state).and_then(MessageKind::for_state) else {
            return Err(JobError::permanent(format!(
                "no message for state {}",
                row.state
            )));
        };
        if let Some(end) = still_wanted(ctx, &row, kind).await? {
            return end;
        }
        let begin = db(ctx, {
            let id = id.clone();
            move |c| store::begin_send(c, &id)
        })
        .await?;
        match begin {
            Begin::Ended => return Ok(()),
            Begin::Interrupted if !ctx.notifier.can_repeat(&row.channel) => {
                let note = "an earlier send was interrupted and may have gone out: not sent again";
                end(ctx, &row, store::UNCONFIRMED, None, note).await?;
                count(&row.channel, "unconfirmed");
                tracing::warn!(notification_id = %row.id, delivery_id = %row.delivery_id,
                    channel = %row.channel, "{note}");
                return Ok(());
            }
            Begin::Fresh | Begin::Interrupted => {}
        }
        let outcome = send(ctx, &row, kind).await;
        settle(ctx, job, &row, outcome).await
    }
}

/// `Some(result)` when the job ends here without sending: the delivery is gone or purged,
/// the citizen opted out since planning, or quiet hours began (rescheduled for the morning).
async fn still_wanted(
    ctx: &AppState,
    row: &NotificationRow,
    kind: MessageKind,
) -> Result<Option<Result<(), JobError>>, JobError> {
    if row.status != store::PENDING && row.status != store::SENDING {
        return Ok(Some(Ok(())));
    }
    let notifier = ctx.notifier.clone();
    let (r, now) = (row.clone(), Utc::now());
    let check = db(ctx, move |c| {
        let Some(recipient) = store::recipient(c, &r.delivery_id)? else {
            return Ok(None);
        };
        if recipient.anonymised_at.is_some() {
            return Ok(None);
        }
        let channel = if r.channel == store::SMS {
            store::SMS
        } else {
            store::EMAIL
        };
        row_for(c, &notifier, &recipient, channel, kind, now)
    })
    .await?;
    let Some(fresh) = check else {
        end(
            ctx,
            row,
            store::SKIPPED,
            None,
            "the delivery's personal data was purged",
        )
        .await?;
        return Ok(Some(Ok(())));
    };
    if fresh.status == store::SKIPPED {
        end(
            ctx,
            row,
            store::SKIPPED,
            None,
            fresh.note.unwrap_or("opted out"),
        )
        .await?;
        count(&row.channel, "skipped");
        return Ok(Some(Ok(())));
    }
    // Only a message that has not started waits: an interrupted one finishes now.
    let due = fresh.due_at;
    if row.status == store::PENDING && due > Utc::now().naive_utc() + chrono::Duration::seconds(1) {
        let r = row.clone();
        db(ctx, move |c| store::reschedule(c, &r, due)).await?;
        count(&row.channel, "deferred");
        return Ok(Some(Ok(())));
    }
    Ok(None)
}

/// Renders and sends; the provider's answer, or why nothing went out.
async fn send(ctx: &AppState, row: &NotificationRow, kind: MessageKind) -> Result<Sent, SendError> {
    let n = &ctx.notifier;
    let r = row.clone();
    let loaded = db(ctx, move |c| {
        let facts = store::message_facts(c, &r)?;
        let recipient = store::recipient(c, &r.delivery_id)?;
        Ok(facts.zip(recipient))
    })
    .await
    .map_err(|e| SendError::transient(e.to_string()))?;
    let Some((facts, recipient)) = loaded else {
        return Err(SendError::permanent("the delivery no longer exists"));
    };
    let state = DeliveryState::parse(&row.state).unwrap_or(DeliveryState::Received);
    let links = Links {
        public_base_url: &n.public_base_url,
        pickup_hold_days: n.pickup_hold_days,
        unsubscribe_url: row.unsubscribe_token.as_ref().map(|t| n.unsubscribe_url(t)),
    };
    let context = facts::context(&facts, state, &links);
    let outcome = if row.channel == store::SMS {
        let text = n
            .templates
            .render_sms(kind, &context)
            .map_err(|e| SendError::permanent(e.to_string()))?;
        fail::fail_point!("notify-before-send", |_| Err(SendError::transient(
            "fail point"
        )));
        n.send_sms(&recipient.phone, &text, &row.id).await
    } else {
        let Some(address) = recipient.email.as_deref() else {
            return Err(SendError::permanent("the citizen has no email address"));
        };
        let email = n
            .templates
            .render_email(kind, &context)
            .map_err(|e| SendError::permanent(e.to_string()))?;
        n.send_email(address, email, &row.id, links.unsubscribe_url.as_deref())
            .await
    };
    // The worst moment to die: the message is out, the row does not say so yet.
    fail::fail_point!("notify-after-send");
    outcome
}

/// Records the answer; a failure that will not be retried hands the message to the other
/// channel.
async fn settle(
    ctx: &AppState,
    job: &ClaimedJob,
    row: &NotificationRow,
    outcome: Result<Sent, SendError>,
) -> Result<(), JobError> {
    let channel = row.channel.as_str();
    let provider = ctx.notifier.provider(channel);
    match outcome {
        Ok(sent) => {
            let (id, provider, provider_id) = (row.id.clone(), sent.provider, sent.provider_id);
            db(ctx, move |c| {
                store::record_sent(c, &id, &provider, &provider_id)
            })
            .await?;
            count(channel, "sent");
            Ok(())
        }
        Err(e) if e.kind == FailureKind::Transient && job.attempt < job.max_attempts => {
            end(ctx, row, store::PENDING, Some(&provider), &e.detail).await?;
            count(channel, "retry");
            Err(JobError::retry(e.detail))
        }
        Err(e) => {
            let fallback = fail_and_fall_back(ctx, row, &provider, &e.detail).await?;
            count(channel, "failed");
            tracing::warn!(notification_id = %row.id, delivery_id = %row.delivery_id, channel,
                error = %e.detail, fallback, "notification failed");
            Err(JobError::permanent(e.detail))
        }
    }
}

/// Fails the row and, in the same transaction, plans the same message on the other channel
/// when the citizen has one, may be reached on it, and it was not planned already (a retry
/// after a crash between the two would otherwise find the row failed and never fall back).
/// `true` when a fallback was planned.
async fn fail_and_fall_back(
    ctx: &AppState,
    row: &NotificationRow,
    provider: &str,
    error: &str,
) -> Result<bool, JobError> {
    let kind = DeliveryState::parse(&row.state).and_then(MessageKind::for_state);
    let other = if row.channel == store::SMS {
        store::EMAIL
    } else {
        store::SMS
    };
    let (notifier, r) = (ctx.notifier.clone(), row.clone());
    let (provider, error) = (provider.to_owned(), error.to_owned());
    // Urgent or not, a fallback waits for no morning it can avoid: email has no quiet hours,
    // and an SMS standing in for an email still respects them through `row_for`.
    let planned = db(ctx, move |c| {
        c.transaction::<_, StoreError, _>(|c| {
            store::record_outcome(c, &r.id, store::FAILED, Some(&provider), &error)?;
            let Some(kind) = kind else { return Ok(false) };
            let Some(recipient) = store::recipient(c, &r.delivery_id)? else {
                return Ok(false);
            };
            let Some(fresh) = row_for(c, &notifier, &recipient, other, kind, Utc::now())? else {
                return Ok(false);
            };
            if fresh.status != store::PENDING {
                return Ok(false);
            }
            let new = NewNotification {
                delivery_id: &r.delivery_id,
                event_id: r.event_id.as_deref(),
                state: &r.state,
                fallback_of: Some(&r.id),
                ..fresh.as_new()
            };
            Ok(store::plan(c, &new)?.is_some())
        })
    })
    .await?;
    if planned {
        count(other, "fallback");
    }
    Ok(planned)
}

async fn end(
    ctx: &AppState,
    row: &NotificationRow,
    status: &'static str,
    provider: Option<&str>,
    note: &str,
) -> Result<(), JobError> {
    let (id, provider, note) = (row.id.clone(), provider.map(str::to_owned), note.to_owned());
    db(ctx, move |c| {
        store::record_outcome(c, &id, status, provider.as_deref(), &note)
    })
    .await
}

async fn db<T, F>(ctx: &AppState, f: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::store::DbConnection) -> Result<T, StoreError> + Send + 'static,
{
    ctx.db.run(f).await.map_err(JobError::retry)
}

fn count(channel: &str, outcome: &'static str) {
    let channel = if channel == store::SMS {
        "sms"
    } else {
        "email"
    };
    metrics::counter!("civicpost_notifications_total", "channel" => channel, "outcome" => outcome)
        .increment(1);
}
