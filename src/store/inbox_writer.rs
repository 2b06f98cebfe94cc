//! Group commit for courier webhooks. Each webhook must be on disk before the courier gets
//! its 200, and a commit per webhook makes the flush to disk the bottleneck once dozens of
//! senders post at once. Handlers hand their body to one of a few writer tasks, which take
//! every body waiting at that moment and store them in one transaction
//! ([`inbox::receive_batch`]); each handler answers once its batch has committed. A lone
//! webhook waits for no one: a batch is whatever arrived while the previous one committed.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::inbox::{self, Received};
use super::{Db, StoreError};
use crate::domain::courier::Courier;

/// Writer tasks: two keep the disk busy while the next batch gathers.
const WRITERS: usize = 2;
/// Bodies per transaction at most.
const MAX_BATCH: usize = 64;

struct Waiting {
    courier: Courier,
    body: Vec<u8>,
    reply: oneshot::Sender<Result<Received, StoreError>>,
}

/// The handle handlers store through; cheap to clone. The writer tasks end when the last
/// handle is dropped.
#[derive(Clone)]
pub struct InboxWriter {
    queue: mpsc::Sender<Waiting>,
}

impl InboxWriter {
    /// Starts the writer tasks on the current Tokio runtime.
    pub fn start(db: Db) -> Self {
        let (queue, waiting) = mpsc::channel(WRITERS * MAX_BATCH * 4);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WRITERS {
            tokio::spawn(write_batches(db.clone(), Arc::clone(&waiting)));
        }
        Self { queue }
    }

    /// Stores `body` (with its ingestion job) and returns once it is committed.
    pub async fn receive(&self, courier: Courier, body: Vec<u8>) -> Result<Received, StoreError> {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            courier,
            body,
            reply,
        };
        self.queue
            .send(waiting)
            .await
            .map_err(|_| StoreError::Task("the webhook inbox writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Task("the webhook inbox writer dropped a body".into()))?
    }
}

async fn write_batches(db: Db, waiting: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
    while let Some(batch) = next_batch(&waiting).await {
        let (replies, bodies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|w| (w.reply, (w.courier, w.body)))
            .unzip();
        // The bodies travel to the database thread and back, not copied: a retry needs them.
        let stored = db
            .run(move |conn| {
                let refs: Vec<(Courier, &[u8])> =
                    bodies.iter().map(|(c, b)| (*c, b.as_slice())).collect();
                let outcome = inbox::receive_batch(conn, &refs);
                Ok::<_, StoreError>((outcome, bodies))
            })
            .await;
        match stored {
            Ok((Ok(outcomes), _)) if outcomes.len() == replies.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A handler that gave up (client gone) no longer listens; the body is
                    // stored all the same, and a retry from the courier is a duplicate.
                    let _ = reply.send(Ok(outcome));
                }
            }
            // One body must not fail its neighbours: each alone.
            Ok((_, bodies)) => {
                for (reply, (courier, body)) in replies.into_iter().zip(bodies) {
                    let alone = db.run(move |c| inbox::receive(c, courier, &body)).await;
                    let _ = reply.send(alone);
                }
            }
            // No connection at all: every handler answers an error and the couriers retry.
            Err(e) => {
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Task(message.clone())));
                }
            }
        }
    }
}

/// Waits for a body, then takes every other one already waiting, up to [`MAX_BATCH`].
/// `None` once every handle is gone.
async fn next_batch(waiting: &Mutex<mpsc::Receiver<Waiting>>) -> Option<Vec<Waiting>> {
    let mut waiting = waiting.lock().await;
    let first = waiting.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match waiting.try_recv() {
            Ok(w) => batch.push(w),
            Err(_) => break,
        }
    }
    Some(batch)
}
