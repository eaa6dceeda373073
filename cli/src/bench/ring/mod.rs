//! `shoal bench ring`: side-by-side timing of shoal and other Rust consistent-hashing
//! crates, in one run, on the same keys and node ids, single-threaded.
//!
//! Scenarios: owner lookup (hashing included) at several node counts, distinct replicas,
//! and ring construction. Each row is the median over timed batches (see [`measure`]);
//! ratios are relative to the scenario's shoal anchor row.

mod measure;
mod suite;

use std::time::Duration;

use serde::Serialize;

use super::machine::Machine;
use measure::Budget;
use suite::{Kind, Plan, Scenario};

/// Arguments of `shoal bench ring`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// A short run (a few seconds, even in a debug build): fewer keys and batches, so the
    /// numbers are only indicative.
    #[arg(long)]
    quick: bool,
}

/// The settings of the run.
#[derive(Debug, Serialize)]
struct Settings {
    quick: bool,
    keys: usize,
    key_format: &'static str,
    node_id_format: &'static str,
    vnodes: u32,
    replicas: usize,
    batches: usize,
    batch_target_ns: u64,
    statistic: &'static str,
    threads: u32,
}

/// Everything `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    settings: Settings,
    scenarios: Vec<Scenario>,
}

fn plan(quick: bool) -> Plan {
    let full = Plan {
        keys: 1 << 16,
        vnodes: 160,
        lookup_nodes: vec![10, 100, 1000],
        partition_nodes: 100,
        replica_nodes: vec![100, 1000],
        replicas: 3,
        build_nodes: 1000,
        check_keys: 1000,
        budget: Budget {
            batches: 21,
            batch_target: Duration::from_millis(4),
            build_budget: Duration::from_secs(4),
            min_builds: 5,
        },
    };
    if !quick {
        return full;
    }
    // Same scenarios, smaller sample: indicative numbers in a few seconds.
    Plan {
        keys: 1 << 12,
        check_keys: 32,
        budget: Budget {
            batches: 5,
            batch_target: Duration::from_micros(200),
            build_budget: Duration::from_millis(30),
            min_builds: 1,
        },
        ..full
    }
}

fn collect(
    plan: &Plan,
    quick: bool,
    mut progress: impl FnMut(&str),
) -> Result<Report, Box<dyn std::error::Error>> {
    let scenarios = suite::run_all(plan, &mut progress)?;
    Ok(Report {
        machine: Machine::detect(),
        settings: Settings {
            quick,
            keys: plan.keys,
            key_format: "key-{splitmix64(i):016x}",
            node_id_format: "node-{i}",
            vnodes: plan.vnodes,
            replicas: plan.replicas,
            batches: plan.budget.batches,
            batch_target_ns: plan.budget.batch_target.as_nanos() as u64,
            statistic: "median of batches, ns per operation",
            threads: 1,
        },
        scenarios,
    })
}

