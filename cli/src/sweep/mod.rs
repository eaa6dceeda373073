//! `shoal partitions sweep`: variance of partitions per node and claim-collision
//! probability as the vnode count grows (the source's figure 5).
//!
//! For every vnode count `V` in the range, `trials` independent member sets of `nodes`
//! members are built into a classic and a balanced [`PartitionTable`]. Member ids are
//! `s{seed}-t{trial}-n{i}`: they differ between trials, and trial `t` uses the same ids
//! for every `V`, so neighbouring points of a curve share their member sets (common random
//! numbers) and the curves are smooth. Per `V` the sweep reports the means over trials of
//! the per-node partition-count variance, cv and peak/mean, the measured collision
//! probability (fraction of trials where at least one vnode claim landed on an already
//! claimed partition), the mean number of such collisions, and the source's birthday
//! approximation [`collision_probability`] for `x = nodes · V` claims.
//!
//! Results are aggregated in trial order, so they do not depend on `--threads`.

pub(crate) mod svg;

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use indicatif::ProgressBar;
use serde::Serialize;
use shoal_core::partition::{collision_probability, MAX_PARTITIONS};
use shoal_core::ring::MAX_VNODES_PER_NODE;
use shoal_core::{PartitionMode, PartitionTable, TableConfig};

/// Arguments of `shoal partitions sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of partitions P (the source's BASE).
    #[arg(long, default_value_t = 4096)]
    pub partitions: u32,
    /// Number of nodes (members) in every table.
    #[arg(long, default_value_t = 10)]
    pub nodes: u32,
    /// Vnodes per node to sweep: `A..B` runs every count from A to B, both ends
    /// inclusive (`A..=B` means the same); a single number `N` runs only N.
    #[arg(long, default_value = "1..30", value_name = "A..B", value_parser = parse_vnodes)]
    pub vnodes: VnodeRange,
    /// Independent member sets per vnode count.
    #[arg(long, default_value_t = 200)]
    pub trials: u32,
    /// Seed of the member ids (`s{seed}-t{trial}-n{i}`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the results as CSV (a header, then one row per vnode count).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write a self-contained SVG plot of the results (the source's figure 5).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON to stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// An inclusive range of vnode counts per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VnodeRange {
    /// First vnode count.
    pub first: u32,
    /// Last vnode count (inclusive).
    pub last: u32,
}

impl VnodeRange {
    /// Number of vnode counts in the range.
    pub fn len(&self) -> usize {
        (self.last - self.first) as usize + 1
    }

    /// The vnode counts, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> {
        self.first..=self.last
    }
}

/// Parses `--vnodes`: `A..B` (inclusive of both ends, `A..=B` also accepted) or a single
/// number `N`, with `1 <= A <= B <= 2^20`. Surrounding spaces are ignored.
pub fn parse_vnodes(s: &str) -> Result<VnodeRange, String> {
    let fail = |why: String| {
        Err(format!(
            "invalid vnode range `{s}`: {why}; expected `A..B` (both ends inclusive) \
             or a single number `N`, with 1 <= A <= B <= {MAX_VNODES_PER_NODE}"
        ))
    };
    let t = s.trim();
    let (a, b) = match t.split_once("..") {
        Some((a, b)) => (a, b.strip_prefix('=').unwrap_or(b)),
        None => (t, t),
    };
    let mut ends = [0u32; 2];
    for (slot, (part, what)) in ends.iter_mut().zip([(a, "start"), (b, "end")]) {
        let part = part.trim();
        if part.is_empty() {
            return fail(format!("the {what} is missing"));
        }
        match part.parse::<u32>() {
            Ok(v) if (1..=MAX_VNODES_PER_NODE).contains(&v) => *slot = v,
            Ok(v) => return fail(format!("{v} is out of range")),
            Err(_) => return fail(format!("`{part}` is not a whole number")),
        }
    }
    let [first, last] = ends;
    if first > last {
        return fail(format!("the start {first} is larger than the end {last}"));
    }
    Ok(VnodeRange { first, last })
}

/// What to sweep.
#[derive(Debug, Clone, Copy)]
pub struct SweepConfig {
    /// Partition count `P`.
    pub partitions: u32,
    /// Members per table.
    pub nodes: u32,
    /// Vnode counts per node.
    pub vnodes: VnodeRange,
    /// Member sets per vnode count.
    pub trials: u32,
    /// Member id seed.
    pub seed: u64,
    /// Worker threads (0: one per CPU).
    pub threads: usize,
}

