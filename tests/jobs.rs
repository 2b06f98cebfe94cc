//! The outbox and its worker, on SQLite and on PostgreSQL (`CIVICPOST_TEST_DATABASE`), each
//! test on its own fresh database.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use civicpost::config::Settings;
use civicpost::domain::jobs::{JobKind, NewJob};
use civicpost::jobs::{
    Backoff, ClaimedJob, JobError, JobHandler, Registry, Worker, WorkerOptions, backoff_ceiling,
};
use civicpost::store::jobs::{self as outbox, JobSummary};
use civicpost::store::{self, DatabaseUrl, Db, DbConnection, StoreError};
use common::TestDb;
use diesel::Connection;

fn open(db: &TestDb, size: u32) -> Db {
    let url = DatabaseUrl::parse(&db.url).expect("url");
    let pool = Db::connect(&url, size, Duration::from_secs(10)).expect("connect");
    pool.run_blocking(store::migrations::run_pending)
        .expect("migrate");
    pool
}

fn new_job(n: u32) -> NewJob {
    NewJob {
        kind: JobKind::Dispatch,
        delivery_id: None,
        payload: serde_json::json!({ "n": n }),
        run_at: None,
    }
}

fn enqueue(pool: &Db, n: u32) -> String {
    pool.run_blocking(|c| outbox::enqueue(c, &new_job(n)))
        .expect("enqueue")
}

fn enqueue_max(pool: &Db, n: u32, max: i32) -> String {
    pool.run_blocking(|c| outbox::enqueue_with_max_attempts(c, &new_job(n), max))
        .expect("enqueue")
}

fn find(pool: &Db, id: &str) -> JobSummary {
    pool.run_blocking(|c| outbox::find(c, id))
        .expect("find")
        .expect("exists")
}

fn history(pool: &Db, id: &str) -> Vec<(i32, String, Option<String>)> {
    pool.run_blocking(|c| outbox::attempts(c, id))
        .expect("attempts")
}

fn outcomes(pool: &Db, id: &str) -> Vec<String> {
    history(pool, id).into_iter().map(|(_, o, _)| o).collect()
}

/// Fast retries, short polls: what the tests need to finish in milliseconds.
fn options() -> WorkerOptions {
    WorkerOptions {
        poll_interval: Duration::from_millis(10),
        batch_size: 16,
        concurrency: 8,
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        },
        ..WorkerOptions::default()
    }
}

#[derive(Clone, Copy)]
enum Script {
    Succeed,
    /// Fails with a retryable error this many times, then succeeds.
    FailTimes(usize),
    FailPermanently,
    FailAlways,
    Sleep(Duration),
}

/// A handler for `Dispatch` (the real one arrives with a later issue) that counts its runs.
#[derive(Clone)]
struct TestHandler {
    script: Script,
    runs: Arc<Mutex<HashMap<String, usize>>>,
}

impl TestHandler {
    fn new(script: Script) -> Self {
        Self {
            script,
            runs: Arc::default(),
        }
    }

    fn runs(&self) -> HashMap<String, usize> {
        self.runs.lock().expect("lock").clone()
    }
}

#[async_trait]
impl JobHandler<()> for TestHandler {
    fn kind(&self) -> JobKind {
        JobKind::Dispatch
    }