/// Runs the benchmark.
pub fn run(args: Args) -> crate::CliResult {
    let plan = plan(args.quick);
    let pb = crate::progress::bar(plan.scenario_count() as u64, "bench ring");
    let mut started = 0;
    let report = collect(&plan, args.quick, |title| {
        if started > 0 {
            pb.inc(1);
        }
        started += 1;
        pb.set_message(title.to_owned());
    });
    pb.inc(1);
    pb.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// `12.3 ns`, `45.6 µs`, `7.89 ms`, `1.23 s`.
fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// `baseline`, `3.41x slower`, `2.10x faster`, `same`.
fn fmt_verdict(kind: Kind, ratio: Option<f64>) -> String {
    match (kind, ratio) {
        (Kind::Anchor, _) => "baseline".to_owned(),
        (_, None) => "n/a".to_owned(),
        (_, Some(r)) if r >= 1.005 => format!("{r:.2}x slower"),
        (_, Some(r)) if r <= 0.995 => format!("{:.2}x faster", 1.0 / r),
        (_, Some(_)) => "same".to_owned(),
    }
}

/// The human-readable tables.
fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let m = &r.machine;
    let s = &r.settings;
    let _ = writeln!(
        o,
        "machine: {} CPUs, {}, {} {}, {} build",
        m.nproc,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.os,
        m.arch,
        m.build
    );
    let _ = writeln!(
        o,
        "method: {} keys {}, node ids {}, {} vnodes/node, single thread; median of {} batches (~{} each){}",
        s.keys,
        s.key_format,
        s.node_id_format,
        s.vnodes,
        s.batches,
        fmt_time(s.batch_target_ns as f64),
        if s.quick { "; --quick: indicative only" } else { "" }
    );
    if m.build == "debug" {
        let _ = writeln!(o, "warning: debug build; compare only release numbers");
    }
    let _ = writeln!(
        o,
        "ratio = time / shoal anchor time (> 1: slower than shoal)"
    );
    for sc in &r.scenarios {
        let _ = writeln!(o);
        let _ = writeln!(o, "== {} [{}] ({})", sc.title, sc.id, sc.unit);
        let lw = sc
            .rows
            .iter()
            .map(|x| x.library.chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        let aw = sc
            .rows
            .iter()
            .map(|x| x.api.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        let _ = writeln!(
            o,
            "  {:<lw$}  {:<aw$}  {:>10}  {:>7}  {:<15}  note",
            "library", "api", "median", "ratio", "vs shoal"
        );
        for row in &sc.rows {
            let time = row.ns_per_op.map_or("-".to_owned(), fmt_time);
            let ratio = row
                .ratio_to_shoal
                .map_or("-".to_owned(), |x| format!("{x:.2}"));
            let _ = writeln!(
                o,
                "  {:<lw$}  {:<aw$}  {:>10}  {:>7}  {:<15}  {}",
                row.library,
                row.api,
                time,
                ratio,
                fmt_verdict(row.kind, row.ratio_to_shoal),
                row.note.as_deref().unwrap_or("")
            );
        }
        for n in &sc.notes {
            let _ = writeln!(o, "  note: {n}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick plan with an even smaller budget, so the test is fast in debug builds.
    fn tiny_plan() -> Plan {
        let mut p = plan(true);
        p.keys = 512;
        p.check_keys = 8;
        p.budget.batches = 3;
        p.budget.batch_target = Duration::from_micros(50);
        p.budget.build_budget = Duration::from_millis(1);
        p
    }

    #[test]
    fn quick_run_has_every_scenario_with_consistent_ratios() {
        let p = tiny_plan();
        let mut titles = Vec::new();
        let report = collect(&p, true, |t| titles.push(t.to_owned())).unwrap();
        let ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "lookup-n10",
                "lookup-n100",
                "lookup-n1000",
                "replicas3-n100",
                "replicas3-n1000",
                "build-n1000"
            ]
        );
        assert_eq!(titles.len(), p.scenario_count());
        for sc in &report.scenarios {
            let anchors: Vec<_> = sc.rows.iter().filter(|r| r.kind == Kind::Anchor).collect();
            assert_eq!(anchors.len(), 1, "{}", sc.id);
            assert!(anchors[0].library.starts_with("shoal"), "{}", sc.id);
            assert_eq!(anchors[0].ratio_to_shoal, Some(1.0), "{}", sc.id);
            let anchor = anchors[0].ns_per_op.unwrap();
            for row in &sc.rows {
                match row.ns_per_op {
                    Some(t) => {
                        assert!(t.is_finite() && t > 0.0, "{} {}: {t}", sc.id, row.library);
                        let ratio = row.ratio_to_shoal.unwrap();
                        assert!((ratio - t / anchor).abs() <= 1e-12 * ratio.max(1.0));
                        let (lo, hi) = (row.min_ns_per_op.unwrap(), row.max_ns_per_op.unwrap());
                        assert!(lo <= t && t <= hi);
                        assert!(row.batches >= 1 && row.ops_per_batch >= 1);
                    }
                    None => {
                        // Only a library without the API may lack a time, and it says so.
                        assert_eq!(row.kind, Kind::Competitor);
                        assert!(row.ratio_to_shoal.is_none());
                        assert!(row.note.as_deref().unwrap().contains("no replica API"));
                    }
                }
            }
        }
        // Every competitor appears in every lookup scenario; the partition table at n=100.
        for sc in report
            .scenarios
            .iter()
            .filter(|s| s.id.starts_with("lookup"))
        {
            for lib in [
                "hashring",
                "consistent_hash_ring",
                "jumphash",
                "shoal JumpHash",
                "shoal Rendezvous",
                "ketama",
            ] {
                assert!(
                    sc.rows
                        .iter()
                        .any(|r| r.library.contains(lib) && r.ns_per_op.is_some()),
                    "{} lacks {lib}",
                    sc.id
                );
            }
            let has_table = sc.rows.iter().any(|r| r.library.contains("PartitionTable"));
            assert_eq!(has_table, sc.nodes == 100, "{}", sc.id);
        }
        // Build: one row per ring, each timed at least once.
        let build = report.scenarios.last().unwrap();
        assert_eq!(build.rows.len(), 4);

        let text = render(&report);
        assert!(text.contains("baseline"));
        assert!(text.contains("[replicas3-n1000]"));
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["scenarios"].as_array().unwrap().len(), 6);
        assert_eq!(json["scenarios"][0]["rows"][0]["kind"], "anchor");
    }

    #[test]
    fn verdict_text_matches_ratio() {
        assert_eq!(fmt_verdict(Kind::Anchor, Some(1.0)), "baseline");
        assert_eq!(fmt_verdict(Kind::Competitor, Some(3.414)), "3.41x slower");
        assert_eq!(fmt_verdict(Kind::Competitor, Some(0.5)), "2.00x faster");
        assert_eq!(fmt_verdict(Kind::Shoal, Some(1.001)), "same");
        assert_eq!(fmt_verdict(Kind::Competitor, None), "n/a");
        assert_eq!(fmt_time(12.34), "12.3 ns");
        assert_eq!(fmt_time(45_600.0), "45.60 µs");
        assert_eq!(fmt_time(7_890_000.0), "7.89 ms");
    }
}
