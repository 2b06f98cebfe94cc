//! The command line: `civicpost serve | worker | migrate | config | units | agency | operator
//! | routing | couriers | deliveries | sim`.

mod agency;
mod couriers;
mod deliveries;
mod retention;
mod routing;
mod serve;
mod sim;
mod units;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Parser)]
#[command(
    name = "civicpost",
    version,
    about = "Delivers administrative results from one-stop shops to citizens' homes"
)]
pub struct Cli {
    /// A TOML configuration file (default: $CIVICPOST_CONFIG, else ./civicpost.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (applies migrations and loads units first).
    Serve {
        /// Address to listen on, overriding http.bind.
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Run the outbox worker alone, without the HTTP server.
    Worker,
    /// Apply pending database migrations and load the administrative units.
    Migrate,
    /// Print the effective configuration, secrets masked.
    Config,
    /// Administrative units (2025 scheme).
    Units {
        #[command(subcommand)]
        command: units::UnitsCommand,
    },
    /// Manage agencies (one-stop shops) and their API keys.
    Agency {
        #[command(subcommand)]
        command: agency::AgencyCommand,
    },
    /// Operator keys.
    Operator {
        #[command(subcommand)]
        command: agency::OperatorCommand,
    },
    /// Routing rules: which courier, service and promise each delivery gets.
    Routing {
        #[command(subcommand)]
        command: routing::RoutingCommand,
    },
    /// Run both courier simulators on their own ports (sandbox credentials).
    Sim(sim::SimArgs),
    /// The operator's side of deliveries: failed dispatches and their retry.
    Deliveries {
        #[command(subcommand)]
        command: deliveries::DeliveriesCommand,
    },
    /// Courier chores: address-id mapping.
    Couriers {
        #[command(subcommand)]
        command: couriers::CouriersCommand,
    },
    /// Personal-data retention: the purge the service also runs on schedule.
    Retention {
        #[command(subcommand)]
        command: retention::RetentionCommand,
    },
}

/// Parses the arguments and runs the command; errors go to standard error.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let result = match cli.command {
        Command::Serve { bind } => serve::serve(settings, bind),
        Command::Worker => worker::worker(settings),
        Command::Migrate => agency::migrate(settings),
        Command::Config => {
            print!("{}", settings.to_masked_toml());
            Ok(())
        }
        Command::Units { command } => units::run(&settings, command),
        Command::Agency { command } => agency::run_agency(settings, command),
        Command::Operator { command } => agency::run_operator(settings, command),
        Command::Routing { command } => routing::run(settings, command),
        Command::Deliveries { command } => deliveries::run(settings, command),
        Command::Sim(args) => sim::run(settings, args),
        Command::Couriers { command } => couriers::run(settings, command),
        Command::Retention { command } => retention::run(settings, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&*e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

pub(crate) type CliResult = Result<(), Box<dyn std::error::Error>>;