impl SweepConfig {
    fn check(&self) -> Result<(), String> {
        if self.partitions == 0 || self.partitions > MAX_PARTITIONS {
            return Err(format!(
                "--partitions must be between 1 and {MAX_PARTITIONS}, got {}",
                self.partitions
            ));
        }
        if self.nodes == 0 {
            return Err("--nodes must be at least 1".into());
        }
        if self.trials == 0 {
            return Err("--trials must be at least 1".into());
        }
        Ok(())
    }

    fn jobs(&self) -> usize {
        self.vnodes.len() * self.trials as usize
    }

    fn threads(&self) -> usize {
        let n = if self.threads == 0 {
            thread::available_parallelism().map_or(1, usize::from)
        } else {
            self.threads
        };
        n.clamp(1, self.jobs().max(1))
    }
}

/// Averages over the trials of one vnode count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Vnodes per node `V`.
    pub vnodes: u32,
    /// Total claims `x = nodes · V`.
    pub claims: u64,
    /// Mean population variance of partitions per node, classic table.
    pub variance: f64,
    /// Same for the balanced table.
    pub variance_balanced: f64,
    /// Mean coefficient of variation, classic.
    pub cv: f64,
    /// Mean coefficient of variation, balanced.
    pub cv_balanced: f64,
    /// Mean largest-count / mean, classic.
    pub peak_to_mean: f64,
    /// Mean largest-count / mean, balanced.
    pub peak_to_mean_balanced: f64,
    /// Best possible peak/mean, `⌈P/n⌉ / (P/n)`.
    pub ideal_peak_to_mean: f64,
    /// Fraction of trials with at least one claim collision (measured).
    pub collision_fraction: f64,
    /// Mean number of colliding claims per table (measured).
    pub collisions_mean: f64,
    /// The birthday approximation for `x` claims on `P` partitions.
    pub predicted: f64,
}

/// One trial's figures.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    claims: u64,
    collisions: u64,
    variance: f64,
    variance_balanced: f64,
    cv: f64,
    cv_balanced: f64,
    peak_to_mean: f64,
    peak_to_mean_balanced: f64,
    ideal_peak_to_mean: f64,
}

/// Member ids of one trial.
fn members(seed: u64, trial: u32, nodes: u32) -> Vec<String> {
    (0..nodes)
        .map(|i| format!("s{seed}-t{trial}-n{i}"))
        .collect()
}

fn sample(cfg: &SweepConfig, vnodes: u32, trial: u32) -> Result<Sample, shoal_core::Error> {
    let ids = members(cfg.seed, trial, cfg.nodes);
    let table = |mode| {
        let config = TableConfig {
            partitions: cfg.partitions,
            vnodes,
            mode,
        };
        PartitionTable::new(config, ids.iter().map(String::as_str)).map(|t| t.stats())
    };
    let c = table(PartitionMode::Classic)?;
    let b = table(PartitionMode::Balanced)?;
    Ok(Sample {
        claims: c.claims,
        collisions: c.collisions,
        variance: c.variance,
        variance_balanced: b.variance,
        cv: c.cv,
        cv_balanced: b.cv,
        peak_to_mean: c.peak_to_mean,
        peak_to_mean_balanced: b.peak_to_mean,
        ideal_peak_to_mean: c.ideal_peak_to_mean,
    })
}

fn aggregate(partitions: u32, vnodes: u32, samples: &[Sample]) -> Row {
    let n = samples.len() as f64;
    let mean = |f: fn(&Sample) -> f64| samples.iter().map(f).sum::<f64>() / n;
    let claims = samples.first().map_or(0, |s| s.claims);
    Row {
        vnodes,
        claims,
        variance: mean(|s| s.variance),
        variance_balanced: mean(|s| s.variance_balanced),
        cv: mean(|s| s.cv),
        cv_balanced: mean(|s| s.cv_balanced),
        peak_to_mean: mean(|s| s.peak_to_mean),
        peak_to_mean_balanced: mean(|s| s.peak_to_mean_balanced),
        ideal_peak_to_mean: mean(|s| s.ideal_peak_to_mean),
        collision_fraction: mean(|s| if s.collisions > 0 { 1.0 } else { 0.0 }),
        collisions_mean: mean(|s| s.collisions as f64),
        predicted: collision_probability(partitions, claims),
    }
}

