//! `civicpost retention run`: the retention purge now, as the scheduled job would run it
//! (for a first run on an old database, or after lowering `retention.personal_data_days`).

use clap::Subcommand;

use super::CliResult;
use crate::app;
use crate::config::Settings;

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Anonymise deliveries that ended more than `retention.personal_data_days` ago.
    Run {
        /// Days to keep personal data, overriding `retention.personal_data_days` for this run.
        #[arg(long, value_name = "DAYS")]
        days: Option<u32>,
    },
}

pub fn run(settings: Settings, command: RetentionCommand) -> CliResult {
    let RetentionCommand::Run { days } = command;
    let days = days.unwrap_or(settings.retention.personal_data_days);
    if days == 0 {
        return Err("retention is off (0 days): nothing to do".into());
    }
    let batch_size = settings.retention.batch_size;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let state = runtime.block_on(app::prepare(settings))?;
    let totals = runtime.block_on(crate::jobs::retention::run_once(
        &state.db, days, batch_size, "cli",
    ))?;
    if let Some(totals) = totals {
        println!(
            "retention ({days} days): {} deliveries anonymised, {} courier webhook bodies deleted",
            totals.deliveries, totals.webhook_bodies
        );
    }
    Ok(())
}
