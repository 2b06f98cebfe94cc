//! The `dispatch` job: quote, create the order at the routed courier (or its fallback), and
//! move the delivery to `awaiting_pickup`.
//!
//! Exactly one order per delivery, even across crashes: before a create call the courier is
//! written down as the delivery's `dispatch_courier`; creation is idempotent at the courier
//! on our delivery id (VNPost: looked up by `saleOrderCode` first; Viettel Post: `ORDER_NUMBER`
//! answers with the existing order). A run that finds a courier written down asks that
//! courier again and never another one until it answers for sure, so a lost answer can never
//! become a second order elsewhere.
//!
//! Fallback: the rule's fallback courier is tried when the routed courier refuses the order,
//! or when its circuit breaker is open (and no order there is in doubt). Outages retry with
//! backoff; when the attempts run out or every courier refused, `dispatch_failed` with the
//! reasons, for the operator to retry.

use async_trait::async_trait;

use super::{ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::couriers::breaker::{Breaker, BreakerState};
use crate::couriers::order::{self, Mappings};
use crate::couriers::{CourierError, exchange};
use crate::domain::courier::Courier;
use crate::domain::jobs::JobKind;
use crate::routing::standard_service_code;
use crate::store::dispatch::{self as store, Created, DispatchTarget, Recorded};
use crate::store::{StoreError, courier_units};

pub struct DispatchHandler;

/// How one courier's try ended, short of an order.
enum Miss {
    /// A sure "no": another courier may be tried.
    Refused(String),
    /// Down, slow or unreadable. `order_unknown`: a create call may have reached it.
    Down {
        reason: String,
        order_unknown: bool,
    },
    /// The delivery stopped waiting meanwhile (cancelled, or dispatched by another run).
    Gone,
    Store(StoreError),
}

impl From<StoreError> for Miss {
    fn from(e: StoreError) -> Self {
        Miss::Store(e)
    }
}

#[async_trait]
impl JobHandler for DispatchHandler {
    fn kind(&self) -> JobKind {
        JobKind::Dispatch
    }

    async fn run(&self, job: &ClaimedJob, ctx: &AppState) -> Result<(), JobError> {
        let id = job
            .delivery_id
            .clone()
            .ok_or_else(|| JobError::permanent("dispatch job without a delivery"))?;
        let target = {
            let id = id.clone();
            ctx.db.run(move |c| store::load(c, &id)).await
        }
        .map_err(JobError::retry)?
        .ok_or_else(|| JobError::permanent("the delivery does not exist"))?;
        if target.delivery.state != "received" {
            // Dispatched by an earlier run, cancelled, or failed and awaiting the operator.
            return Ok(());
        }
        let mut reasons = Vec::new();
        let mut down = false;
        let candidates = candidates(&target);
        for &courier in &candidates {
            let (outcome, calls) = exchange::capture(try_courier(ctx, &target, courier)).await;
            keep_exchanges(ctx, &id, &job.id, calls).await;
            report_breaker(ctx, courier);
            match outcome {
                Ok(created) => return record(ctx, &id, created).await,
                Err(Miss::Gone) => return Ok(()),
                Err(Miss::Store(e)) => return Err(JobError::retry(e)),
                Err(Miss::Refused(reason)) => {
                    reasons.push(format!("{}: {reason}", courier.as_str()));
                    let id = id.clone();
                    ctx.db
                        .run(move |c| store::clear_intent(c, &id, courier))
                        .await
                        .map_err(JobError::retry)?;
                }
                Err(Miss::Down {
                    reason,
                    order_unknown,
                }) => {
                    reasons.push(format!("{}: {reason}", courier.as_str()));
                    down = true;
                    let open = breaker_state(ctx, courier) != BreakerState::Closed;
                    if order_unknown || !open {
                        break;
                    }
                }
            }
        }
        let summary = reasons.join("; ");
        if down && job.attempt < job.max_attempts {
            return Err(match reopening(ctx, &candidates) {
                Some(not_before) => JobError::RetryAfter {
                    message: summary,
                    not_before,
                },
                None => JobError::Retry(summary),
            });
        }
        let failed = {
            let (id, summary) = (id.clone(), summary.clone());
            ctx.db.run(move |c| store::record_failed(c, &id, &summary))
        }
        .await
        .map_err(JobError::retry)?;
        if failed {
            crate::tracking::deliveries_changed(ctx, vec![id.clone()]).await;
            metrics::counter!("civicpost_dispatch_failed_total").increment(1);
            tracing::warn!(delivery_id = %id, "dispatch failed: {summary}");
        }
        Err(JobError::Permanent(summary))
    }
}

/// Whom to ask, in order: a courier with an order in doubt first, then the routed courier,
/// then its fallback.
fn candidates(target: &DispatchTarget) -> Vec<Courier> {
    let d = &target.delivery;
    let mut out: Vec<Courier> = Vec::new();
    let names = [
        target.dispatch_courier.as_deref(),
        Some(d.courier.as_str()),
        d.fallback_courier.as_deref(),
    ];
    for courier in names.into_iter().flatten().filter_map(Courier::parse) {
        if !out.contains(&courier) {
            out.push(courier);
        }
    }
    out
}

/// The breaker as a gauge: 0 closed, 1 half open, 2 open.
fn report_breaker(ctx: &AppState, courier: Courier) {
    let value = match breaker_state(ctx, courier) {
        BreakerState::Closed => 0.0,
        BreakerState::HalfOpen => 1.0,
        BreakerState::Open => 2.0,
    };
    metrics::gauge!("civicpost_courier_breaker_state", "courier" => courier.as_str()).set(value);
}

/// When every candidate's circuit is open: how long until the first lets a call through.
fn reopening(ctx: &AppState, candidates: &[Courier]) -> Option<std::time::Duration> {
    candidates
        .iter()
        .map(|c| ctx.couriers.breaker(*c).and_then(|b| b.retry_in()))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .min()
}

fn breaker_state(ctx: &AppState, courier: Courier) -> BreakerState {
    ctx.couriers
        .breaker(courier)
        .map_or(BreakerState::Closed, |b| b.state())
}

async fn try_courier(
    ctx: &AppState,
    target: &DispatchTarget,
    courier: Courier,
) -> Result<Created, Miss> {
    let d = &target.delivery;
    let in_doubt = target.dispatch_courier.as_deref() == Some(courier.as_str());
    let (Some(adapter), Some(breaker)) =
        (ctx.couriers.adapter(courier), ctx.couriers.breaker(courier))
    else {
        return Err(Miss::Refused("not enabled in this deployment".into()));
    };
    let mappings = load_mappings(ctx, courier, target).await?;
    let sender_province = target
        .sender
        .ward_code
        .as_deref()
        .and_then(|w| ctx.units.province_of_ward(w))
        .map(|p| p.code.clone())
        .unwrap_or_default();
    let (sender, receiver) =
        order::parties(courier, target, &mappings, sender_province).map_err(Miss::Refused)?;
    if let Err(open) = breaker.allow() {
        return Err(Miss::Down {
            reason: format!("circuit open, next try in {} s", open.retry_in.as_secs()),
            order_unknown: in_doubt,
        });
    }
    let quotes = adapter
        .quote(&order::quote_request(target, &sender, &receiver))
        .await
        .map_err(|e| miss(&breaker, e, in_doubt))?;
    let service = if d.courier == courier.as_str() {
        d.service_code.clone()
    } else {
        standard_service_code(courier).to_owned()
    };
    let quote = order::choose(&quotes, &service)
        .map_err(Miss::Refused)?
        .clone();
    let marked = {
        let id = d.id.clone();
        ctx.db
            .run(move |c| store::mark_intent(c, &id, courier))
            .await?
    };
    if !marked {
        return Err(Miss::Gone);
    }
    let order = order::order_request(target, &service, sender, receiver);
    let created = adapter
        .create_order(&order)
        .await
        .map_err(|e| miss(&breaker, e, true))?;
    // The worst moment to die: the courier has the order, we have not written it down.
    fail::fail_point!("dispatch-after-create");
    breaker.record_success();
    Ok(Created {
        courier,
        service_code: service,
        tracking_number: created.tracking_number,
        fee_vnd: created.fee_vnd.or(Some(quote.fee_vnd)),
    })
}

/// Sorts a courier error and tells the breaker: refusals mean the courier is up.
fn miss(breaker: &Breaker, error: CourierError, order_unknown: bool) -> Miss {
    match error {
        CourierError::Refused(_) | CourierError::Unsupported => {
            breaker.record_success();
            Miss::Refused(error.to_string())
        }
        CourierError::Unavailable(_) | CourierError::Protocol(_) | CourierError::Auth(_) => {
            breaker.record_failure();
            Miss::Down {
                reason: error.to_string(),
                order_unknown,
            }
        }
    }
}

async fn load_mappings(
    ctx: &AppState,
    courier: Courier,
    target: &DispatchTarget,
) -> Result<Mappings, StoreError> {
    let sender_ward = target.sender.ward_code.clone();
    let receiver_ward = target.delivery.ward_code.clone();
    ctx.db
        .run(move |c| {
            let sender = match &sender_ward {
                Some(ward) => courier_units::find(c, courier, ward)?,
                None => None,
            };
            let receiver = courier_units::find(c, courier, &receiver_ward)?;
            Ok::<_, StoreError>(Mappings { sender, receiver })
        })
        .await
}

async fn record(ctx: &AppState, id: &str, created: Created) -> Result<(), JobError> {
    let courier = created.courier;
    let outcome = {
        let (id, created) = (id.to_owned(), created.clone());
        ctx.db.run(move |c| store::record_created(c, &id, &created))
    }
    .await
    .map_err(JobError::retry)?;
    // Committed: the public page now shows the courier and its tracking number.
    crate::tracking::deliveries_changed(ctx, vec![id.to_owned()]).await;
    metrics::counter!("civicpost_dispatched_total", "courier" => courier.as_str()).increment(1);
    match outcome {
        Recorded::Dispatched => {
            tracing::info!(delivery_id = %id, courier = courier.as_str(), "order created");
        }
        Recorded::AlreadyDispatched => {
            tracing::info!(delivery_id = %id, "order already recorded by an earlier run");
        }
        Recorded::CancelledMeanwhile => {
            tracing::info!(delivery_id = %id, "cancelled while dispatching: courier cancel queued");
        }
    }
    Ok(())
}

/// Keeps a job's masked courier calls on the delivery; losing them must not fail the job.
pub(super) async fn keep_exchanges(
    ctx: &AppState,
    id: &str,
    job_id: &str,
    calls: Vec<exchange::Exchange>,
) {
    if calls.is_empty() {
        return;
    }
    let (id, job_id) = (id.to_owned(), job_id.to_owned());
    let saved = ctx
        .db
        .run(move |c| store::save_exchanges(c, &id, Some(&job_id), &calls))
        .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e, "courier exchanges not kept");
    }
}
