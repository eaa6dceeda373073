//! `shoal sim grid`: the source article's convergence table (rounds and time until
//! every member knows, for N ∈ {5, 10, 20, 50, 100} × fanout k ∈ {2, 3, 5}) for both
//! protocols, extended to large clusters, with CSV, SVG plots and a progress bar.
//!
//! Cells with N ≤ `--join-max` run the [`Scenario::Join`] scenario (every member starts
//! alone and joins through member 0; converged = every member has the full view).
//! Larger cells run [`Scenario::Rumor`]: one member joins a converged cluster and the
//! cell measures how long that one membership change takes to reach everybody. The
//! classic protocol pushes its full state every round (O(N²) bytes per round over the
//! cluster), so cells above `--classic-max` are skipped for it.
//!
//! Every run is single-threaded and deterministic (seed = `--seed` + run index); runs
//! are spread over `--threads` workers and gathered in cell order, so the output does
//! not depend on the thread count (except the wall times).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;
use indicatif::ProgressBar;
use serde_json::{json, Value};
use shoal_core::sim::{self, theory, Percentiles, Protocol, Report, Scenario, SimConfig};

use super::parse_latency;
use super::plot::{self, CdfFigure, CdfSeries, Curve, Marker, Point, RoundsFigure, Series};
use crate::CliResult;

/// `shoal sim grid` options (boxed: they are many, and clap keeps them in an enum).
#[derive(ClapArgs, Debug, Clone)]
pub struct GridArgs {
    #[command(flatten)]
    opts: Box<GridOptions>,
}

/// The options behind [`GridArgs`].
#[derive(ClapArgs, Debug, Clone)]
struct GridOptions {
    /// Cluster sizes N, comma-separated (each at least 2; `_` may group digits).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "5,10,20,50,100,1000,10000,100000"
    )]
    nodes: String,
    /// Gossip fanouts k, comma-separated (each at least 1).
    #[arg(long, value_name = "LIST", default_value = "2,3,5")]
    fanout: String,
    /// Protocols, comma-separated: classic, shoal.
    #[arg(long, value_name = "LIST", default_value = "classic,shoal")]
    protocol: String,
    /// Datagram loss probability (0.0 to 0.9).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// One-way latency range in milliseconds, `A..B`.
    #[arg(long = "latency-ms", value_name = "A..B", default_value = "10..50")]
    latency_ms: String,
    /// Runs per cell; the table shows the median run's time to 100 %.
    #[arg(long, default_value_t = 3)]
    seeds: u32,
    /// Base seed: run i of every cell uses seed + i.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Largest N simulated with the Join scenario; larger N use Rumor (one member
    /// joins a converged cluster).
    #[arg(long = "join-max", value_name = "N", default_value_t = 1000)]
    join_max: usize,
    /// Largest N for the classic protocol (its full-state push is O(N²) per round).
    #[arg(long = "classic-max", value_name = "N", default_value_t = 1000)]
    classic_max: usize,
    /// Longest simulated time of one run, seconds (runs stop once converged).
    #[arg(long, default_value_t = 300.0)]
    duration: f64,
    /// Worker threads (default: the available parallelism).
    #[arg(long)]
    threads: Option<usize>,
    /// Write the rows as CSV.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write the rounds-vs-N plot as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Run a crash at N = 100 (fanout 3) per protocol and seed, and write the CDF of
    /// detection times as SVG.
    #[arg(long = "cdf-svg", value_name = "FILE")]
    cdf_svg: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// Cluster size of the detection-time runs behind `--cdf-svg`.
pub const CDF_NODES: usize = 100;
/// Fanout of the detection-time runs.
pub const CDF_FANOUT: usize = 3;

/// A validated grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridConfig {
    /// Cluster sizes, ascending, without repeats.
    pub nodes: Vec<usize>,
    /// Fanouts, ascending, without repeats.
    pub fanouts: Vec<usize>,
    /// Protocols in the order given.
    pub protocols: Vec<Protocol>,
    /// Datagram loss probability.
    pub loss: f64,
    /// One-way latency range.
    pub latency: (Duration, Duration),
    /// Runs per cell.
    pub seeds: u32,
    /// Seed of run 0.
    pub seed: u64,
    /// Largest N run with the Join scenario.
    pub join_max: usize,
    /// Largest N run with the classic protocol.
    pub classic_max: usize,
    /// Longest simulated time of a run.
    pub duration: Duration,
    /// Worker threads.
    pub threads: usize,
}

/// One cell of the grid (or of the detection runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Protocol.
    pub protocol: Protocol,
    /// Cluster size.
    pub nodes: usize,
    /// Gossip fanout.
    pub fanout: usize,
    /// Scenario run.
    pub scenario: Scenario,
}

/// What one run left behind.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The simulator's report.
    pub report: Report,
    /// Wall time of the run.
    pub wall: Duration,
}

