//! The worker loop: claim what fits in the free slots, run each job in its own task, apply
//! the outcome, and on stop finish what is running before returning.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::{Backoff, ClaimedJob, JobError, JobHandler, Registry};
use crate::app::AppState;
use crate::config::JobsSettings;
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::JobKind;
use crate::store::{self, Db, StoreError};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Names this worker in logs.
    pub worker_id: String,
    pub poll_interval: Duration,
    pub batch_size: usize,
    pub concurrency: usize,
    pub lease: Duration,
    pub backoff: Backoff,
}

impl WorkerOptions {
    pub fn from_settings(settings: &JobsSettings) -> Self {
        Self {
            poll_interval: Duration::from_millis(settings.poll_interval_ms),
            batch_size: settings.batch_size,
            concurrency: settings.concurrency,
            lease: Duration::from_secs(settings.lease_secs),
            backoff: Backoff {
                base: Duration::from_millis(settings.backoff_base_ms),
                cap: Duration::from_millis(settings.backoff_cap_ms),
            },
            ..Self::default()
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        let id = new_id();
        // The random tail of the UUID: the head is a timestamp, shared by workers started together.
        let suffix = &id[id.len().saturating_sub(8)..];
        Self {
            worker_id: format!("{}-{suffix}", std::process::id()),
            poll_interval: Duration::from_millis(500),
            batch_size: 32,
            concurrency: 8,
            lease: Duration::from_secs(300),
            backoff: Backoff::default(),
        }
    }
}

/// Claims and runs jobs of the registered kinds. `C` is the handlers' shared context.
pub struct Worker<C = AppState> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    db: Db,
    ctx: C,
    registry: Registry<C>,
    options: WorkerOptions,
}

/// A running worker; [`WorkerHandle::stop`] ends it gracefully.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Periodic tasks that live and stop with the worker (the history pull).
    companions: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops claiming and waits for running jobs to finish, at most `grace`; jobs still
    /// running then are abandoned, and their leases bring them back to another worker.
    /// A task that stops with the worker; it must be safe to cut off at any await.
    pub fn with_companion(mut self, task: JoinHandle<()>) -> Self {
        self.companions.push(task);
        self
    }

    pub async fn stop(mut self, grace: Duration) {
        for companion in &self.companions {
            companion.abort();
        }
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "jobs still running at shutdown were abandoned; they run again when their lease ends"
            );
            self.task.abort();
            let _ = self.task.await;
        }
    }
}

/// What became of one job, after the database update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Retried,
    Parked,
    /// The lease had expired and the job was claimed again: nothing changed.
    Superseded,
    /// The database could not be updated: the lease will bring the job back.
    Unrecorded,
}

