//! `civicpost migrate`, `agency …` and `operator …`: database chores for the operator.

use clap::Subcommand;

use super::CliResult;
use crate::app::{self, AppState};
use crate::config::Settings;
use crate::store::agencies::{self, NewAgency};

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// Create an agency and print its first API key (once, alone on the last line).
    Create {
        /// Short unique code, e.g. the agency part of its dossier codes (000.00.01.H42).
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Sender ward code (2025 scheme).
        #[arg(long)]
        sender_ward: Option<String>,
        #[arg(long)]
        sender_line: Option<String>,
        #[arg(long)]
        sender_phone: Option<String>,
        /// Agency level for reports (province, district, commune).
        #[arg(long)]
        level: Option<String>,
    },
    /// List agencies.
    List,
    /// Revoke the agency's keys and print a new one (alone on the last line).
    RotateKey { code: String },
    /// Stop the agency's keys from working (403) without deleting anything.
    Disable { code: String },
    /// Let a disabled agency in again.
    Enable { code: String },
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Create an operator key and print it (once, alone on the last line).
    CreateKey {
        #[arg(long)]
        label: Option<String>,
    },
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Connects, migrates and loads units: the same preparation `serve` does.
fn open(settings: Settings) -> Result<AppState, Box<dyn std::error::Error>> {
    Ok(runtime()?.block_on(app::prepare(settings))?)
}

pub fn migrate(settings: Settings) -> CliResult {
    let state = open(settings)?;
    let (p, w, l) = state.db.run_blocking(crate::store::units::counts)?;
    println!(
        "database {} ({}) is up to date: {p} provinces, {w} wards, {l} old-to-new ward links",
        state.db.target(),
        state.db.backend()
    );
    Ok(())
}

pub fn run_agency(settings: Settings, command: AgencyCommand) -> CliResult {
    let state = open(settings)?;
    let db = &state.db;
    match command {
        AgencyCommand::Create {
            code,
            name,
            sender_ward,
            sender_line,
            sender_phone,
            level,
        } => {
            if let Some(ward) = sender_ward
                .as_ref()
                .filter(|w| state.units.ward(w).is_none())
            {
                return Err(format!("--sender-ward: no ward has code '{ward}' in the 2025 scheme (try `civicpost units lookup <name>`)").into());
            }
            let new = NewAgency {
                code,
                name,
                sender_ward_code: sender_ward,
                sender_line,
                sender_phone,
                level,
            };
            let (agency, key) = db.run_blocking(|conn| agencies::create(conn, &new))?;
            println!("created agency {} ({})", agency.code, agency.name);
            println!("API key (shown once; only its hash is stored):");
            println!("{key}");
        }
        AgencyCommand::List => {
            let all = db.run_blocking(agencies::list)?;
            if all.is_empty() {
                println!("no agencies yet: civicpost agency create --code CODE --name NAME");
            }
            for a in all {
                let state = if a.active { "active" } else { "disabled" };
                println!("{:<24} {:<9} {}", a.code, state, a.name);
            }
        }
        AgencyCommand::RotateKey { code } => {
            let key = db.run_blocking(|conn| agencies::rotate_key(conn, &code))?;
            println!("revoked the previous keys of {code}; new API key (shown once):");
            println!("{key}");
        }
        AgencyCommand::Disable { code } => set_active(&state, &code, false)?,
        AgencyCommand::Enable { code } => set_active(&state, &code, true)?,
    }
    Ok(())
}

fn set_active(state: &AppState, code: &str, active: bool) -> CliResult {
    let agency = state
        .db
        .run_blocking(|conn| agencies::set_active(conn, code, active))?;
    let now = if agency.active {
        "enabled"
    } else {
        "disabled: its keys now answer 403"
    };
    println!("agency {} {now}", agency.code);
    Ok(())
}

pub fn run_operator(settings: Settings, command: OperatorCommand) -> CliResult {
    let state = open(settings)?;
    match command {
        OperatorCommand::CreateKey { label } => {
            let key = state
                .db
                .run_blocking(|conn| agencies::create_operator_key(conn, label.as_deref()))?;
            println!("operator key (shown once; only its hash is stored):");
            println!("{key}");
        }
    }
    Ok(())
}
