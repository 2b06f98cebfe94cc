//! The `courier_cancel` job: cancels the courier's order of a delivery the agency cancelled.
//! Retried while the courier is unreachable; a refusal (the parcel already moved) is parked
//! for the operator with the courier's words.

use async_trait::async_trait;
use serde::Deserialize;

use super::{ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::couriers::{CourierError, exchange};
use crate::domain::courier::Courier;
use crate::domain::jobs::JobKind;

pub struct CourierCancelHandler;

#[derive(Deserialize)]
struct Payload {
    courier: String,
    tracking_number: String,
}

#[async_trait]
impl JobHandler for CourierCancelHandler {
    fn kind(&self) -> JobKind {
        JobKind::CourierCancel
    }

    async fn run(&self, job: &ClaimedJob, ctx: &AppState) -> Result<(), JobError> {
        let payload: Payload = job.payload().map_err(JobError::permanent)?;
        let courier = Courier::parse(&payload.courier)
            .ok_or_else(|| JobError::permanent(format!("unknown courier {}", payload.courier)))?;
        let adapter = ctx.couriers.adapter(courier).ok_or_else(|| {
            JobError::retry(format!(
                "{} is not enabled in this deployment",
                courier.as_str()
            ))
        })?;
        let reference = job.delivery_id.clone().unwrap_or_default();
        let (outcome, calls) =
            exchange::capture(adapter.cancel_order(&payload.tracking_number, &reference)).await;
        if !reference.is_empty() {
            super::dispatch::keep_exchanges(ctx, &reference, &job.id, calls).await;
        }
        match outcome {
            Ok(()) => {
                tracing::info!(delivery_id = %reference, courier = courier.as_str(), "courier order cancelled");
                Ok(())
            }
            Err(e @ (CourierError::Refused(_) | CourierError::Unsupported)) => {
                Err(JobError::permanent(e))
            }
            Err(e) => Err(JobError::retry(e)),
        }
    }
}