/// The aggregate of one cell over its seeds (times in seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The cell.
    pub cell: Cell,
    /// Runs made.
    pub runs: usize,
    /// Runs where every member got there before the run ended.
    pub converged_runs: usize,
    /// Length of one gossip round, seconds.
    pub round_s: f64,
    /// Median over runs of the time to 100 % (`None` if the median run never got
    /// there).
    pub secs_median: Option<f64>,
    /// Fastest converged run.
    pub secs_min: Option<f64>,
    /// Slowest run (`None` if any run did not converge).
    pub secs_max: Option<f64>,
    /// Time to 50 % in the median run.
    pub p50: Option<f64>,
    /// Time to 90 % in the median run.
    pub p90: Option<f64>,
    /// Time to 99 % in the median run.
    pub p99: Option<f64>,
    /// Reference: `log2 N + ln N` rounds (push, fanout 1).
    pub push_rounds: f64,
    /// Reference: mean-field push-pull rounds for this N, k and loss.
    pub push_pull_rounds: f64,
    /// Median wall time of a run, seconds.
    pub wall_median: f64,
    /// Wall time of all the cell's runs together, seconds.
    pub wall_total: f64,
    /// Datagrams per member per second, mean over runs (Join: whole run; Rumor:
    /// after the first second).
    pub msgs_per_member_sec: f64,
    /// Bytes per member per second, mean over runs.
    pub bytes_per_member_sec: f64,
}

impl Row {
    /// `secs` in gossip rounds.
    pub fn rounds(&self, secs: Option<f64>) -> Option<f64> {
        secs.map(|s| s / self.round_s)
    }
}

/// A cell left out of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Protocol.
    pub protocol: Protocol,
    /// Cluster size.
    pub nodes: usize,
}

/// The detection-time runs of one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Protocol.
    pub protocol: Protocol,
    /// Runs made.
    pub runs: usize,
    /// Every member's time to mark the crashed member failed, seconds, ascending.
    pub times: Vec<f64>,
    /// Observers over all runs (N − 1 per run); members that never detected the
    /// crash count here but not in `times`.
    pub observers: usize,
}

impl Detection {
    /// The time by which `frac` of all observers had detected the crash.
    pub fn quantile(&self, frac: f64) -> Option<f64> {
        let need = ((frac * self.observers as f64).ceil() as usize).max(1);
        self.times.get(need - 1).copied()
    }
}