    async fn run(&self, job: &ClaimedJob, _ctx: &()) -> Result<(), JobError> {
        let _: serde_json::Value = job.payload().map_err(JobError::permanent)?;
        let run = {
            let mut runs = self.runs.lock().expect("lock");
            let n = runs.entry(job.id.clone()).or_default();
            *n += 1;
            *n
        };
        match self.script {
            Script::Succeed => Ok(()),
            Script::FailTimes(n) if run <= n => Err(JobError::retry("courier answered 503")),
            Script::FailTimes(_) => Ok(()),
            Script::FailPermanently => Err(JobError::permanent("courier refused the order")),
            Script::FailAlways => Err(JobError::retry("courier answered 503")),
            Script::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }
}

fn worker(pool: &Db, handler: &TestHandler) -> Worker<()> {
    Worker::new(
        pool.clone(),
        (),
        Registry::new().with(handler.clone()),
        options(),
    )
}

/// Polls until the job reaches `status`, for at most 20 s.
async fn wait_for(pool: &Db, id: &str, status: &str) -> JobSummary {
    for _ in 0..2000 {
        let job = find(pool, id);
        if job.status == status {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never became {status}: {:?}", find(pool, id));
}

#[test]
fn enqueue_joins_the_callers_transaction() {
    let db = TestDb::new();
    let pool = open(&db, 2);
    let rolled_back = pool.run_blocking(|c: &mut DbConnection| {
        c.transaction(|c| {
            outbox::enqueue(c, &new_job(1))?;
            Err::<(), StoreError>(StoreError::Query(
                diesel::result::Error::RollbackTransaction,
            ))
        })
    });
    assert!(rolled_back.is_err());
    assert!(
        pool.run_blocking(outbox::counts)
            .expect("counts")
            .is_empty()
    );

    let id = pool
        .run_blocking(|c: &mut DbConnection| c.transaction(|c| outbox::enqueue(c, &new_job(2))))
        .expect("commit");
    let job = find(&pool, &id);
    assert_eq!(
        (job.status.as_str(), job.attempts, job.max_attempts),
        ("pending", 0, JobKind::Dispatch.max_attempts())
    );
}

#[tokio::test]
async fn a_job_that_succeeds_is_done_with_one_attempt() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let handler = TestHandler::new(Script::Succeed);
    let running = worker(&pool, &handler).spawn();
    let job = wait_for(&pool, &id, "done").await;
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(job.attempts, 1);
    assert_eq!(history(&pool, &id), [(1, "ok".to_owned(), None)]);
}

#[tokio::test]
async fn a_job_that_fails_twice_then_succeeds_records_three_attempts() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let handler = TestHandler::new(Script::FailTimes(2));
    let running = worker(&pool, &handler).spawn();
    let job = wait_for(&pool, &id, "done").await;
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(job.attempts, 3);
    assert_eq!(outcomes(&pool, &id), ["retry", "retry", "ok"]);
    assert_eq!(
        history(&pool, &id)[0].2.as_deref(),
        Some("courier answered 503")
    );
    assert_eq!(handler.runs()[&id], 3);
}

#[tokio::test]
async fn a_permanent_failure_parks_at_once() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let handler = TestHandler::new(Script::FailPermanently);
    let running = worker(&pool, &handler).spawn();
    let job = wait_for(&pool, &id, "parked").await;
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("courier refused the order"));
    assert_eq!(outcomes(&pool, &id), ["parked"]);
    let parked = pool
        .run_blocking(|c| outbox::list_parked(c, 10))
        .expect("parked");
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].id, id);
}

#[tokio::test]
async fn a_job_that_always_fails_parks_after_max_attempts() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue_max(&pool, 1, 3);
    let handler = TestHandler::new(Script::FailAlways);
    let running = worker(&pool, &handler).spawn();
    let job = wait_for(&pool, &id, "parked").await;
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(job.attempts, 3);
    assert_eq!(outcomes(&pool, &id), ["retry", "retry", "parked"]);
    assert_eq!(
        job.last_error.as_deref(),
        Some("gave up after 3 attempts: courier answered 503")
    );

    // The operator requeues it: attempts are kept, the budget grows by a full set.
    assert!(
        pool.run_blocking(|c| outbox::requeue(c, &id))
            .expect("requeue")
    );
    let job = find(&pool, &id);
    assert_eq!(
        (job.status.as_str(), job.attempts, job.max_attempts),
        ("pending", 3, 3 + JobKind::Dispatch.max_attempts())
    );
    assert!(
        !pool
            .run_blocking(|c| outbox::requeue(c, &id))
            .expect("again"),
        "only parked jobs"
    );
    assert!(
        !pool
            .run_blocking(|c| outbox::requeue(c, "nope"))
            .expect("unknown")
    );
}

#[test]
fn backoff_grows_and_is_jittered() {
    let base = Duration::from_secs(5);
    let cap = Duration::from_secs(3600);
    let ceilings: Vec<Duration> = (1..=12).map(|a| backoff_ceiling(a, base, cap)).collect();
    assert!(ceilings.windows(2).all(|w| w[0] <= w[1]), "{ceilings:?}");
    assert_eq!(ceilings[0], base);
    assert_eq!(ceilings[11], cap);
    let backoff = Backoff { base, cap };
    let delays: Vec<Duration> = (0..100).map(|_| backoff.delay(4)).collect();
    assert!(delays.iter().all(|d| *d <= Duration::from_secs(40)));
    let mut distinct = delays.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 50, "jittered: {} distinct", distinct.len());
}

