//! (being written)

/// Arguments.
#[derive(clap::Args)]
pub struct Args {}

/// Runs.
pub fn run(_args: Args) -> crate::CliResult {
    Err("not implemented yet".into())
}