/// Parses a comma-separated list of positive integers (`_` may group digits).
pub fn parse_list(what: &str, s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for item in s.split(',') {
        let t = item.trim().replace('_', "");
        if t.is_empty() {
            return Err(format!("--{what}: empty item in {s:?}"));
        }
        let v: usize = t
            .parse()
            .map_err(|_| format!("--{what}: {:?} is not a whole number", item.trim()))?;
        out.push(v);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses a comma-separated list of protocol names, keeping the given order.
pub fn parse_protocols(s: &str) -> Result<Vec<Protocol>, String> {
    let mut out = Vec::new();
    for item in s.split(',') {
        let p = match item.trim().to_ascii_lowercase().as_str() {
            "classic" => Protocol::Classic,
            "shoal" => Protocol::Shoal,
            other => {
                return Err(format!(
                    "--protocol: unknown protocol {other:?} (expected classic or shoal)"
                ))
            }
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

impl GridArgs {
    /// Checks the options and builds the grid they describe.
    pub fn config(&self) -> Result<GridConfig, String> {
        self.opts.config()
    }
}

impl GridOptions {
    fn config(&self) -> Result<GridConfig, String> {
        let nodes = parse_list("nodes", &self.nodes)?;
        if let Some(&n) = nodes.iter().find(|&&n| n < 2) {
            return Err(format!("--nodes: every N must be at least 2, got {n}"));
        }
        let fanouts = parse_list("fanout", &self.fanout)?;
        if fanouts.contains(&0) {
            return Err("--fanout: every k must be at least 1, got 0".into());
        }
        let protocols = parse_protocols(&self.protocol)?;
        if !(0.0..0.9).contains(&self.loss) {
            return Err(format!("--loss must be in 0.0..0.9, got {}", self.loss));
        }
        let latency = parse_latency(&self.latency_ms).map_err(|e| format!("--latency-ms: {e}"))?;
        if self.seeds == 0 {
            return Err("--seeds must be at least 1".into());
        }
        if !(self.duration > 0.0 && self.duration < 1e7) {
            return Err(format!(
                "--duration must be a positive number of seconds, got {}",
                self.duration
            ));
        }
        let threads = match self.threads {
            Some(0) => return Err("--threads must be at least 1".into()),
            Some(t) => t,
            None => thread::available_parallelism().map_or(1, |n| n.get()),
        };
        Ok(GridConfig {
            nodes,
            fanouts,
            protocols,
            loss: self.loss,
            latency,
            seeds: self.seeds,
            seed: self.seed,
            join_max: self.join_max,
            classic_max: self.classic_max,
            duration: Duration::from_secs_f64(self.duration),
            threads,
        })
    }
}

impl GridConfig {
    /// The scenario run at cluster size `n`.
    pub fn scenario(&self, n: usize) -> Scenario {
        if n <= self.join_max {
            Scenario::Join
        } else {
            Scenario::Rumor
        }
    }

    fn allowed(&self, p: Protocol, n: usize) -> bool {
        p != Protocol::Classic || n <= self.classic_max
    }

    /// The cells in table order (protocol, N, k), and the (protocol, N) pairs skipped.
    pub fn cells(&self) -> (Vec<Cell>, Vec<Skipped>) {
        let mut cells = Vec::new();
        let mut skipped = Vec::new();
        for &protocol in &self.protocols {
            for &nodes in &self.nodes {
                if !self.allowed(protocol, nodes) {
                    skipped.push(Skipped { protocol, nodes });
                    continue;
                }
                for &fanout in &self.fanouts {
                    cells.push(Cell {
                        protocol,
                        nodes,
                        fanout,
                        scenario: self.scenario(nodes),
                    });
                }
            }
        }
        (cells, skipped)
    }

    /// The crash cells behind the detection CDF, one per protocol allowed at N = 100.
    pub fn cdf_cells(&self) -> Vec<Cell> {
        self.protocols
            .iter()
            .filter(|&&p| self.allowed(p, CDF_NODES))
            .map(|&protocol| Cell {
                protocol,
                nodes: CDF_NODES,
                fanout: CDF_FANOUT,
                scenario: Scenario::Crash,
            })
            .collect()
    }

    /// The simulator configuration of run `run` of `cell`.
    pub fn sim_config(&self, cell: &Cell, run: u32) -> SimConfig {
        let mut c = SimConfig::new(cell.protocol, cell.nodes, cell.scenario);
        c.fanout = cell.fanout;
        c.net.loss = self.loss;
        c.net.latency = self.latency;
        c.seed = self.seed.wrapping_add(u64::from(run));
        if cell.scenario == Scenario::Rumor {
            c.warmup = Duration::from_secs(1);
        }
        c.duration = self.duration;
        c
    }
}

/// A rough relative cost of a run, to start the long ones first.
fn cost(cell: &Cell) -> usize {
    let per_member = match (cell.scenario, cell.protocol) {
        (Scenario::Join, Protocol::Shoal) => 100,
        (Scenario::Join, Protocol::Classic) => 20,
        _ => 1,
    };
    cell.nodes.saturating_mul(per_member)
}

/// Runs every seed of every cell on `threads` workers; the result has one entry per
/// cell, holding its runs in seed order.
pub fn run_cells(cfg: &GridConfig, cells: &[Cell], progress: &ProgressBar) -> Vec<Vec<RunResult>> {
    let seeds = cfg.seeds as usize;
    let mut jobs: Vec<(usize, u32)> = (0..cells.len())
        .flat_map(|c| (0..cfg.seeds).map(move |r| (c, r)))
        .collect();
    jobs.sort_by_key(|&(c, r)| (std::cmp::Reverse(cost(&cells[c])), c, r));
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<RunResult>>> = Mutex::new(vec![None; cells.len() * seeds]);
    let workers = cfg.threads.clamp(1, jobs.len().max(1));
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(c, r)) = jobs.get(i) else { break };
                let sim_cfg = cfg.sim_config(&cells[c], r);
                let started = Instant::now();
                let report = sim::run(&sim_cfg);
                let result = RunResult {
                    report,
                    wall: started.elapsed(),
                };
                done.lock().unwrap_or_else(|e| e.into_inner())[c * seeds + r as usize] =
                    Some(result);
                progress.inc(1);
            });
        }
    });
    let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<Vec<RunResult>> = Vec::with_capacity(cells.len());
    let mut it = done.into_iter();
    for _ in cells {
        out.push(it.by_ref().take(seeds).flatten().collect());
    }
    out
}

fn secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// Aggregates one cell's runs into a row.
pub fn aggregate(cfg: &GridConfig, cell: &Cell, runs: &[RunResult]) -> Row {
    let mut order: Vec<&RunResult> = runs.iter().collect();
    order.sort_by_key(|r| r.report.converged.all.unwrap_or(Duration::MAX));
    let times: Vec<Option<f64>> = order.iter().map(|r| secs(r.report.converged.all)).collect();
    let n = times.len();
    let secs_median = match n {
        0 => None,
        _ if n % 2 == 1 => times[n / 2],
        _ => times[n / 2 - 1]
            .zip(times[n / 2])
            .map(|(a, b)| (a + b) / 2.0),
    };
    let median_run: Percentiles = order
        .get(n.saturating_sub(1) / 2)
        .map(|r| r.report.converged)
        .unwrap_or_default();
    let converged_runs = times.iter().flatten().count();
    let mut walls: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
    walls.sort_by(f64::total_cmp);
    let mean = |f: &dyn Fn(&Report) -> f64| {
        runs.iter().map(|r| f(&r.report)).sum::<f64>() / n.max(1) as f64
    };
    let round_s = runs
        .first()
        .map_or_else(|| cfg.sim_config(cell, 0).round(), |r| r.report.round)
        .as_secs_f64();
    Row {
        cell: *cell,
        runs: n,
        converged_runs,
        round_s,
        secs_median,
        secs_min: times.iter().flatten().copied().reduce(f64::min),
        secs_max: if converged_runs == n {
            times.iter().flatten().copied().reduce(f64::max)
        } else {
            None
        },
        p50: secs(median_run.p50),
        p90: secs(median_run.p90),
        p99: secs(median_run.p99),
        push_rounds: theory::push_rounds(cell.nodes),
        push_pull_rounds: theory::push_pull_rounds(cell.nodes, cell.fanout, cfg.loss),
        wall_median: walls.get(n.saturating_sub(1) / 2).copied().unwrap_or(0.0),
        wall_total: walls.iter().sum(),
        msgs_per_member_sec: mean(&|r| r.msgs_per_member_sec),
        bytes_per_member_sec: mean(&|r| r.bytes_per_member_sec),
    }
}