#[tokio::test]
async fn a_retried_job_waits_for_its_backoff() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let handler = TestHandler::new(Script::FailAlways);
    let mut opts = options();
    opts.backoff = Backoff {
        base: Duration::from_secs(3600),
        cap: Duration::from_secs(7200),
    };
    let w = Worker::new(
        pool.clone(),
        (),
        Registry::new().with(handler.clone()),
        opts,
    );
    let before = civicpost::domain::ids::now_utc();
    assert_eq!(w.run_once().await.expect("run"), 1);
    let job = find(&pool, &id);
    assert_eq!(job.status, "pending");
    assert!(job.run_at >= before && job.run_at <= before + chrono::Duration::hours(1));
    assert_eq!(w.run_once().await.expect("run"), 0, "not due again yet");
}

#[tokio::test]
async fn kinds_without_a_handler_stay_pending_and_untouched() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let nothing: Registry<()> = Registry::new();
    let w = Worker::new(pool.clone(), (), nothing, options());
    assert_eq!(w.run_once().await.expect("run"), 0);
    let running = w.spawn();
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.stop(Duration::from_secs(5)).await;
    let claimed = pool
        .run_blocking(|c| outbox::claim_due(c, "w", &[], 10, Duration::from_secs(30)))
        .expect("claim");
    assert!(claimed.is_empty());
    let job = find(&pool, &id);
    assert_eq!((job.status.as_str(), job.attempts), ("pending", 0));
    assert!(history(&pool, &id).is_empty());
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_and_the_stale_worker_is_refused() {
    let db = TestDb::new();
    let pool = open(&db, 2);
    let id = enqueue(&pool, 1);
    let kinds = [JobKind::Dispatch];
    let lease = Duration::from_millis(50);
    let first = pool
        .run_blocking(|c| outbox::claim_due(c, "a", &kinds, 10, lease))
        .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempt, 1);
    let none = pool
        .run_blocking(|c| outbox::claim_due(c, "b", &kinds, 10, lease))
        .expect("claim");
    assert!(none.is_empty(), "held while the lease lasts");

    tokio::time::sleep(Duration::from_millis(120)).await;
    let second = pool
        .run_blocking(|c| outbox::claim_due(c, "b", &kinds, 10, Duration::from_secs(30)))
        .expect("reclaim");
    assert_eq!(second.len(), 1);
    assert_eq!((second[0].id.as_str(), second[0].attempt), (id.as_str(), 2));

    let stale = &first[0];
    assert!(
        !pool
            .run_blocking(|c| outbox::complete(c, stale))
            .expect("stale")
    );
    assert!(
        !pool
            .run_blocking(|c| outbox::park(c, stale, "late"))
            .expect("stale")
    );
    assert_eq!(find(&pool, &id).status, "running", "the newer claim holds");
    assert!(
        pool.run_blocking(|c| outbox::complete(c, &second[0]))
            .expect("current")
    );
    assert_eq!(find(&pool, &id).status, "done");
    assert_eq!(outcomes(&pool, &id), ["stale", "stale", "ok"]);
}

#[tokio::test]
async fn a_job_whose_last_attempt_never_finished_is_parked_without_running() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue_max(&pool, 1, 1);
    // A worker claims the only attempt and dies: the lease runs out.
    pool.run_blocking(|c| {
        outbox::claim_due(
            c,
            "dead",
            &[JobKind::Dispatch],
            1,
            Duration::from_millis(20),
        )
    })
    .expect("claim");
    tokio::time::sleep(Duration::from_millis(60)).await;
    let handler = TestHandler::new(Script::Succeed);
    assert_eq!(worker(&pool, &handler).run_once().await.expect("run"), 1);
    assert!(handler.runs().is_empty(), "not run again");
    let job = find(&pool, &id);
    assert_eq!((job.status.as_str(), job.attempts), ("parked", 2));
}

#[tokio::test]
async fn stopping_waits_for_running_jobs() {
    let db = TestDb::new();
    let pool = open(&db, 4);
    let id = enqueue(&pool, 1);
    let handler = TestHandler::new(Script::Sleep(Duration::from_millis(400)));
    let running = worker(&pool, &handler).spawn();
    wait_for(&pool, &id, "running").await;
    running.stop(Duration::from_secs(10)).await;
    assert_eq!(
        find(&pool, &id).status,
        "done",
        "finished before stop returned"
    );
}

