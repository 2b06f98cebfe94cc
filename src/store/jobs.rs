//! The transactional outbox: enqueue inside the caller's transaction, claim due jobs, and
//! record how each attempt ended.
//!
//! Status moves `pending → running → done | pending (retry) | parked`. A claim sets
//! `locked_until = now + lease` and adds one to `attempts`; a worker that dies mid-job simply
//! lets the lease run out and the job is claimed again. `attempts` only ever grows (requeue
//! keeps it), so `(id, status = 'running', attempts)` identifies one claim: finishing a job is
//! conditional on it, and a worker whose lease expired cannot overwrite the newer claim.
//!
//! Times come from the application clock (`now_utc`), like every other table, not from the
//! database; nodes are expected to keep NTP time, and leases are minutes long.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{outbox_attempts, outbox_jobs};
use super::{DbConnection, StoreError};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::redact::clean_error;

pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const PARKED: &str = "parked";

/// Outcomes in `outbox_attempts.outcome`. `stale` marks an attempt that finished after its
/// lease had expired and the job had been claimed again: it is kept as history and changed
/// nothing.
pub const OUTCOME_OK: &str = "ok";
pub const OUTCOME_RETRY: &str = "retry";
pub const OUTCOME_PARKED: &str = "parked";
pub const OUTCOME_STALE: &str = "stale";

/// `status IN ('pending', 'running')` written out rather than bound: PostgreSQL uses the
/// partial index `outbox_jobs_due_idx` only when it can prove the index's predicate from the
/// query text, and a bound array (`= ANY($1)`) in a cached generic plan does not prove it. Without
/// the index every claim would scan the ever-growing done rows.
pub(super) fn open_jobs() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("outbox_jobs.status IN ('pending', 'running')")
}

/// Inserts a pending job with the caller's connection, so it commits or rolls back with the
/// caller's transaction. Returns the job id.
pub fn enqueue(conn: &mut DbConnection, job: &NewJob) -> Result<String, StoreError> {
    enqueue_with_max_attempts(conn, job, job.kind.max_attempts())
}

/// [`enqueue`] with an explicit attempt budget instead of the kind's (tests, one-off jobs).
pub fn enqueue_with_max_attempts(
    conn: &mut DbConnection,
    job: &NewJob,
    max_attempts: i32,
) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_utc();
    diesel::insert_into(outbox_jobs::table)
        .values((
            outbox_jobs::id.eq(&id),
            outbox_jobs::kind.eq(job.kind.as_str()),
            outbox_jobs::delivery_id.eq(job.delivery_id.as_deref()),
            outbox_jobs::payload.eq(job.payload.to_string()),
            outbox_jobs::status.eq(PENDING),
            outbox_jobs::attempts.eq(0),
            outbox_jobs::max_attempts.eq(max_attempts.max(1)),
            outbox_jobs::run_at.eq(job.run_at.unwrap_or(now)),
            outbox_jobs::created_at.eq(now),
            outbox_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox_jobs)]
struct ClaimRow {
    id: String,
    kind: String,
    delivery_id: Option<String>,
    payload: String,
    attempts: i32,
    max_attempts: i32,
    run_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
}

/// A job this worker holds until `locked_until`.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: JobKind,
    pub delivery_id: Option<String>,
    /// The JSON payload as stored; [`ClaimedJob::payload`] parses it.
    pub payload_json: String,
    /// This attempt's number, from 1; also the claim's fencing token.
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub claimed_at: NaiveDateTime,
    pub locked_until: NaiveDateTime,
}

impl ClaimedJob {
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload_json)
    }
}