/// Pools the crash runs of one protocol.
pub fn detection(cell: &Cell, runs: &[RunResult]) -> Detection {
    let mut times: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.report.detection_times.iter().map(|d| d.as_secs_f64()))
        .collect();
    times.sort_by(f64::total_cmp);
    Detection {
        protocol: cell.protocol,
        runs: runs.len(),
        times,
        observers: runs.len() * cell.nodes.saturating_sub(1),
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

fn csv_opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// The human-readable table: one row per (protocol, N, k).
pub fn to_table(cfg: &GridConfig, rows: &[Row], skipped: &[Skipped]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rounds and seconds until 100 % of members know (median of {} run{}), loss {:.0} %, \
         latency {}..{} ms",
        cfg.seeds,
        if cfg.seeds == 1 { "" } else { "s" },
        cfg.loss * 100.0,
        cfg.latency.0.as_millis(),
        cfg.latency.1.as_millis()
    );
    let _ = writeln!(
        out,
        "{:<8} {:>7} {:>2}  {:<8} {:>7} {:>8} {:>7} {:>7} {:>7}  {:>10} {:>9} {:>8}",
        "protocol",
        "N",
        "k",
        "scenario",
        "rounds",
        "time s",
        "p50 s",
        "p90 s",
        "p99 s",
        "log2N+lnN",
        "push-pull",
        "wall s"
    );
    for r in rows {
        let c = &r.cell;
        let mut rounds = opt(r.rounds(r.secs_median), 1);
        if r.converged_runs < r.runs {
            let _ = write!(rounds, "*");
        }
        let _ = writeln!(
            out,
            "{:<8} {:>7} {:>2}  {:<8} {:>7} {:>8} {:>7} {:>7} {:>7}  {:>10.1} {:>9.1} {:>8.3}",
            c.protocol.as_str(),
            c.nodes,
            c.fanout,
            c.scenario.as_str(),
            rounds,
            opt(r.secs_median, 2),
            opt(r.p50, 2),
            opt(r.p90, 2),
            opt(r.p99, 2),
            r.push_rounds,
            r.push_pull_rounds,
            r.wall_median
        );
    }
    let _ = writeln!(
        out,
        "scenario join: every member starts alone and joins through member 0 (N <= {}); \
         rumor: one member joins a converged cluster, i.e. one membership change spreading.",
        cfg.join_max
    );
    let _ = writeln!(
        out,
        "p50/p90/p99: the median run; push-pull: theory for this N, k and loss; wall s: \
         median wall time of one run."
    );
    if rows.iter().any(|r| r.converged_runs < r.runs) {
        let _ = writeln!(
            out,
            "*: some runs did not reach 100 % within {:.0} s (see converged_runs in the CSV).",
            cfg.duration.as_secs_f64()
        );
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} N={}", s.protocol.as_str(), s.nodes))
            .collect();
        let _ = writeln!(
            out,
            "skipped (--classic-max {}: full-state push is O(N^2) per round): {}",
            cfg.classic_max,
            list.join(", ")
        );
    }
    out
}

/// The detection summary printed under the table.
pub fn detection_table(dets: &[Detection]) -> String {
    let mut out = String::new();
    if dets.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\ncrash detection at N = {CDF_NODES}, k = {CDF_FANOUT}: seconds until members \
         marked the crashed member failed (all runs pooled)"
    );
    let _ = writeln!(
        out,
        "{:<8} {:>5} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "protocol", "runs", "detected", "first", "p50", "p90", "p99", "all"
    );
    for d in dets {
        let _ = writeln!(
            out,
            "{:<8} {:>5} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7}",
            d.protocol.as_str(),
            d.runs,
            format!("{}/{}", d.times.len(), d.observers),
            opt(d.times.first().copied(), 2),
            opt(d.quantile(0.5), 2),
            opt(d.quantile(0.9), 2),
            opt(d.quantile(0.99), 2),
            opt(d.quantile(1.0), 2)
        );
    }
    out
}

