//! `shoal sim`: one simulated scenario, and `shoal sim grid`: the source's
//! convergence table extended to large clusters.

mod grid;
mod output;
mod plot;

use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use shoal_core::sim::{self, Protocol, Scenario, SimConfig};

use crate::CliResult;

pub use grid::GridArgs;

/// `shoal sim`.
#[derive(ClapArgs, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<SimCommand>,
    #[command(flatten)]
    one: OneArgs,
}

#[derive(Subcommand, Debug)]
enum SimCommand {
    /// N x k grid of convergence rounds and time (CSV + SVG), like the source's table.
    Grid(GridArgs),
}

/// Protocol choice on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolArg {
    /// The source article's heartbeat gossip.
    Classic,
    /// shoal's SWIM/Lifeguard protocol.
    Shoal,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Protocol {
        match p {
            ProtocolArg::Classic => Protocol::Classic,
            ProtocolArg::Shoal => Protocol::Shoal,
        }
    }
}

/// Scenario choice on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioArg {
    /// Everyone joins through member 0.
    Join,
    /// One member joins a converged cluster.
    Rumor,
    /// One member crashes.
    Crash,
    /// Split in halves, then heal.
    Partition,
    /// Repeated crashes and restarts.
    Churn,
    /// Nothing happens (false failures and load).
    Steady,
}

impl From<ScenarioArg> for Scenario {
    fn from(s: ScenarioArg) -> Scenario {
        match s {
            ScenarioArg::Join => Scenario::Join,
            ScenarioArg::Rumor => Scenario::Rumor,
            ScenarioArg::Crash => Scenario::Crash,
            ScenarioArg::Partition => Scenario::Partition,
            ScenarioArg::Churn => Scenario::Churn,
            ScenarioArg::Steady => Scenario::Steady,
        }
    }
}

/// One scenario's options.
#[derive(ClapArgs, Debug, Clone)]
pub struct OneArgs {
    /// Protocol the members run.
    #[arg(long, value_enum, default_value = "shoal")]
    protocol: ProtocolArg,
    /// Cluster size.
    #[arg(long, default_value_t = 100)]
    nodes: usize,
    /// Gossip fanout k.
    #[arg(long, default_value_t = 3)]
    fanout: usize,
    /// Datagram loss probability (0.0 to 0.9).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// One-way latency range in milliseconds, `A..B`.
    #[arg(long = "latency-ms", default_value = "10..50")]
    latency_ms: String,
    /// What happens.
    #[arg(long, value_enum, default_value = "join")]
    scenario: ScenarioArg,
    /// Seed of the run (same seed, same run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Longest simulated time, seconds.
    #[arg(long, default_value_t = 120.0)]
    duration: f64,
    /// Seconds of steady state before the scenario's event.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Join: spread the joins over this many seconds.
    #[arg(long, default_value_t = 0.0)]
    stagger: f64,
    /// Partition: seconds apart.
    #[arg(long, default_value_t = 30.0)]
    partition: f64,
    /// Authenticate datagrams (HMAC-SHA256).
    #[arg(long)]
    authenticate: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Parses `A..B` milliseconds.
pub fn parse_latency(s: &str) -> Result<(Duration, Duration), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("latency must look like 10..50, got {s:?}"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("bad latency bound {a:?}"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("bad latency bound {b:?}"))?;
    if a > b {
        return Err(format!("latency range {a}..{b} is reversed"));
    }
    Ok((Duration::from_millis(a), Duration::from_millis(b)))
}

fn secs(what: &str, v: f64) -> Result<Duration, String> {
    if (0.0..1e7).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!(
            "--{what} must be a non-negative number of seconds, got {v}"
        ))
    }
}

impl OneArgs {
    /// The simulator configuration these options describe.
    pub fn config(&self) -> Result<SimConfig, String> {
        if self.nodes < 2 {
            return Err("--nodes must be at least 2".into());
        }
        if self.fanout == 0 {
            return Err("--fanout must be at least 1".into());
        }
        if !(0.0..0.9).contains(&self.loss) {
            return Err(format!("--loss must be in 0.0..0.9, got {}", self.loss));
        }
        let mut c = SimConfig::new(self.protocol.into(), self.nodes, self.scenario.into());
        c.fanout = self.fanout;
        c.seed = self.seed;
        c.net.loss = self.loss;
        c.net.latency = parse_latency(&self.latency_ms)?;
        c.duration = secs("duration", self.duration)?;
        c.warmup = secs("warmup", self.warmup)?;
        c.stagger = secs("stagger", self.stagger)?;
        c.partition = secs("partition", self.partition)?;
        c.authenticate = self.authenticate;
        Ok(c)
    }
}

/// Runs `shoal sim`.
pub fn run(args: Args) -> CliResult {
    match args.command {
        Some(SimCommand::Grid(g)) => grid::run(g),
        None => {
            let cfg = args.one.config()?;
            let start = std::time::Instant::now();
            let report = sim::run(&cfg);
            let wall = start.elapsed();
            if args.one.json {
                println!("{}", output::json(&report, wall));
            } else {
                output::print(&report, wall);
            }
            Ok(())
        }
    }
}
