//! `civicpost couriers sync-units <vnpost|viettelpost>`: the courier's address ids for every
//! official ward, from the courier's own published list.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use clap::Subcommand;

use super::CliResult;
use crate::app::{self, AppState, Application, StartupError};
use crate::config::Settings;
use crate::couriers::sync_units::{self, SyncError, SyncReport};
use crate::domain::courier::Courier;

#[derive(Subcommand)]
pub enum CouriersCommand {
    /// Fetch the courier's address list, match it onto the official wards by name within
    /// each province and replace the stored mapping; prints every name that did not match.
    /// Fails, storing nothing, when the courier cannot be reached or nothing matches.
    SyncUnits {
        #[arg(value_parser = ["vnpost", "viettelpost"])]
        courier: String,
    },
}

pub fn run(settings: Settings, command: CouriersCommand) -> CliResult {
    let CouriersCommand::SyncUnits { courier } = command;
    let courier = Courier::parse(&courier).ok_or("unknown courier")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (state, simulators) = open(settings).await?;
        let result = sync_units::sync(&state, courier).await;
        if let Some(server) = simulators {
            server.stop(true).await;
        }
        match result {
            Ok(report) => {
                print_report(&report);
                Ok(())
            }
            Err(SyncError::NothingMatched(report)) => {
                print_report(&report);
                Err(SyncError::NothingMatched(report).into())
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// The state to sync with. In sandbox mode the couriers are the built-in simulators, which
/// only exist inside a serving process: the command serves them itself, on a free loopback
/// port, while it runs.
async fn open(mut settings: Settings) -> Result<(AppState, Option<ServerHandle>), StartupError> {
    if !settings.app.sandbox {
        return Ok((app::prepare(settings).await?, None));
    }
    settings.http.workers = 1;
    let app = Application::build(settings, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let state = app.state().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Ok((state, Some(handle)))
}

fn print_report(r: &SyncReport) {
    println!(
        "{}: {} units listed, {} official wards matched and stored",
        r.courier, r.listed, r.matched
    );
    if !r.unmatched_units.is_empty() {
        println!(
            "courier units that matched no official ward ({}):",
            r.unmatched_units.len()
        );
    }
    for u in &r.unmatched_units {
        let unit = &u.unit;
        println!(
            "  {} {} (province {} {}): {}",
            unit.ward_id, unit.ward_name, unit.province_id, unit.province_name, u.reason
        );
    }
    if !r.unmatched_wards.is_empty() {
        println!(
            "official wards with no courier unit ({}):",
            r.unmatched_wards.len()
        );
    }
    for w in &r.unmatched_wards {
        println!("  {} {} ({})", w.code, w.name, w.province_name);
    }
}