/// CSV text: a header, then one line per row.
pub fn to_csv(cfg: &GridConfig, rows: &[Row]) -> String {
    let mut out = String::from(
        "protocol,nodes,fanout,scenario,loss,seeds,converged_runs,round_s,rounds_median,\
         rounds_min,rounds_max,secs_median,secs_min,secs_max,p50_s,p90_s,p99_s,\
         push_rounds,push_pull_rounds,wall_s_median,wall_s_total,msgs_per_member_sec,\
         bytes_per_member_sec\n",
    );
    for r in rows {
        let c = &r.cell;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{:.3},{:.3},{:.3},{:.1}",
            c.protocol.as_str(),
            c.nodes,
            c.fanout,
            c.scenario.as_str(),
            cfg.loss,
            r.runs,
            r.converged_runs,
            r.round_s,
            csv_opt(r.rounds(r.secs_median)),
            csv_opt(r.rounds(r.secs_min)),
            csv_opt(r.rounds(r.secs_max)),
            csv_opt(r.secs_median),
            csv_opt(r.secs_min),
            csv_opt(r.secs_max),
            csv_opt(r.p50),
            csv_opt(r.p90),
            csv_opt(r.p99),
            r.push_rounds,
            r.push_pull_rounds,
            r.wall_median,
            r.wall_total,
            r.msgs_per_member_sec,
            r.bytes_per_member_sec
        );
    }
    out
}

fn protocol_color(p: Protocol) -> &'static str {
    match p {
        Protocol::Classic => "#d95f02",
        Protocol::Shoal => "#1f6fb5",
    }
}

const DASHES: [&str; 4] = ["", "8 4", "2 3", "10 3 2 3"];
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

/// Whole numbers spread geometrically between `lo` and `hi` (the theory curves take
/// whole cluster sizes), without repeats.
fn log_samples(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (a, b) = (lo.max(1.0).ln(), hi.max(lo).max(1.0).ln());
    let mut v: Vec<f64> = (0..=count)
        .map(|i| (a + (b - a) * i as f64 / count as f64).exp().round())
        .collect();
    v.dedup();
    v
}

/// The rounds-vs-N figure of a grid.
pub fn rounds_figure(cfg: &GridConfig, rows: &[Row]) -> RoundsFigure {
    let mut series = Vec::new();
    for &p in &cfg.protocols {
        for (ki, &k) in cfg.fanouts.iter().enumerate() {
            let cells: Vec<&Row> = rows
                .iter()
                .filter(|r| r.cell.protocol == p && r.cell.fanout == k)
                .collect();
            if cells.is_empty() {
                continue;
            }
            let mut points = Vec::new();
            let mut missing = Vec::new();
            for r in cells {
                let x = r.cell.nodes as f64;
                match r.rounds(r.secs_median) {
                    Some(y) => points.push(Point {
                        x,
                        y,
                        lo: r.rounds(r.secs_min).unwrap_or(y),
                        hi: r.rounds(r.secs_max).unwrap_or(y),
                    }),
                    None => missing.push(x),
                }
            }
            series.push(Series {
                label: format!("{}, k = {k}", p.as_str()),
                color: protocol_color(p),
                dash: DASHES[ki % DASHES.len()],
                marker: MARKERS[ki % MARKERS.len()],
                points,
                missing,
            });
        }
    }

    let lo = rows.iter().map(|r| r.cell.nodes).min().unwrap_or(2) as f64;
    let hi = rows.iter().map(|r| r.cell.nodes).max().unwrap_or(2) as f64;
    let xs = log_samples(lo, hi, 80);
    let mut curves = vec![
        Curve {
            label: "log2 N + ln N (push, k = 1)".into(),
            color: plot::REFERENCE,
            dash: "",
            points: xs
                .iter()
                .map(|&n| (n, theory::push_rounds(n as usize)))
                .collect(),
        },
        Curve {
            label: format!("push-pull theory, k = 3, loss {:.0} %", cfg.loss * 100.0),
            color: plot::REFERENCE,
            dash: "7 4",
            points: xs
                .iter()
                .map(|&n| (n, theory::push_pull_rounds(n as usize, 3, cfg.loss)))
                .collect(),
        },
    ];
    // c·log2 N through the origin, least squares over every measured median.
    let (num, den) = series
        .iter()
        .flat_map(|s| s.points.iter())
        .fold((0.0, 0.0), |(a, b), p| {
            let l = p.x.log2();
            (a + p.y * l, b + l * l)
        });
    if den > 0.0 {
        let c = num / den;
        curves.push(Curve {
            label: format!("{c:.2} · log2 N (fit to all cells)"),
            color: "#555555",
            dash: "1.5 4",
            points: xs.iter().map(|&n| (n, c * n.log2())).collect(),
        });
    }

    let join_top = rows
        .iter()
        .filter(|r| r.cell.scenario == Scenario::Join)
        .map(|r| r.cell.nodes)
        .max();
    let rumor_bottom = rows
        .iter()
        .filter(|r| r.cell.scenario == Scenario::Rumor)
        .map(|r| r.cell.nodes)
        .min();
    let split = join_top.zip(rumor_bottom).map(|(a, b)| {
        (
            (a as f64 * b as f64).sqrt(),
            "← join: all start alone".to_string(),
            "rumor: one join spreads →".to_string(),
        )
    });
    let round_ms = rows.first().map_or(200.0, |r| r.round_s * 1000.0);
    RoundsFigure {
        title: "Gossip rounds until 100 % of members know".into(),
        subtitle: format!(
            "median of {} seed{}, loss {:.0} %, latency {}–{} ms, 1 round = {round_ms:.0} ms; \
             N ≤ {}: Join scenario, larger N: Rumor scenario",
            cfg.seeds,
            if cfg.seeds == 1 { "" } else { "s" },
            cfg.loss * 100.0,
            cfg.latency.0.as_millis(),
            cfg.latency.1.as_millis(),
            cfg.join_max
        ),
        y_label: "rounds to 100 % of members".into(),
        series,
        curves,
        split,
    }
}