/// Runs the sweep: one [`Row`] per vnode count, ascending. `progress` advances once per
/// table pair built.
pub fn sweep(cfg: &SweepConfig, progress: &ProgressBar) -> Result<Vec<Row>, String> {
    cfg.check()?;
    let jobs = cfg.jobs();
    let trials = cfg.trials as usize;
    let next = AtomicUsize::new(0);
    let worker = || -> Result<Vec<(usize, Sample)>, shoal_core::Error> {
        let mut done = Vec::new();
        loop {
            let job = next.fetch_add(1, Ordering::Relaxed);
            if job >= jobs {
                return Ok(done);
            }
            let v = cfg.vnodes.first + (job / trials) as u32;
            done.push((job, sample(cfg, v, (job % trials) as u32)?));
            progress.inc(1);
        }
    };
    let parts = thread::scope(|scope| {
        let handles: Vec<_> = (0..cfg.threads()).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| format!("cannot build partition table: {e}"))?;

    let mut samples = vec![Sample::default(); jobs];
    for (job, s) in parts.into_iter().flatten() {
        samples[job] = s;
    }
    Ok(cfg
        .vnodes
        .iter()
        .zip(samples.chunks(trials))
        .map(|(v, chunk)| aggregate(cfg.partitions, v, chunk))
        .collect())
}

/// CSV text: a header, then one line per row.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "vnodes,claims,variance,variance_balanced,cv,cv_balanced,peak_to_mean,\
         peak_to_mean_balanced,ideal_peak_to_mean,collision_fraction,collisions_mean,\
         predicted_probability\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            r.vnodes,
            r.claims,
            r.variance,
            r.variance_balanced,
            r.cv,
            r.cv_balanced,
            r.peak_to_mean,
            r.peak_to_mean_balanced,
            r.ideal_peak_to_mean,
            r.collision_fraction,
            r.collisions_mean,
            r.predicted
        );
    }
    out
}

/// The human-readable table.
pub fn to_table(cfg: &SweepConfig, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "partition sweep: P = {} partitions, {} nodes, {} trials per vnode count, seed {}",
        cfg.partitions, cfg.nodes, cfg.trials, cfg.seed
    );
    if let Some(r) = rows.first() {
        let _ = writeln!(
            out,
            "ideal peak/mean = {:.4}; variance, cv and peak/mean are means over trials; \
             P(collision) = fraction of trials with >= 1 colliding claim",
            r.ideal_peak_to_mean
        );
    }
    let _ = writeln!(
        out,
        "\n{:>5} {:>6} {:>12} {:>12} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "V",
        "x",
        "variance",
        "var (bal)",
        "cv",
        "peak/mean",
        "p/m (bal)",
        "collisions",
        "P measured",
        "P formula"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>5} {:>6} {:>12.1} {:>12.1} {:>8.4} {:>10.3} {:>10.4} {:>10.3} {:>10.3} {:>10.3}",
            r.vnodes,
            r.claims,
            r.variance,
            r.variance_balanced,
            r.cv,
            r.peak_to_mean,
            r.peak_to_mean_balanced,
            r.collisions_mean,
            r.collision_fraction,
            r.predicted
        );
    }
    for line in summary(rows) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// A few lines relating the results to the source's conclusions.
fn summary(rows: &[Row]) -> Vec<String> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Vec::new();
    };
    let mut lines = vec![String::new()];
    if rows.len() > 1 {
        let pct = |r: &Row| {
            if first.variance > 0.0 {
                format!(
                    " ({:.1}% of V={})",
                    100.0 * r.variance / first.variance,
                    first.vnodes
                )
            } else {
                String::new()
            }
        };
        let mut s = format!("variance: {:.1} at V={}", first.variance, first.vnodes);
        if let Some(ten) = rows
            .iter()
            .find(|r| r.vnodes == 10 && r.vnodes != first.vnodes)
        {
            if ten.vnodes != last.vnodes {
                let _ = write!(s, ", {:.1} at V=10{}", ten.variance, pct(ten));
            }
        }
        let _ = write!(
            s,
            ", {:.1} at V={}{}",
            last.variance,
            last.vnodes,
            pct(last)
        );
        lines.push(s);
    }
    for level in [0.5, 0.9] {
        match rows.iter().find(|r| r.predicted >= level) {
            Some(r) => lines.push(format!(
                "collision probability: formula first >= {level} at V={} (x={}): {:.3}, measured {:.3}",
                r.vnodes, r.claims, r.predicted, r.collision_fraction
            )),
            None => lines.push(format!(
                "collision probability: formula stays below {level} up to V={}",
                last.vnodes
            )),
        }
    }
    lines
}

