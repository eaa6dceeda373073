//! `shoal ring analyze`: balance of a ring and key movement when one node is added and
//! one removed, measured on real keys and cross-checked against the exact hash-space
//! migration plan from `Ring::diff`.

use serde::Serialize;
use shoal_core::{HashScheme, Ring};

use crate::{keys, progress};

/// Arguments of `shoal ring analyze`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of nodes.
    #[arg(long, default_value_t = 100)]
    nodes: u32,
    /// Vnodes per node (ketama: vnodes per server before weighting).
    #[arg(long, default_value_t = 160)]
    vnodes: u32,
    /// Number of keys to place.
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Hash scheme: xxh3 or ketama.
    #[arg(long, default_value = "xxh3")]
    hash: String,
    /// Also report the exact peak/mean over this many independent id sets (a single
    /// layout's peak is a random draw).
    #[arg(long, default_value_t = 100)]
    id_sets: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Exact peak/mean over many id sets.
#[derive(Serialize)]
struct Spread {
    id_sets: u32,
    median_peak_to_mean: f64,
    p90_peak_to_mean: f64,
    max_peak_to_mean: f64,
}

/// Balance of key counts over nodes.
#[derive(Serialize)]
struct Balance {
    peak_to_mean: f64,
    cv: f64,
    min_to_mean: f64,
    /// Peak/mean of the exact hash-space shares (no sampling noise).
    exact_peak_to_mean: f64,
}

/// Movement caused by one membership change.
#[derive(Serialize)]
struct Movement {
    node: String,
    /// Fraction of keys whose owner changed.
    fraction_moved: f64,
    /// The minimum possible with perfect balance: 1/(n+1) on add, 1/n on remove.
    ideal_fraction: f64,
    /// The changed node's exact share of the hash space (what must move, at least).
    node_share: f64,
    /// Of the moved keys, the fraction that went to (add) / came from (remove) the node.
    fraction_involving_node: f64,
    /// Fraction of the hash space that moves, from the exact migration plan.
    exact_fraction_moved: f64,
    /// Ranges in the migration plan.
    ranges: usize,
}

#[derive(Serialize)]
struct Report {
    hash: &'static str,
    nodes: u32,
    vnodes: u32,
    keys: u64,
    balance: Balance,
    spread: Option<Spread>,
    add: Movement,
    remove: Movement,
}

