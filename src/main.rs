//! The `civicpost` command: see `civicpost --help` and src/cli.

fn main() -> std::process::ExitCode {
    // Reads FAILPOINTS in builds with the `failpoints` feature (crash tests); a no-op otherwise.
    let scenario = fail::FailScenario::setup();
    let code = civicpost::cli::run();
    scenario.teardown();
    code
}