impl<C: Clone + Send + Sync + 'static> Worker<C> {
    pub fn new(db: Db, ctx: C, registry: Registry<C>, options: WorkerOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                ctx,
                registry,
                options,
            }),
        }
    }

    /// Runs the loop on the tokio runtime until the handle stops it.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle {
            stop,
            task,
            companions: Vec::new(),
        }
    }

    /// The loop. Returns once `stop` turns true (or its sender is gone) and running jobs end.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let options = &self.shared.options;
        let kinds = self.shared.registry.kinds();
        tracing::info!(
            worker_id = %options.worker_id,
            kinds = ?kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            concurrency = options.concurrency,
            "job worker started"
        );
        let mut running: JoinSet<()> = JoinSet::new();
        let mut gauges_at: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if gauges_at.is_none_or(|t| t.elapsed() >= options.poll_interval) {
                self.update_gauges().await;
                gauges_at = Some(Instant::now());
            }
            let free = options.concurrency.saturating_sub(running.len());
            let want = free.min(options.batch_size);
            let mut got = 0;
            if want > 0 && !kinds.is_empty() {
                match self.claim(&kinds, want).await {
                    Ok(jobs) => {
                        got = jobs.len();
                        for job in jobs {
                            running.spawn(self.clone().execute(job));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed; trying again"),
                }
            }
            metrics::gauge!("civicpost_jobs_in_flight").set(running.len() as f64);
            // A full batch means more may be due: claim again at once if a slot is free.
            if got > 0 && got == want && running.len() < options.concurrency {
                continue;
            }
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = tokio::time::sleep(options.poll_interval) => {}
            }
        }
        tracing::info!(running = running.len(), "job worker stopping");
        while running.join_next().await.is_some() {}
        metrics::gauge!("civicpost_jobs_in_flight").set(0.0);
        tracing::info!(worker_id = %options.worker_id, "job worker stopped");
    }

    /// Claims one batch and runs it to the end (tests and one-shot tools).
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let kinds = self.shared.registry.kinds();
        let jobs = self.claim(&kinds, self.shared.options.batch_size).await?;
        let count = jobs.len();
        let mut running = JoinSet::new();
        for job in jobs {
            running.spawn(self.clone().execute(job));
        }
        while running.join_next().await.is_some() {}
        Ok(count)
    }

    async fn claim(&self, kinds: &[JobKind], want: usize) -> Result<Vec<ClaimedJob>, StoreError> {
        let kinds = kinds.to_vec();
        let worker_id = self.shared.options.worker_id.clone();
        let lease = self.shared.options.lease;
        let jobs = self
            .shared
            .db
            .run(move |conn| store::jobs::claim_due(conn, &worker_id, &kinds, want, lease))
            .await?;
        for job in &jobs {
            metrics::counter!("civicpost_jobs_claimed_total", "kind" => job.kind.as_str())
                .increment(1);
        }
        Ok(jobs)
    }

    async fn execute(self, job: ClaimedJob) {
        let started = Instant::now();
        let kind = job.kind.as_str();
        let handler = self.shared.registry.get(job.kind);
        let backoff = handler
            .as_ref()
            .and_then(|h| h.backoff(&self.shared.ctx))
            .unwrap_or(self.shared.options.backoff);
        let result = match handler {
            Some(handler) => self.run_handler(handler, &job).await,
            // Cannot happen: only registered kinds are claimed.
            None => Err(JobError::retry("no handler registered in this worker")),
        };
        let outcome = self.apply(&job, result, &backoff).await;
        let (label, counter) = match outcome {
            Outcome::Succeeded => ("succeeded", "civicpost_jobs_succeeded_total"),
            Outcome::Retried => ("retried", "civicpost_jobs_retried_total"),
            Outcome::Parked => ("parked", "civicpost_jobs_parked_total"),
            Outcome::Superseded => ("superseded", "civicpost_jobs_superseded_total"),
            Outcome::Unrecorded => ("unrecorded", "civicpost_jobs_unrecorded_total"),
        };
        metrics::counter!(counter, "kind" => kind).increment(1);
        metrics::histogram!("civicpost_job_duration_seconds", "kind" => kind, "outcome" => label)
            .record(started.elapsed().as_secs_f64());
    }

    /// Runs the handler, bounded by what is left of the lease (after that another worker may
    /// hold the job), with a panic turned into a retry.
    async fn run_handler(
        &self,
        handler: Arc<dyn JobHandler<C>>,
        job: &ClaimedJob,
    ) -> Result<(), JobError> {
        if job.attempt > job.max_attempts {
            // Every allowed attempt was claimed and this one only exists because a lease ran
            // out: a job that crashes or hangs its worker must not loop forever.
            return Err(JobError::permanent(format!(
                "attempt {} of {}: earlier attempts never finished (worker stopped or job outlived its lease)",
                job.attempt, job.max_attempts
            )));
        }
        let left = (job.locked_until - now_utc())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let limit = left.saturating_sub(left / 10);
        let run = AssertUnwindSafe(handler.run(job, &self.shared.ctx)).catch_unwind();
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(_panic)) => Err(JobError::retry("handler panicked")),
            Err(_) => Err(JobError::retry(format!(
                "timed out after {} s (the lease)",
                limit.as_secs()
            ))),
        }
    }

    async fn apply(
        &self,
        job: &ClaimedJob,
        result: Result<(), JobError>,
        backoff: &Backoff,
    ) -> Outcome {
        let decision = decide(job, result, backoff, now_utc());
        let owned = job.clone();
        let applied = {
            let decision = decision.clone();
            self.shared
                .db
                .run(move |conn| match &decision {
                    Decision::Complete => store::jobs::complete(conn, &owned),
                    Decision::Retry { error, at } => store::jobs::retry(conn, &owned, error, *at),
                    Decision::Park { error } => store::jobs::park(conn, &owned, error),
                })
                .await
        };
        let (job_id, kind, attempt) = (&job.id, job.kind.as_str(), job.attempt);
        match (applied, &decision) {
            (Ok(true), Decision::Complete) => {
                tracing::debug!(job_id, kind, attempt, "job done");
                Outcome::Succeeded
            }
            (Ok(true), Decision::Retry { error, at }) => {
                let error = crate::domain::redact::clean_error(error);
                tracing::info!(job_id, kind, attempt, %error, retry_at = %at, "job failed; will retry");
                Outcome::Retried
            }
            (Ok(true), Decision::Park { error }) => {
                let error = crate::domain::redact::clean_error(error);
                tracing::warn!(job_id, kind, attempt, %error, "job parked for an operator");
                Outcome::Parked
            }
            (Ok(false), _) => {
                tracing::warn!(
                    job_id,
                    kind,
                    attempt,
                    "job outlived its lease and was claimed again; this result was not applied"
                );
                Outcome::Superseded
            }
            (Err(e), _) => {
                tracing::error!(job_id, kind, attempt, error = %e, "could not record the job's outcome; it runs again when its lease ends");
                Outcome::Unrecorded
            }
        }
    }

    async fn update_gauges(&self) {
        let read = self
            .shared
            .db
            .run(|conn| {
                let depth = store::jobs::queue_depth(conn)?;
                let health = store::gauges::queue_health(conn)?;
                Ok::<_, StoreError>((depth, health))
            })
            .await;
        let (depth, health) = match read {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading the queue depth failed");
                return;
            }
        };
        // Zero first: a kind and status absent from the result has no jobs.
        for kind in JobKind::ALL {
            for status in [store::jobs::PENDING, store::jobs::RUNNING] {
                metrics::gauge!("civicpost_jobs_queue_depth", "kind" => kind.as_str(), "status" => status)
                    .set(0.0);
            }
            metrics::gauge!("civicpost_jobs_oldest_due_seconds", "kind" => kind.as_str()).set(0.0);
            metrics::gauge!("civicpost_jobs_parked", "kind" => kind.as_str()).set(0.0);
        }
        for row in depth {
            metrics::gauge!("civicpost_jobs_queue_depth", "kind" => row.kind, "status" => row.status)
                .set(row.count as f64);
        }
        for (kind, age) in health.oldest_due {
            metrics::gauge!("civicpost_jobs_oldest_due_seconds", "kind" => kind)
                .set(age.as_secs_f64());
        }
        for (kind, count) in health.parked {
            metrics::gauge!("civicpost_jobs_parked", "kind" => kind).set(count as f64);
        }
        metrics::gauge!("civicpost_webhook_inbox_pending").set(health.inbox_pending as f64);
        metrics::gauge!("civicpost_webhook_inbox_oldest_seconds")
            .set(health.inbox_oldest.as_secs_f64());
    }
}

