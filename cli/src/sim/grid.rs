//! `shoal sim grid` (filled in next).

use clap::Args as ClapArgs;

use crate::CliResult;

/// `shoal sim grid` options.
#[derive(ClapArgs, Debug)]
pub struct GridArgs {}

/// Runs the grid.
pub fn run(_a: GridArgs) -> CliResult {
    Err("not yet".into())
}