#[test]
fn concurrent_claims_never_share_a_job() {
    let db = TestDb::new();
    let pool = open(&db, 1);
    for n in 0..200 {
        enqueue(&pool, n);
    }
    let claimants: Vec<_> = (0..2)
        .map(|w| {
            let pool = open(&db, 1);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let batch = pool
                        .run_blocking(|c| {
                            outbox::claim_due(
                                c,
                                &format!("w{w}"),
                                &[JobKind::Dispatch],
                                7,
                                Duration::from_secs(60),
                            )
                        })
                        .expect("claim");
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut all: Vec<String> = Vec::new();
    for claimant in claimants {
        let mine = claimant.join().expect("thread");
        all.extend(mine);
    }
    assert_eq!(all.len(), 200, "every job claimed");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 200, "no job claimed twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_do_200_jobs_exactly_once() {
    let db = TestDb::new();
    let pool = open(&db, 2);
    let ids: Vec<String> = (0..200).map(|n| enqueue(&pool, n)).collect();
    // Two workers with pools of their own, as two service instances would have.
    let handler = TestHandler::new(Script::Sleep(Duration::from_millis(2)));
    let workers: Vec<_> = (0..2)
        .map(|_| worker(&open(&db, 3), &handler).spawn())
        .collect();
    for id in &ids {
        wait_for(&pool, id, "done").await;
    }
    for w in workers {
        w.stop(Duration::from_secs(5)).await;
    }
    let runs = handler.runs();
    assert_eq!(runs.len(), 200);
    assert!(runs.values().all(|n| *n == 1), "each job ran once");
    let counts = pool.run_blocking(outbox::counts).expect("counts");
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].status.as_str(), counts[0].count), ("done", 200));
    for id in ids.iter().take(20) {
        assert_eq!(history(&pool, id), [(1, "ok".to_owned(), None)]);
    }
}

#[tokio::test]
async fn operators_see_depth_and_the_oldest_due_job() {
    let db = TestDb::new();
    let pool = open(&db, 2);
    let oldest = |pool: &Db| {
        pool.run_blocking(civicpost::store::gauges::queue_health)
            .expect("health")
            .oldest_due
    };
    assert_eq!(oldest(&pool), []);
    let mut later = new_job(1);
    later.run_at = Some(civicpost::domain::ids::now_utc() + chrono::Duration::hours(1));
    pool.run_blocking(|c| outbox::enqueue(c, &later))
        .expect("enqueue");
    assert_eq!(oldest(&pool), [], "not due yet");
    enqueue(&pool, 2);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let due = oldest(&pool);
    assert_eq!(due.len(), 1, "one due kind: {due:?}");
    let (kind, age) = &due[0];
    assert_eq!(kind, "dispatch");
    assert!(*age >= Duration::from_millis(10), "{age:?}");
    let depth = pool.run_blocking(outbox::queue_depth).expect("depth");
    assert_eq!(depth.len(), 1);
    assert_eq!(
        (
            depth[0].kind.as_str(),
            depth[0].status.as_str(),
            depth[0].count
        ),
        ("dispatch", "pending", 2)
    );
}

#[test]
fn jobs_settings_have_defaults_and_are_checked() {
    let settings = Settings::with_overrides(serde_json::json!({})).expect("defaults");
    let opts = WorkerOptions::from_settings(&settings.jobs);
    assert!(settings.jobs.enabled);
    assert_eq!(opts.poll_interval, Duration::from_millis(500));
    assert_eq!((opts.batch_size, opts.concurrency), (32, 8));
    assert_eq!(opts.lease, Duration::from_secs(300));
    assert_eq!(opts.backoff, Backoff::default());
    let err = Settings::with_overrides(serde_json::json!({ "jobs": { "concurrency": 0 } }))
        .expect_err("invalid");
    assert!(err.to_string().contains("jobs.concurrency"), "{err}");
    let err = Settings::with_overrides(serde_json::json!({
        "jobs": { "backoff_base_ms": 10_000, "backoff_cap_ms": 5_000 }
    }))
    .expect_err("invalid");
    assert!(err.to_string().contains("jobs.backoff_cap_ms"), "{err}");
    assert!(settings.to_masked_toml().contains("[jobs]\nenabled = true"));
}

#[cfg(unix)]
#[test]
fn the_worker_command_stops_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let db = TestDb::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civicpost"));
    cmd.arg("worker")
        .env_remove("CIVICPOST_CONFIG")
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", &db.url)
        .env("CIVICPOST__LOG__FORMAT", "text")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let dir = tempfile::tempdir().expect("dir");
    cmd.current_dir(dir.path());
    let mut child = cmd.spawn().expect("start civicpost worker");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("job worker started"));
    assert!(started, "the worker never said it started");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("job worker stopped")),
        "{rest:?}"
    );
}