/// The detection CDF figure.
pub fn cdf_figure(cfg: &GridConfig, dets: &[Detection]) -> CdfFigure {
    CdfFigure {
        title: format!("Time to detect a crash, N = {CDF_NODES}"),
        subtitle: format!(
            "one member crashes in a converged cluster; fanout {CDF_FANOUT}, loss {:.0} %, \
             latency {}–{} ms, {} seed{} pooled",
            cfg.loss * 100.0,
            cfg.latency.0.as_millis(),
            cfg.latency.1.as_millis(),
            cfg.seeds,
            if cfg.seeds == 1 { "" } else { "s" }
        ),
        x_label: "seconds from the crash until a member marks it failed".into(),
        series: dets
            .iter()
            .map(|d| CdfSeries {
                label: format!(
                    "{} ({} of {} member views)",
                    d.protocol.as_str(),
                    d.times.len(),
                    d.observers
                ),
                color: protocol_color(d.protocol),
                samples: d.times.clone(),
                total: d.observers,
            })
            .collect(),
    }
}

fn json_opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!(v))
}

/// The whole result as JSON.
pub fn to_json(
    cfg: &GridConfig,
    rows: &[Row],
    skipped: &[Skipped],
    dets: &[Detection],
    wall: Duration,
) -> Value {
    json!({
        "nodes": cfg.nodes,
        "fanouts": cfg.fanouts,
        "protocols": cfg.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "loss": cfg.loss,
        "latency_ms": [cfg.latency.0.as_millis() as u64, cfg.latency.1.as_millis() as u64],
        "seeds": cfg.seeds,
        "seed": cfg.seed,
        "join_max": cfg.join_max,
        "classic_max": cfg.classic_max,
        "threads": cfg.threads,
        "wall_s": wall.as_secs_f64(),
        "rows": rows.iter().map(|r| json!({
            "protocol": r.cell.protocol.as_str(),
            "nodes": r.cell.nodes,
            "fanout": r.cell.fanout,
            "scenario": r.cell.scenario.as_str(),
            "runs": r.runs,
            "converged_runs": r.converged_runs,
            "round_s": r.round_s,
            "rounds_median": json_opt(r.rounds(r.secs_median)),
            "rounds_min": json_opt(r.rounds(r.secs_min)),
            "rounds_max": json_opt(r.rounds(r.secs_max)),
            "secs_median": json_opt(r.secs_median),
            "secs_min": json_opt(r.secs_min),
            "secs_max": json_opt(r.secs_max),
            "p50_s": json_opt(r.p50),
            "p90_s": json_opt(r.p90),
            "p99_s": json_opt(r.p99),
            "push_rounds": r.push_rounds,
            "push_pull_rounds": r.push_pull_rounds,
            "wall_s_median": r.wall_median,
            "wall_s_total": r.wall_total,
            "msgs_per_member_sec": r.msgs_per_member_sec,
            "bytes_per_member_sec": r.bytes_per_member_sec,
        })).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(|s| json!({
            "protocol": s.protocol.as_str(),
            "nodes": s.nodes,
        })).collect::<Vec<_>>(),
        "detection": dets.iter().map(|d| json!({
            "protocol": d.protocol.as_str(),
            "nodes": CDF_NODES,
            "fanout": CDF_FANOUT,
            "runs": d.runs,
            "observers": d.observers,
            "detected": d.times.len(),
            "p50_s": json_opt(d.quantile(0.5)),
            "p90_s": json_opt(d.quantile(0.9)),
            "p99_s": json_opt(d.quantile(0.99)),
            "all_s": json_opt(d.quantile(1.0)),
        })).collect::<Vec<_>>(),
    })
}

/// Opens `path` for writing (creating its folder), so a bad path fails before the
/// long run rather than after it.
fn create(path: &Option<PathBuf>) -> Result<Option<(PathBuf, File)>, String> {
    let Some(p) = path else { return Ok(None) };
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create folder {}: {e}", dir.display()))?;
    }
    let f = File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
    Ok(Some((p.clone(), f)))
}