/// Claims up to `batch` due jobs of the given kinds for `lease`. Jobs of other kinds are not
/// touched, so a kind without a handler in this process waits, pending, for one that has it.
///
/// PostgreSQL: `FOR UPDATE SKIP LOCKED` in one transaction, so concurrent workers on any
/// number of nodes split the due jobs without waiting on each other. SQLite: an IMMEDIATE
/// transaction takes the write lock first, so claimants queue one after another.
pub fn claim_due(
    conn: &mut DbConnection,
    worker_id: &str,
    kinds: &[JobKind],
    batch: usize,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    if kinds.is_empty() || batch == 0 {
        return Ok(Vec::new());
    }
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let now = now_utc();
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let until = now.checked_add_signed(lease).unwrap_or(NaiveDateTime::MAX);

    // The same two statements on both backends; only the locking differs, and diesel's
    // `for_update` exists only for PostgreSQL, hence the macro rather than a shared function.
    macro_rules! due_ids {
        ($($lock:tt)*) => {
            outbox_jobs::table
                .filter(open_jobs())
                .filter(outbox_jobs::run_at.le(now))
                .filter(outbox_jobs::locked_until.is_null().or(outbox_jobs::locked_until.lt(now)))
                .filter(outbox_jobs::kind.eq_any(&kinds))
                .order(outbox_jobs::run_at)
                .limit(limit)
                .select(outbox_jobs::id)
                $($lock)*
        };
    }
    macro_rules! mark_running {
        ($c:expr, $ids:expr) => {
            diesel::update(outbox_jobs::table.filter(outbox_jobs::id.eq_any($ids)))
                .set((
                    outbox_jobs::status.eq(RUNNING),
                    outbox_jobs::attempts.eq(outbox_jobs::attempts + 1),
                    outbox_jobs::locked_until.eq(Some(until)),
                    outbox_jobs::updated_at.eq(now),
                ))
                .returning(ClaimRow::as_returning())
                .get_results::<ClaimRow>($c)
        };
    }
    let rows: Vec<ClaimRow> = match conn {
        DbConnection::Postgresql(c) => c.transaction(|c| {
            let ids: Vec<String> = due_ids!(.for_update().skip_locked()).load(c)?;
            if ids.is_empty() {
                return Ok::<_, diesel::result::Error>(Vec::new());
            }
            mark_running!(c, &ids)
        })?,
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
            let ids: Vec<String> = due_ids!().load(c)?;
            if ids.is_empty() {
                return Ok::<_, diesel::result::Error>(Vec::new());
            }
            mark_running!(c, &ids)
        })?,
    };
    let mut claimed: Vec<ClaimedJob> = rows
        .into_iter()
        .filter_map(|row| {
            let Some(kind) = JobKind::parse(&row.kind) else {
                // Cannot happen: the claim filtered on known kinds. Its lease expires harmlessly.
                tracing::warn!(job_id = %row.id, kind = %row.kind, "claimed a job of unknown kind");
                return None;
            };
            Some(ClaimedJob {
                id: row.id,
                kind,
                delivery_id: row.delivery_id,
                payload_json: row.payload,
                attempt: row.attempts,
                max_attempts: row.max_attempts,
                run_at: row.run_at,
                claimed_at: now,
                locked_until: row.locked_until.unwrap_or(until),
            })
        })
        .collect();
    // RETURNING gives no order; run the oldest first.
    claimed.sort_by(|a, b| a.run_at.cmp(&b.run_at).then_with(|| a.id.cmp(&b.id)));
    if !claimed.is_empty() {
        tracing::debug!(worker_id, count = claimed.len(), "claimed jobs");
    }
    Ok(claimed)
}

/// The job succeeded. Returns `false`, changing nothing but the history, when the claim was
/// superseded (the lease expired and another worker claimed the job again).
pub fn complete(conn: &mut DbConnection, job: &ClaimedJob) -> Result<bool, StoreError> {
    finish(conn, job, Finish::Done)
}

/// The attempt failed and the job runs again at `next_run_at`.
pub fn retry(
    conn: &mut DbConnection,
    job: &ClaimedJob,
    error: &str,
    next_run_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    finish(conn, job, Finish::Retry { error, next_run_at })
}

/// The job is set aside for an operator (permanent error or attempts used up).
pub fn park(conn: &mut DbConnection, job: &ClaimedJob, error: &str) -> Result<bool, StoreError> {
    finish(conn, job, Finish::Park { error })
}

enum Finish<'a> {
    Done,
    Retry {
        error: &'a str,
        next_run_at: NaiveDateTime,
    },
    Park {
        error: &'a str,
    },
}

/// Updates the job only if this claim still holds it, and records the attempt either way, in
/// one transaction.
fn finish(conn: &mut DbConnection, job: &ClaimedJob, how: Finish<'_>) -> Result<bool, StoreError> {
    let now = now_utc();
    let error = match &how {
        Finish::Done => None,
        Finish::Retry { error, .. } | Finish::Park { error } => Some(clean_error(error)),
    };
    conn.transaction(|conn| {
        let this_claim = outbox_jobs::table
            .filter(outbox_jobs::id.eq(&job.id))
            .filter(outbox_jobs::status.eq(RUNNING))
            .filter(outbox_jobs::attempts.eq(job.attempt));
        let (status, run_at, outcome) = match &how {
            Finish::Done => (DONE, None, OUTCOME_OK),
            Finish::Retry { next_run_at, .. } => (PENDING, Some(*next_run_at), OUTCOME_RETRY),
            Finish::Park { .. } => (PARKED, None, OUTCOME_PARKED),
        };
        let changed = match run_at {
            Some(run_at) => diesel::update(this_claim)
                .set((
                    outbox_jobs::status.eq(status),
                    outbox_jobs::run_at.eq(run_at),
                    outbox_jobs::locked_until.eq(None::<NaiveDateTime>),
                    outbox_jobs::last_error.eq(error.as_deref()),
                    outbox_jobs::updated_at.eq(now),
                ))
                .execute(conn)?,
            None => diesel::update(this_claim)
                .set((
                    outbox_jobs::status.eq(status),
                    outbox_jobs::locked_until.eq(None::<NaiveDateTime>),
                    outbox_jobs::last_error.eq(error.as_deref()),
                    outbox_jobs::updated_at.eq(now),
                ))
                .execute(conn)?,
        };
        let applied = changed == 1;
        diesel::insert_into(outbox_attempts::table)
            .values((
                outbox_attempts::id.eq(new_id()),
                outbox_attempts::job_id.eq(&job.id),
                outbox_attempts::attempt.eq(job.attempt),
                outbox_attempts::started_at.eq(job.claimed_at),
                outbox_attempts::finished_at.eq(now),
                outbox_attempts::outcome.eq(if applied { outcome } else { OUTCOME_STALE }),
                outbox_attempts::error.eq(error.as_deref()),
            ))
            .execute(conn)?;
        Ok(applied)
    })
}

