//! The `civicpost` command: see `civicpost --help` and src/cli.

fn main() -> std::process::ExitCode {
    civicpost::cli::run()
}
