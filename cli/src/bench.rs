//! `shoal bench ring` (being written).

/// Arguments of `shoal bench ring`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the benchmark.
pub fn run(_args: Args) -> crate::CliResult {
    Err("not implemented yet".into())
}