/// Runs the analysis.
pub fn run(args: Args) -> crate::CliResult {
    if args.nodes < 2 {
        return Err("--nodes must be at least 2 (one node is removed in the analysis)".into());
    }
    if args.keys == 0 {
        return Err("--keys must be at least 1".into());
    }
    let scheme = HashScheme::parse(&args.hash)?;
    let ids: Vec<String> = (0..args.nodes).map(|i| format!("node-{i}")).collect();
    let ring = Ring::from_nodes(scheme, args.vnodes, ids.iter().map(String::as_str))?;

    let pb = progress::bar(args.keys * 3, "placing keys");
    let positions: Vec<u64> = (0..args.keys)
        .map(|i| ring.key_position(keys::key(i).as_bytes()))
        .collect();
    let owners = assign(&ring, &positions, &pb)?;

    let mut counts = vec![0u64; ring.len()];
    for &o in &owners {
        counts[o as usize] += 1;
    }
    let mean = args.keys as f64 / ring.len() as f64;
    let var = counts
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / ring.len() as f64;
    let shares = ring.ownership();
    let balance = Balance {
        peak_to_mean: *counts.iter().max().unwrap_or(&0) as f64 / mean,
        cv: var.sqrt() / mean,
        min_to_mean: *counts.iter().min().unwrap_or(&0) as f64 / mean,
        exact_peak_to_mean: shares.iter().cloned().fold(0.0, f64::max) * ring.len() as f64,
    };

    let added_id = format!("node-{}", args.nodes);
    let mut grown = ring.clone();
    grown.add(added_id.as_str())?;
    let add = movement(&ring, &grown, &owners, &positions, &added_id, true, &pb)?;

    let removed_id = ids[0].clone();
    let mut shrunk = ring.clone();
    shrunk.remove(&removed_id)?;
    let remove = movement(&ring, &shrunk, &owners, &positions, &removed_id, false, &pb)?;
    pb.finish_and_clear();

    let spread = if args.id_sets == 0 {
        None
    } else {
        let mut peaks = Vec::with_capacity(args.id_sets as usize);
        for set in 0..args.id_sets {
            let ids = (0..args.nodes).map(|i| format!("set{set}-node-{i}"));
            let r = Ring::from_nodes(scheme, args.vnodes, ids)?;
            peaks.push(r.ownership().iter().cloned().fold(0.0, f64::max) * r.len() as f64);
        }
        peaks.sort_by(f64::total_cmp);
        let at = |q: f64| peaks[((peaks.len() - 1) as f64 * q).round() as usize];
        Some(Spread {
            id_sets: args.id_sets,
            median_peak_to_mean: at(0.5),
            p90_peak_to_mean: at(0.9),
            max_peak_to_mean: at(1.0),
        })
    };
    let report = Report {
        spread,
        hash: scheme.name(),
        nodes: args.nodes,
        vnodes: args.vnodes,
        keys: args.keys,
        balance,
        add,
        remove,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn assign(
    ring: &Ring,
    positions: &[u64],
    pb: &indicatif::ProgressBar,
) -> Result<Vec<u32>, shoal_core::Error> {
    let mut out = vec![0u32; positions.len()];
    for (chunk_in, chunk_out) in positions.chunks(1 << 16).zip(out.chunks_mut(1 << 16)) {
        ring.locate_many_hashes(chunk_in, chunk_out)?;
        pb.inc(chunk_in.len() as u64);
    }
    Ok(out)
}

fn movement(
    before: &Ring,
    after: &Ring,
    owners: &[u32],
    positions: &[u64],
    node: &str,
    added: bool,
    pb: &indicatif::ProgressBar,
) -> Result<Movement, Box<dyn std::error::Error>> {
    let new_owners = assign(after, positions, pb)?;
    let (mut moved, mut involving) = (0u64, 0u64);
    for (&a, &b) in owners.iter().zip(&new_owners) {
        let (from, to) = (
            before.nodes()[a as usize].id(),
            after.nodes()[b as usize].id(),
        );
        if from != to {
            moved += 1;
            if (added && to == node) || (!added && from == node) {
                involving += 1;
            }
        }
    }
    let plan = before.diff(after)?;
    let changed = if added { after } else { before };
    let share = changed.ownership()[changed.index_of(node).expect("node present")];
    Ok(Movement {
        node: node.to_owned(),
        fraction_moved: moved as f64 / positions.len() as f64,
        ideal_fraction: 1.0 / changed.len() as f64,
        node_share: share,
        fraction_involving_node: if moved == 0 {
            1.0
        } else {
            involving as f64 / moved as f64
        },
        exact_fraction_moved: plan.fraction_moved(),
        ranges: plan.moves.len(),
    })
}

fn print_report(r: &Report) {
    println!(
        "ring {} · {} nodes × {} vnodes · {} keys",
        r.hash, r.nodes, r.vnodes, r.keys
    );
    println!(
        "balance     peak/mean {:.4}   min/mean {:.4}   cv {:.4}   (exact hash-space peak/mean {:.4})",
        r.balance.peak_to_mean, r.balance.min_to_mean, r.balance.cv, r.balance.exact_peak_to_mean
    );
    if let Some(s) = &r.spread {
        println!(
            "spread      exact peak/mean over {} id sets: median {:.4}, p90 {:.4}, max {:.4}",
            s.id_sets, s.median_peak_to_mean, s.p90_peak_to_mean, s.max_peak_to_mean
        );
    }
    for (what, m) in [("add", &r.add), ("remove", &r.remove)] {
        println!(
            "{what:<7} {:<10} moved {:.5} of keys (ideal {:.5}, its exact share {:.5}; plan {:.5} in {} ranges); {:.2}% of moved keys {} it",
            m.node,
            m.fraction_moved,
            m.ideal_fraction,
            m.node_share,
            m.exact_fraction_moved,
            m.ranges,
            m.fraction_involving_node * 100.0,
            if what == "add" { "went to" } else { "came from" }
        );
    }
}
