//! `shoal partitions sweep` (being written).

/// Arguments of `shoal partitions sweep`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the sweep.
pub fn run(_args: Args) -> crate::CliResult {
    Err("not implemented yet".into())
}
