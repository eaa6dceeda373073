//! (being written)

/// Arguments.
#[derive(clap::Args)]
pub struct Args {}

/// Runs.
pub fn run(_args: Args) -> crate::CliResult {
    Err("not implemented yet".into())
}
/// Writes.
pub fn write(a: Args) -> crate::CliResult {
    run(a)
}
/// Checks.
pub fn check(a: Args) -> crate::CliResult {
    run(a)
}
