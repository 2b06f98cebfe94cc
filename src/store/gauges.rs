//! What the monitoring gauges read on every worker poll: per-kind queue age, parked jobs
//! and the courier webhook backlog. Each query rides a partial index, so the cost follows
//! the size of the backlog, not of the tables.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::{outbox_jobs, webhook_inbox};
use super::{DbConnection, StoreError, jobs};
use crate::domain::ids::now_utc;

/// The queue's health at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueHealth {
    /// Per kind: how long its oldest due job has waited (zero when none is overdue).
    pub oldest_due: Vec<(String, Duration)>,
    /// Per kind: jobs parked for an operator.
    pub parked: Vec<(String, i64)>,
    /// Courier webhook bodies stored but not yet applied, and the age of the oldest.
    pub inbox_pending: i64,
    pub inbox_oldest: Duration,
}

pub fn queue_health(conn: &mut DbConnection) -> Result<QueueHealth, StoreError> {
    let now = now_utc();
    let age = |t: Option<NaiveDateTime>| {
        t.map_or(Duration::ZERO, |t| (now - t).to_std().unwrap_or_default())
    };
    let due: Vec<(String, Option<NaiveDateTime>)> = outbox_jobs::table
        .filter(jobs::open_jobs())
        .filter(outbox_jobs::run_at.le(now))
        .filter(
            outbox_jobs::locked_until
                .is_null()
                .or(outbox_jobs::locked_until.lt(now)),
        )
        .group_by(outbox_jobs::kind)
        .select((outbox_jobs::kind, diesel::dsl::min(outbox_jobs::run_at)))
        .load(conn)?;
    let parked: Vec<(String, i64)> = outbox_jobs::table
        // Literal, not a bound parameter: the planner must see it to use the partial index.
        .filter(diesel::dsl::sql::<Bool>("outbox_jobs.status = 'parked'"))
        .group_by(outbox_jobs::kind)
        .select((outbox_jobs::kind, diesel::dsl::count_star()))
        .load(conn)?;
    let (inbox_pending, inbox_oldest): (i64, Option<NaiveDateTime>) = webhook_inbox::table
        .filter(diesel::dsl::sql::<Bool>("webhook_inbox.status = 'pending'"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(webhook_inbox::received_at),
        ))
        .first(conn)?;
    Ok(QueueHealth {
        oldest_due: due.into_iter().map(|(k, t)| (k, age(t))).collect(),
        parked,
        inbox_pending,
        inbox_oldest: age(inbox_oldest),
    })
}
