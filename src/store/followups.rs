//! What every state change sets in motion, in the transaction that makes it: the agency's
//! callback, and the citizen's message for the states citizens hear about.

use chrono::NaiveDateTime;

use super::{DbConnection, StoreError, jobs};
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::state::DeliveryState;
use crate::domain::transitions;

/// Enqueues the `callback` job, and the `notify` job when the citizen is told of `state`.
pub fn state_changed(
    conn: &mut DbConnection,
    delivery_id: &str,
    event_id: &str,
    state: DeliveryState,
    occurred_at: NaiveDateTime,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({
        "delivery_id": delivery_id,
        "event_id": event_id,
        "state": state.as_str(),
        "occurred_at": occurred_at,
    });
    let mut kinds = vec![JobKind::Callback];
    if transitions::notifies_citizen(state) {
        kinds.push(JobKind::Notify);
    }
    for kind in kinds {
        let job = NewJob {
            kind,
            delivery_id: Some(delivery_id.to_owned()),
            payload: payload.clone(),
            run_at: None,
        };
        jobs::enqueue(conn, &job)?;
    }
    Ok(())
}