fn write_out(out: Option<(PathBuf, File)>, text: impl FnOnce() -> String) -> Result<(), String> {
    let Some((path, mut file)) = out else {
        return Ok(());
    };
    write_text(&path, &mut file, &text())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn write_text(path: &Path, file: &mut File, text: &str) -> Result<(), String> {
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs the grid.
pub fn run(args: GridArgs) -> CliResult {
    let cfg = args.config()?;
    let args = args.opts;
    let csv = create(&args.csv)?;
    let svg = create(&args.svg)?;
    let cdf_svg = create(&args.cdf_svg)?;
    let (cells, skipped) = cfg.cells();
    for s in &skipped {
        eprintln!(
            "note: skipping {} at N = {} (--classic-max {}: its full-state push is O(N^2) per round)",
            s.protocol.as_str(),
            s.nodes,
            cfg.classic_max
        );
    }
    let cdf_cells = if cdf_svg.is_some() {
        cfg.cdf_cells()
    } else {
        Vec::new()
    };
    let all: Vec<Cell> = cells.iter().chain(cdf_cells.iter()).copied().collect();
    let runs = all.len() as u64 * u64::from(cfg.seeds);
    eprintln!(
        "sim grid: {} cells + {} crash cells, {} runs on {} threads",
        cells.len(),
        cdf_cells.len(),
        runs,
        cfg.threads
    );
    let started = Instant::now();
    let progress = crate::progress::bar(runs, "sim grid");
    let results = run_cells(&cfg, &all, &progress);
    progress.finish_and_clear();
    let wall = started.elapsed();
    eprintln!(
        "ran {runs} runs in {:.1} s on {} threads",
        wall.as_secs_f64(),
        cfg.threads
    );

    let rows: Vec<Row> = cells
        .iter()
        .zip(&results)
        .map(|(c, r)| aggregate(&cfg, c, r))
        .collect();
    let dets: Vec<Detection> = cdf_cells
        .iter()
        .zip(&results[cells.len()..])
        .map(|(c, r)| detection(c, r))
        .collect();
    for r in rows.iter().filter(|r| r.converged_runs < r.runs) {
        eprintln!(
            "warning: {} N = {} k = {}: {} of {} runs did not reach 100 % within {:.0} s",
            r.cell.protocol.as_str(),
            r.cell.nodes,
            r.cell.fanout,
            r.runs - r.converged_runs,
            r.runs,
            cfg.duration.as_secs_f64()
        );
    }

    write_out(csv, || to_csv(&cfg, &rows))?;
    write_out(svg, || plot::rounds_svg(&rounds_figure(&cfg, &rows)))?;
    write_out(cdf_svg, || plot::cdf_svg(&cdf_figure(&cfg, &dets)))?;
    if args.json {
        let v = to_json(&cfg, &rows, &skipped, &dets, wall);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", to_table(&cfg, &rows, &skipped));
        print!("{}", detection_table(&dets));
        println!("whole grid: {:.1} s wall", wall.as_secs_f64());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::plot::tests::{balanced, group};
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        grid: GridArgs,
    }

    fn args(extra: &[&str]) -> GridArgs {
        let mut argv = vec!["grid"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("valid options").grid
    }

    #[test]
    fn lists_parse_and_errors_are_clear() {
        assert_eq!(
            parse_list("nodes", "10, 5,100_000,5"),
            Ok(vec![5, 10, 100_000])
        );
        let e = parse_list("nodes", "5,,10").unwrap_err();
        assert!(e.contains("empty item"), "{e}");
        let e = parse_list("fanout", "3,x").unwrap_err();
        assert!(e.contains("--fanout") && e.contains("\"x\""), "{e}");
        assert!(parse_list("nodes", "-3").is_err());
        assert_eq!(
            parse_protocols("shoal, Classic,shoal"),
            Ok(vec![Protocol::Shoal, Protocol::Classic])
        );
        assert!(parse_protocols("swim").unwrap_err().contains("swim"));

        let defaults = args(&[]).config().unwrap();
        assert_eq!(defaults.nodes, [5, 10, 20, 50, 100, 1000, 10_000, 100_000]);
        assert_eq!(defaults.fanouts, [2, 3, 5]);
        assert_eq!(defaults.protocols, [Protocol::Classic, Protocol::Shoal]);
        assert_eq!(defaults.seeds, 3);
        assert!(defaults.threads >= 1);

        for (opts, needle) in [
            (&["--nodes", "1,5"][..], "at least 2"),
            (&["--fanout", "0,3"][..], "at least 1"),
            (&["--protocol", "gossip"][..], "unknown protocol"),
            (&["--loss", "0.95"][..], "--loss"),
            (&["--latency-ms", "50..10"][..], "reversed"),
            (&["--seeds", "0"][..], "--seeds"),
            (&["--threads", "0"][..], "--threads"),
            (&["--duration", "0"][..], "--duration"),
        ] {
            let e = args(opts).config().unwrap_err();
            assert!(e.contains(needle), "{opts:?}: {e}");
        }
    }

    #[test]
    fn cells_pick_scenarios_and_skip_big_classic() {
        let cfg = args(&["--nodes", "10,1000,5000", "--fanout", "3"])
            .config()
            .unwrap();
        let (cells, skipped) = cfg.cells();
        let shape: Vec<(&str, usize, &str)> = cells
            .iter()
            .map(|c| (c.protocol.as_str(), c.nodes, c.scenario.as_str()))
            .collect();
        assert_eq!(
            shape,
            [
                ("classic", 10, "join"),
                ("classic", 1000, "join"),
                ("shoal", 10, "join"),
                ("shoal", 1000, "join"),
                ("shoal", 5000, "rumor"),
            ]
        );
        assert_eq!(
            skipped,
            [Skipped {
                protocol: Protocol::Classic,
                nodes: 5000
            }]
        );
        let rumor = cfg.sim_config(&cells[4], 2);
        assert_eq!(rumor.seed, 3);
        assert_eq!(rumor.warmup, Duration::from_secs(1));
        assert_eq!(rumor.fanout, 3);
        assert_eq!(cfg.cdf_cells().len(), 2);
    }

    #[test]
    fn unwritable_output_is_an_error() {
        let dir = std::env::temp_dir().join(format!("shoal-grid-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        // A folder where the file should be.
        let e = create(&Some(dir.clone())).unwrap_err();
        assert!(e.contains("cannot create"), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn tiny_grid_produces_the_expected_rows() {
        let cfg = args(&[
            "--nodes",
            "5,10",
            "--fanout",
            "2,3",
            "--seeds",
            "1",
            "--threads",
            "2",
            "--duration",
            "60",
        ])
        .config()
        .unwrap();
        let (cells, skipped) = cfg.cells();
        assert!(skipped.is_empty());
        let mut all = cells.clone();
        all.extend(cfg.cdf_cells());
        let results = run_cells(&cfg, &all, &ProgressBar::hidden());
        assert_eq!(results.len(), all.len());
        assert!(results.iter().all(|r| r.len() == 1));
        let rows: Vec<Row> = cells
            .iter()
            .zip(&results)
            .map(|(c, r)| aggregate(&cfg, c, r))
            .collect();
        let keys: Vec<(&str, usize, usize)> = rows
            .iter()
            .map(|r| (r.cell.protocol.as_str(), r.cell.nodes, r.cell.fanout))
            .collect();
        assert_eq!(
            keys,
            [
                ("classic", 5, 2),
                ("classic", 5, 3),
                ("classic", 10, 2),
                ("classic", 10, 3),
                ("shoal", 5, 2),
                ("shoal", 5, 3),
                ("shoal", 10, 2),
                ("shoal", 10, 3),
            ]
        );
        for r in &rows {
            assert_eq!(r.cell.scenario, Scenario::Join);
            assert_eq!((r.runs, r.converged_runs), (1, 1), "{r:?}");
            let s = r.secs_median.unwrap();
            assert_eq!(r.secs_min, Some(s));
            assert_eq!(r.secs_max, Some(s));
            assert!(r.p50.unwrap() <= r.p90.unwrap() && r.p99.unwrap() <= s);
            assert!(r.rounds(Some(s)).unwrap() > 0.0);
            assert!(r.msgs_per_member_sec > 0.0);
        }
        let dets: Vec<Detection> = cfg
            .cdf_cells()
            .iter()
            .zip(&results[cells.len()..])
            .map(|(c, r)| detection(c, r))
            .collect();
        assert_eq!(dets.len(), 2);
        assert!(dets.iter().all(|d| d.observers == CDF_NODES - 1));

        let table = to_table(&cfg, &rows, &[]);
        assert_eq!(table.lines().filter(|l| l.contains(" join ")).count(), 8);
        let csv = to_csv(&cfg, &rows);
        assert_eq!(csv.lines().count(), 9);
        let columns = csv.lines().next().unwrap().split(',').count();
        assert!(csv.lines().all(|l| l.split(',').count() == columns));

        let doc = plot::rounds_svg(&rounds_figure(&cfg, &rows));
        balanced(&doc).unwrap();
        for i in 0..4 {
            assert_eq!(
                group(&doc, &format!("series-{i}"))
                    .matches("<polyline")
                    .count(),
                1
            );
        }
        let doc = plot::cdf_svg(&cdf_figure(&cfg, &dets));
        balanced(&doc).unwrap();
        assert_eq!(group(&doc, "cdf-1").matches("<polyline").count(), 1);
    }

    #[test]
    fn medians_over_seeds() {
        let cfg = args(&["--nodes", "5", "--fanout", "3", "--seeds", "4"])
            .config()
            .unwrap();
        let cell = cfg.cells().0[0];
        let run = |t: Option<f64>| {
            let mut report = sim::run(&SimConfig {
                duration: Duration::ZERO,
                ..cfg.sim_config(&cell, 0)
            });
            report.converged.all = t.map(Duration::from_secs_f64);
            report.converged.p50 = t.map(|t| Duration::from_secs_f64(t / 2.0));
            RunResult {
                report,
                wall: Duration::from_millis(10),
            }
        };
        let rows = [run(Some(3.0)), run(Some(1.0)), run(None), run(Some(2.0))];
        let r = aggregate(&cfg, &cell, &rows);
        assert_eq!(r.converged_runs, 3);
        assert_eq!(r.secs_median, Some(2.5));
        assert_eq!(r.secs_min, Some(1.0));
        assert_eq!(r.secs_max, None);
        assert_eq!(r.p50, Some(1.0));
        let r = aggregate(&cfg, &cell, &rows[..3]);
        assert_eq!(r.secs_median, Some(3.0));
        assert_eq!(r.secs_max, None);
    }
}
