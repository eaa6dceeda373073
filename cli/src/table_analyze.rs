//! `shoal partitions analyze`: balance of classic and balanced tables and how many
//! partitions move when one member joins and one leaves.

use serde::Serialize;
use shoal_core::{PartitionMode, PartitionTable, TableConfig};

/// Arguments of `shoal partitions analyze`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of partitions P.
    #[arg(long, default_value_t = 4096)]
    partitions: u32,
    /// Number of members.
    #[arg(long, default_value_t = 100)]
    members: u32,
    /// Vnodes (claims) per member.
    #[arg(long, default_value_t = 10)]
    vnodes: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ModeReport {
    mode: &'static str,
    peak_to_mean: f64,
    ideal_peak_to_mean: f64,
    variance: f64,
    collisions: u64,
    /// Partitions that change owner when one member joins.
    join_moved: usize,
    /// Of those, the ones that go to the newcomer.
    join_to_newcomer: usize,
    /// The minimum: the newcomer's fair share P/(n+1).
    join_ideal: f64,
    /// Partitions that change owner when one member leaves.
    leave_moved: usize,
    /// The minimum: the leaver's fair share P/n.
    leave_ideal: f64,
}

/// Runs the analysis.
pub fn run(args: Args) -> crate::CliResult {
    if args.members < 2 {
        return Err("--members must be at least 2 (one member leaves in the analysis)".into());
    }
    let ids: Vec<String> = (0..args.members).map(|i| format!("member-{i}")).collect();
    let mut reports = Vec::new();
    for mode in [PartitionMode::Classic, PartitionMode::Balanced] {
        let config = TableConfig {
            partitions: args.partitions,
            vnodes: args.vnodes,
            mode,
        };
        let table = PartitionTable::new(config, ids.iter().map(String::as_str))?;
        let joined = table.with_member("newcomer")?;
        let left = table.without_member(&ids[0])?;
        let join = table.diff(&joined)?;
        let leave = table.diff(&left)?;
        let stats = table.stats();
        let p = f64::from(args.partitions);
        reports.push(ModeReport {
            mode: mode.name(),
            peak_to_mean: stats.peak_to_mean,
            ideal_peak_to_mean: stats.ideal_peak_to_mean,
            variance: stats.variance,
            collisions: stats.collisions,
            join_moved: join.len(),
            join_to_newcomer: join.iter().filter(|m| m.to == Some("newcomer")).count(),
            join_ideal: p / (f64::from(args.members) + 1.0),
            leave_moved: leave.len(),
            leave_ideal: p / f64::from(args.members),
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    println!(
        "partition table · P = {} · {} members × {} vnodes",
        args.partitions, args.members, args.vnodes
    );
    println!("mode       peak/mean (ideal)   variance   join moved (to new / ideal)   leave moved (ideal)");
    for r in &reports {
        println!(
            "{:<10} {:>8.4} ({:.4}) {:>10.1}   {:>5} ({} / {:.0}) = {:.2}x ideal   {:>5} ({:.0}) = {:.2}x ideal",
            r.mode,
            r.peak_to_mean,
            r.ideal_peak_to_mean,
            r.variance,
            r.join_moved,
            r.join_to_newcomer,
            r.join_ideal,
            r.join_moved as f64 / r.join_ideal,
            r.leave_moved,
            r.leave_ideal,
            r.leave_moved as f64 / r.leave_ideal,
        );
    }
    Ok(())
}
