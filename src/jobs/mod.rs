//! The outbox worker: claims due jobs, runs the handler registered for each kind, and
//! records the outcome (done, retry with backoff, or parked for an operator).
//!
//! A kind is carried out only by a process that has a handler for it; jobs of other kinds
//! stay pending and untouched. Handlers must be idempotent: a job can run more than once
//! (a lease that expired mid-run, a crash after the work but before the commit).
//!
//! Adding a kind: implement [`JobHandler`] in a file of this folder and register it in
//! [`handlers::registry`].

pub mod backoff;
pub mod callback;
pub mod courier_cancel;
pub mod dispatch;
pub mod handlers;
pub mod ingest;
pub mod notify;
pub mod pull;
pub mod retention;
pub mod send_notification;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::app::AppState;
use crate::domain::jobs::JobKind;
pub use crate::store::jobs::ClaimedJob;
pub use backoff::{Backoff, backoff_ceiling, backoff_delay};
pub use worker::{Worker, WorkerHandle, WorkerOptions};

/// How an attempt failed. Messages are stored and logged: no personal data, no secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (timeouts, 5xx, a courier's circuit open).
    #[error("{0}")]
    Retry(String),
    /// As `Retry`, but not before `not_before` has passed: every courier's circuit is open
    /// until then, and an earlier try would be refused without a call, using up an attempt.
    #[error("{message}")]
    RetryAfter {
        message: String,
        not_before: std::time::Duration,
    },
    /// Will never succeed as it is (bad payload, a refusal that retrying cannot change).
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retry(message: impl std::fmt::Display) -> Self {
        JobError::Retry(message.to_string())
    }

    pub fn permanent(message: impl std::fmt::Display) -> Self {
        JobError::Permanent(message.to_string())
    }
}

/// Carries out one kind of job. `C` is what handlers share; the service uses [`AppState`],
/// tests can use something smaller.
#[async_trait]
pub trait JobHandler<C = AppState>: Send + Sync + 'static {
    fn kind(&self) -> JobKind;

    async fn run(&self, job: &ClaimedJob, ctx: &C) -> Result<(), JobError>;

    /// This kind's retry delays when it has its own schedule (agency callbacks retry for
    /// days); `None`, the default: the worker's (`[jobs]` settings).
    fn backoff(&self, _ctx: &C) -> Option<Backoff> {
        None
    }
}

/// Handlers by kind. The worker claims only the kinds registered here.
pub struct Registry<C = AppState> {
    handlers: HashMap<JobKind, Arc<dyn JobHandler<C>>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Self {
            handlers: HashMap::new(),
        }
    }
}

impl<C> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a handler; a second handler for the same kind replaces the first.
    pub fn register(&mut self, handler: impl JobHandler<C>) -> &mut Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    /// The same, for building in one expression.
    pub fn with(mut self, handler: impl JobHandler<C>) -> Self {
        self.register(handler);
        self
    }

    pub fn get(&self, kind: JobKind) -> Option<Arc<dyn JobHandler<C>>> {
        self.handlers.get(&kind).cloned()
    }

    /// The registered kinds, in a stable order.
    pub fn kinds(&self) -> Vec<JobKind> {
        JobKind::ALL
            .into_iter()
            .filter(|k| self.handlers.contains_key(k))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }
}

/// Starts the service's worker (the handlers of [`handlers::registry`], settings `[jobs]`) and,
/// beside it, the courier history pull (`[couriers.pull]`).
pub fn start(state: &AppState) -> WorkerHandle {
    Worker::new(
        state.db.clone(),
        state.clone(),
        handlers::registry(),
        WorkerOptions::from_settings(&state.settings.jobs),
    )
    .spawn()
    .with_companion(pull::spawn(state.clone()))
    .with_companion(retention::spawn(state.clone()))
}

/// How long a stopping worker waits for running jobs: the HTTP grace period, so one setting
/// bounds the whole shutdown.
pub fn stop_grace(state: &AppState) -> std::time::Duration {
    std::time::Duration::from_secs(state.settings.http.shutdown_timeout_secs)
}