#[derive(Serialize)]
struct Report<'a> {
    partitions: u32,
    nodes: u32,
    trials: u32,
    seed: u64,
    vnodes_first: u32,
    vnodes_last: u32,
    rows: &'a [Row],
}

/// Creates an output file up front, so a bad path fails before a long sweep.
fn create(path: &Option<PathBuf>) -> Result<Option<(&PathBuf, File)>, String> {
    path.as_ref()
        .map(|p| {
            File::create(p)
                .map(|f| (p, f))
                .map_err(|e| format!("cannot create {}: {e}", p.display()))
        })
        .transpose()
}

fn write_file((path, mut file): (&PathBuf, File), text: &str) -> Result<(), String> {
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs the sweep.
pub fn run(args: Args) -> crate::CliResult {
    let cfg = SweepConfig {
        partitions: args.partitions,
        nodes: args.nodes,
        vnodes: args.vnodes,
        trials: args.trials,
        seed: args.seed,
        threads: args.threads,
    };
    cfg.check()?;
    let csv = create(&args.csv)?;
    let svg = create(&args.svg)?;
    let started = Instant::now();
    let progress = crate::progress::bar(cfg.jobs() as u64, "partitions sweep");
    let rows = sweep(&cfg, &progress)?;
    progress.finish_and_clear();
    eprintln!(
        "swept {} vnode counts x {} trials ({} classic + {} balanced tables) in {:.2} s on {} threads",
        cfg.vnodes.len(),
        cfg.trials,
        cfg.jobs(),
        cfg.jobs(),
        started.elapsed().as_secs_f64(),
        cfg.threads()
    );

    if let Some(out) = csv {
        let path = out.0;
        write_file(out, &to_csv(&rows))?;
        eprintln!("wrote {} (header + {} rows)", path.display(), rows.len());
    }
    if let Some(out) = svg {
        let path = out.0;
        write_file(out, &svg::figure(&cfg, &rows))?;
        eprintln!("wrote {}", path.display());
    }
    if args.json {
        let report = Report {
            partitions: cfg.partitions,
            nodes: cfg.nodes,
            trials: cfg.trials,
            seed: cfg.seed,
            vnodes_first: cfg.vnodes.first,
            vnodes_last: cfg.vnodes.last,
            rows: &rows,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", to_table(&cfg, &rows));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(partitions: u32, nodes: u32, first: u32, last: u32, trials: u32) -> SweepConfig {
        SweepConfig {
            partitions,
            nodes,
            vnodes: VnodeRange { first, last },
            trials,
            seed: 7,
            threads: 0,
        }
    }

    fn run_sweep(cfg: &SweepConfig) -> Vec<Row> {
        sweep(cfg, &ProgressBar::hidden()).unwrap()
    }

    #[test]
    fn parses_good_ranges() {
        let r = |first, last| Ok(VnodeRange { first, last });
        assert_eq!(parse_vnodes("1..30"), r(1, 30));
        assert_eq!(parse_vnodes("1..=30"), r(1, 30));
        assert_eq!(parse_vnodes(" 3 .. 7 "), r(3, 7));
        assert_eq!(parse_vnodes("12"), r(12, 12));
        assert_eq!(parse_vnodes("5..5"), r(5, 5));
        assert_eq!(parse_vnodes("1..1048576"), r(1, 1 << 20));
        assert_eq!(parse_vnodes("1..30").unwrap().len(), 30);
        assert_eq!(
            parse_vnodes("4..6").unwrap().iter().collect::<Vec<_>>(),
            [4, 5, 6]
        );
    }

    #[test]
    fn rejects_bad_ranges_with_a_reason() {
        for (input, reason) in [
            ("", "start is missing"),
            ("..5", "start is missing"),
            ("5..", "end is missing"),
            ("a..3", "`a` is not a whole number"),
            ("1...3", "`.3` is not a whole number"),
            ("-1..3", "`-1` is not a whole number"),
            ("1.5", "`1.5` is not a whole number"),
            ("0..3", "0 is out of range"),
            ("1..1048577", "1048577 is out of range"),
            ("30..1", "start 30 is larger than the end 1"),
        ] {
            let err = parse_vnodes(input).unwrap_err();
            assert!(err.contains(reason), "{input:?}: {err}");
            assert!(err.contains("expected `A..B`"), "{input:?}: {err}");
        }
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(sweep(&config(0, 10, 1, 2, 1), &ProgressBar::hidden()).is_err());
        assert!(sweep(&config(4096, 0, 1, 2, 1), &ProgressBar::hidden()).is_err());
        assert!(sweep(&config(4096, 10, 1, 2, 0), &ProgressBar::hidden()).is_err());
    }

    #[test]
    fn variance_falls_with_more_vnodes() {
        let one = &run_sweep(&config(1024, 10, 1, 1, 20))[0];
        let thirty = &run_sweep(&config(1024, 10, 30, 30, 20))[0];
        assert_eq!((one.vnodes, one.claims), (1, 10));
        assert_eq!((thirty.vnodes, thirty.claims), (30, 300));
        // With V claims per node the spread scales roughly like 1/V.
        let (v1, v30) = (one.variance, thirty.variance);
        assert!(v1 > 5.0 * v30, "V=1 {v1} vs V=30 {v30}");
        assert!(one.cv > thirty.cv);
        assert!(one.peak_to_mean > thirty.peak_to_mean);
        // The balanced table is capped at ⌈P/n⌉ whatever V is.
        for r in [one, thirty] {
            assert!(r.peak_to_mean_balanced <= r.ideal_peak_to_mean + 1e-12);
            assert!(r.variance_balanced < r.variance);
        }
    }

    #[test]
    fn variance_mostly_decreases_along_a_sweep() {
        let rows = run_sweep(&config(1024, 10, 1, 12, 10));
        assert_eq!(rows.len(), 12);
        assert!(rows.iter().zip(1..).all(|(r, v)| r.vnodes == v));
        assert!(rows[0].variance > rows[5].variance);
        assert!(rows[5].variance > rows[11].variance);
    }

    #[test]
    fn measured_collisions_track_the_formula() {
        let rows = run_sweep(&config(4096, 10, 10, 10, 600));
        let r = &rows[0];
        assert_eq!(r.claims, 100);
        assert!(
            (0.69..0.72).contains(&r.predicted),
            "predicted {}",
            r.predicted
        );
        // Binomial standard error at 600 trials is about 0.019.
        assert!(
            (r.collision_fraction - r.predicted).abs() < 0.06,
            "measured {} vs predicted {}",
            r.collision_fraction,
            r.predicted
        );
        // Expected colliding claims ≈ x(x−1)/(2P) ≈ 1.21.
        assert!(
            (0.95..1.45).contains(&r.collisions_mean),
            "{}",
            r.collisions_mean
        );
    }

    #[test]
    fn few_claims_rarely_collide_and_many_nearly_always_do() {
        let at = |v| run_sweep(&config(4096, 10, v, v, 100)).remove(0);
        let (one, fifteen, thirty) = (at(1), at(15), at(30));
        assert!(one.predicted < 0.02, "{}", one.predicted);
        assert!(one.collision_fraction < 0.05, "{}", one.collision_fraction);
        assert!(fifteen.predicted > 0.9, "{}", fifteen.predicted);
        assert!(
            fifteen.collision_fraction > 0.8,
            "{}",
            fifteen.collision_fraction
        );
        assert!(
            thirty.collision_fraction > 0.99,
            "{}",
            thirty.collision_fraction
        );
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let mut cfg = config(512, 5, 1, 4, 10);
        cfg.threads = 1;
        let one = run_sweep(&cfg);
        cfg.threads = 3;
        assert_eq!(one, run_sweep(&cfg));
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_vnode_count() {
        let rows = run_sweep(&config(256, 4, 2, 7, 3));
        let csv = to_csv(&rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 6);
        assert!(lines[0].starts_with("vnodes,claims,variance,"));
        let columns = lines[0].split(',').count();
        for (line, v) in lines[1..].iter().zip(2..) {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), columns, "{line}");
            assert_eq!(fields[0], v.to_string());
            assert_eq!(fields[1], (4 * v).to_string());
            assert!(fields.iter().all(|f| f.parse::<f64>().is_ok()), "{line}");
        }
    }

    #[test]
    fn table_and_json_list_every_row() {
        let cfg = config(256, 4, 1, 3, 2);
        let rows = run_sweep(&cfg);
        let table = to_table(&cfg, &rows);
        assert!(table.contains("P formula"));
        assert!(table.contains("collision probability: formula"));
        let report = Report {
            partitions: 256,
            nodes: 4,
            trials: 2,
            seed: 7,
            vnodes_first: 1,
            vnodes_last: 3,
            rows: &rows,
        };
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"].as_array().unwrap().len(), 3);
        assert_eq!(json["rows"][2]["vnodes"], 3);
    }
}