/// Jobs per kind and status.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct KindStatusCount {
    pub kind: String,
    pub status: String,
    pub count: i64,
}

/// Counts of every job by kind and status (operators; scans the whole table).
pub fn counts(conn: &mut DbConnection) -> Result<Vec<KindStatusCount>, StoreError> {
    Ok(outbox_jobs::table
        .group_by((outbox_jobs::kind, outbox_jobs::status))
        .select((
            outbox_jobs::kind,
            outbox_jobs::status,
            diesel::dsl::count_star(),
        ))
        .order((outbox_jobs::kind, outbox_jobs::status))
        .load(conn)?)
}

/// Counts of pending and running jobs by kind: the queue depth, cheap enough for every poll
/// (the partial index `outbox_jobs_due_idx` covers exactly these rows).
pub fn queue_depth(conn: &mut DbConnection) -> Result<Vec<KindStatusCount>, StoreError> {
    Ok(outbox_jobs::table
        .filter(open_jobs())
        .group_by((outbox_jobs::kind, outbox_jobs::status))
        .select((
            outbox_jobs::kind,
            outbox_jobs::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

/// A job as operators see it: no payload, which may carry references to personal data.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = outbox_jobs)]
pub struct JobSummary {
    pub id: String,
    pub kind: String,
    pub delivery_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Parked jobs, most recently parked first.
pub fn list_parked(conn: &mut DbConnection, limit: i64) -> Result<Vec<JobSummary>, StoreError> {
    Ok(outbox_jobs::table
        .filter(outbox_jobs::status.eq(PARKED))
        .order(outbox_jobs::updated_at.desc())
        .limit(limit)
        .select(JobSummary::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, job_id: &str) -> Result<Option<JobSummary>, StoreError> {
    Ok(outbox_jobs::table
        .find(job_id)
        .select(JobSummary::as_select())
        .first(conn)
        .optional()?)
}

/// The attempts of one job in order: (attempt, outcome, error).
pub fn attempts(
    conn: &mut DbConnection,
    job_id: &str,
) -> Result<Vec<(i32, String, Option<String>)>, StoreError> {
    Ok(outbox_attempts::table
        .filter(outbox_attempts::job_id.eq(job_id))
        .order((outbox_attempts::started_at, outbox_attempts::attempt))
        .select((
            outbox_attempts::attempt,
            outbox_attempts::outcome,
            outbox_attempts::error,
        ))
        .load(conn)?)
}

/// Puts a parked job back in the queue, due now. `attempts` is KEPT, so attempt numbers in
/// the history stay unique and the claim fencing stays sound; instead the budget is raised
/// to `attempts + the kind's max_attempts`, a fresh full set of tries. Returns `false` when
/// the job does not exist or is not parked.
pub fn requeue(conn: &mut DbConnection, job_id: &str) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let found: Option<(String, i32)> = outbox_jobs::table
            .find(job_id)
            .filter(outbox_jobs::status.eq(PARKED))
            .select((outbox_jobs::kind, outbox_jobs::attempts))
            .first(conn)
            .optional()?;
        let Some((kind, attempts)) = found else {
            return Ok(false);
        };
        let budget = JobKind::parse(&kind).map_or(1, JobKind::max_attempts);
        let now = now_utc();
        let changed = diesel::update(
            outbox_jobs::table
                .find(job_id)
                .filter(outbox_jobs::status.eq(PARKED)),
        )
        .set((
            outbox_jobs::status.eq(PENDING),
            outbox_jobs::run_at.eq(now),
            outbox_jobs::locked_until.eq(None::<NaiveDateTime>),
            outbox_jobs::max_attempts.eq(attempts.saturating_add(budget)),
            outbox_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    })
}
