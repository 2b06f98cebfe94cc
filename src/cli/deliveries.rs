//! `civicpost deliveries retry <id> | failed`: the operator's dispatch failure queue.

use clap::Subcommand;
use diesel::prelude::*;

use super::CliResult;
use crate::app;
use crate::config::Settings;
use crate::domain::state::DeliveryState;
use crate::store::StoreError;
use crate::store::dispatch::{self, RetryOutcome};
use crate::store::schema::deliveries;

#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// Dispatch a `dispatch_failed` delivery again (a running worker picks it up at once).
    Retry {
        /// The delivery id.
        id: String,
    },
    /// List deliveries in `dispatch_failed`, with each courier's reason.
    Failed {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub fn run(settings: Settings, command: DeliveriesCommand) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let state = runtime.block_on(app::prepare(settings))?;
    match command {
        DeliveriesCommand::Retry { id } => {
            match state.db.run_blocking(|c| dispatch::retry(c, &id))? {
                RetryOutcome::Requeued => {
                    runtime.block_on(crate::tracking::deliveries_changed(
                        &state,
                        vec![id.clone()],
                    ));
                    println!("{id}: back to received, dispatch queued");
                    Ok(())
                }
                RetryOutcome::NotFound => Err(format!("no delivery {id}").into()),
                RetryOutcome::NotFailed(current) => Err(format!(
                    "{id} is {current}; only dispatch_failed deliveries are retried"
                )
                .into()),
            }
        }
        DeliveriesCommand::Failed { limit } => {
            let rows: Vec<(String, String, Option<String>)> = state.db.run_blocking(|c| {
                deliveries::table
                    .filter(deliveries::state.eq(DeliveryState::DispatchFailed.as_str()))
                    .order(deliveries::updated_at.desc())
                    .limit(limit.clamp(1, 10_000))
                    .select((
                        deliveries::id,
                        deliveries::dossier_code,
                        deliveries::state_reason,
                    ))
                    .load(c)
                    .map_err(StoreError::from)
            })?;
            if rows.is_empty() {
                println!("no delivery in dispatch_failed");
            }
            for (id, dossier, reason) in rows {
                println!("{id}\t{dossier}\t{}", reason.unwrap_or_default());
            }
            Ok(())
        }
    }
}