impl<C> Clone for Worker<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Complete,
    Retry { error: String, at: NaiveDateTime },
    Park { error: String },
}

/// What to do with a finished attempt: retry with backoff while attempts remain, park on a
/// permanent error or when they are used up.
fn decide(
    job: &ClaimedJob,
    result: Result<(), JobError>,
    backoff: &Backoff,
    now: NaiveDateTime,
) -> Decision {
    let (error, not_before) = match result {
        Ok(()) => return Decision::Complete,
        Err(JobError::Permanent(error)) => return Decision::Park { error },
        Err(JobError::Retry(error)) => (error, std::time::Duration::ZERO),
        Err(JobError::RetryAfter {
            message,
            not_before,
        }) => (message, not_before),
    };
    if job.attempt >= job.max_attempts {
        return Decision::Park {
            error: format!("gave up after {} attempts: {error}", job.attempt),
        };
    }
    let delay = chrono::Duration::from_std(backoff.delay(job.attempt).max(not_before))
        .unwrap_or(chrono::Duration::MAX);
    let at = now.checked_add_signed(delay).unwrap_or(NaiveDateTime::MAX);
    Decision::Retry { error, at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempt: i32, max_attempts: i32) -> ClaimedJob {
        let now = now_utc();
        ClaimedJob {
            id: "j".into(),
            kind: JobKind::Dispatch,
            delivery_id: None,
            payload_json: "{}".into(),
            attempt,
            max_attempts,
            run_at: now,
            claimed_at: now,
            locked_until: now,
        }
    }

    #[test]
    fn retries_until_the_budget_then_parks() {
        let backoff = Backoff {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(60),
        };
        let now = now_utc();
        let retry = || Err(JobError::retry("503"));
        match decide(&job(1, 3), retry(), &backoff, now) {
            Decision::Retry { at, .. } => {
                assert!(at >= now && at <= now + chrono::Duration::seconds(5))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decide(&job(3, 3), retry(), &backoff, now),
            Decision::Park {
                error: "gave up after 3 attempts: 503".into()
            }
        );
        assert_eq!(
            decide(&job(1, 3), Err(JobError::permanent("bad")), &backoff, now),
            Decision::Park {
                error: "bad".into()
            }
        );
        assert_eq!(
            decide(&job(1, 3), Ok(()), &backoff, now),
            Decision::Complete
        );
    }

    #[test]
    fn a_retry_after_waits_at_least_that_long_and_still_counts() {
        let backoff = Backoff {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(60),
        };
        let now = now_utc();
        let open = || {
            Err(JobError::RetryAfter {
                message: "circuit open".into(),
                not_before: Duration::from_secs(45),
            })
        };
        match decide(&job(1, 3), open(), &backoff, now) {
            Decision::Retry { at, .. } => assert_eq!(at, now + chrono::Duration::seconds(45)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decide(&job(3, 3), open(), &backoff, now),
            Decision::Park { .. }
        ));
    }
}
