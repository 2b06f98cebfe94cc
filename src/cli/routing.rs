//! `civicpost routing load <file> | list`: routing rules from the command line.

use std::path::PathBuf;

use clap::Subcommand;

use super::CliResult;
use crate::app::{self, AppState};
use crate::config::Settings;
use crate::store::routing::{self, FixtureOutcome};

#[derive(Subcommand)]
pub enum RoutingCommand {
    /// Upsert the rules of a TOML file by their ids, in one transaction (see
    /// fixtures/routing-rules.toml for the format). Loading the same file again changes nothing.
    Load { file: PathBuf },
    /// List the rules, most specific first.
    List {
        /// Include deactivated rules.
        #[arg(long)]
        all: bool,
    },
}

/// Connects, migrates and loads units: the same preparation `serve` does.
fn open(settings: Settings) -> Result<AppState, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(app::prepare(settings))?)
}

pub fn run(settings: Settings, command: RoutingCommand) -> CliResult {
    let state = open(settings)?;
    match command {
        RoutingCommand::Load { file } => {
            let FixtureOutcome {
                inserted,
                updated,
                unchanged,
            } = state
                .db
                .run_blocking(|conn| routing::load_fixture_file(conn, &file))?;
            println!(
                "{}: {inserted} inserted, {updated} updated, {unchanged} unchanged",
                file.display()
            );
        }
        RoutingCommand::List { all } => {
            let active = if all { None } else { Some(true) };
            let rules = state.db.run_blocking(|conn| routing::list(conn, active))?;
            if rules.is_empty() {
                println!("no routing rules: every delivery goes by VNPost (CTN009, 72 h)");
            }
            for record in rules {
                let r = &record.rule;
                let scope = [
                    record.agency_code.as_deref().map(|a| format!("agency {a}")),
                    r.province_code.as_deref().map(|p| format!("province {p}")),
                    r.ward_code.as_deref().map(|w| format!("ward {w}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                let scope = if scope.is_empty() {
                    "everywhere".to_owned()
                } else {
                    scope.join(", ")
                };
                let fallback = r
                    .fallback_courier
                    .map_or(String::new(), |f| format!(", fallback {f}"));
                let inactive = if r.active { "" } else { " (inactive)" };
                println!(
                    "{:<38} {scope}: {} {} {} h{fallback}, priority {}{inactive}",
                    r.id, r.courier, r.service_code, r.sla_hours, r.priority
                );
            }
        }
    }
    Ok(())
}
