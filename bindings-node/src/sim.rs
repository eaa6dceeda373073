//! `simulate(options)`: a deterministic gossip simulation (the core's `sim`), run off
//! the main thread so the event loop keeps going.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::Task;
use napi_derive::napi;
use shoal_core::sim::{self, Percentiles, Report, SimConfig, SimOptions};

use crate::errors::{invalid, OrThrow, Outcome};

/// Options of `simulate`; every field is optional (defaults in brackets).
#[napi(object)]
#[derive(Default)]
pub struct SimulateOptions {
    /// Cluster size, 2 to 100 000 [10].
    pub nodes: Option<u32>,
    /// `"join"`, `"rumor"`, `"crash"`, `"partition"`, `"churn"` or `"steady"` [join].
    pub scenario: Option<String>,
    /// `"shoal"` (SWIM/Lifeguard) or `"classic"` (the source's heartbeat gossip) [shoal].
    pub protocol: Option<String>,
    /// Seed of every random choice [1].
    pub seed: Option<BigInt>,
    /// Datagram loss probability in [0, 0.9) [0].
    pub loss: Option<f64>,
    /// One-way latency range in milliseconds, `[low, high]` [[10, 50]].
    pub latency_ms: Option<Vec<f64>>,
    /// Gossip fanout [3].
    pub fanout: Option<u32>,
    /// Simulated seconds before the run stops [120].
    pub duration: Option<f64>,
    /// Seconds before the scenario's event [5].
    pub warmup: Option<f64>,
    /// Partition scenario: seconds the halves stay apart [30].
    pub partition: Option<f64>,
    /// Churn scenario: seconds between crash/restart pairs [5].
    pub churn_interval: Option<f64>,
    /// Join scenario: the joins are spread over this many seconds [0].
    pub stagger: Option<f64>,
    /// Authenticate datagrams with HMAC-SHA256 [false].
    pub authenticate: Option<bool>,
}

/// Seconds until that share of members had the full view / knew the change / marked
/// the member failed (`null`: not reached before the run ended).
#[napi(object)]
pub struct SimPercentiles {
    /// Half of the members.
    pub p50: Option<f64>,
    /// 90 % of the members.
    pub p90: Option<f64>,
    /// 99 % of the members.
    pub p99: Option<f64>,
    /// Every member.
    pub all: Option<f64>,
}

/// What a simulation run measured; times are seconds of simulated time from the
/// scenario's event.
#[napi(object)]
pub struct SimReport {
    /// `"shoal"` or `"classic"`.
    pub protocol: String,
    /// The scenario run.
    pub scenario: String,
    /// Cluster size.
    pub nodes: u32,
    /// Gossip fanout.
    pub fanout: u32,
    /// Datagram loss probability.
    pub loss: f64,
    /// Seed of every random choice.
    pub seed: BigInt,
    /// One gossip round, seconds.
    pub round: f64,
    /// join / rumor / partition: time until members had the full view (knew the change).
    pub converged: SimPercentiles,
    /// crash / churn: seconds until the first member marked the crashed one failed.
    pub detection_first: Option<f64>,
    /// crash / churn: detection times.
    pub detection: SimPercentiles,
    /// Every member's detection time of every crash, seconds.
    pub detection_times: Vec<f64>,
    /// Members marked failed while they were up: false failure declarations.
    pub false_failures: f64,
    /// Datagrams sent per member per second (steady state).
    pub msgs_per_member_sec: f64,
    /// Bytes sent per member per second (steady state).
    pub bytes_per_member_sec: f64,
    /// Datagrams the simulated network dropped.
    pub lost: f64,
    /// Datagrams delivered.
    pub delivered: f64,
    /// Simulated time at the end of the run, seconds.
    pub simulated: f64,
}

fn percentiles(p: Percentiles) -> SimPercentiles {
    let s = |t: Option<Duration>| t.map(|t| t.as_secs_f64());
    SimPercentiles {
        p50: s(p.p50),
        p90: s(p.p90),
        p99: s(p.p99),
        all: s(p.all),
    }
}

fn config(o: SimulateOptions) -> Outcome<SimConfig> {
    let d = SimOptions::default();
    let latency_ms = match o.latency_ms.as_deref() {
        None => d.latency_ms,
        Some(&[lo, hi]) => (lo, hi),
        Some(other) => {
            return Err(invalid(format!(
                "latencyMs must be [low, high] milliseconds, got {} values",
                other.len()
            )))
        }
    };
    let seed = match &o.seed {
        None => d.seed,
        Some(s) => crate::keys::u64_of(s, "seed")?,
    };
    let opts = SimOptions {
        nodes: o.nodes.map_or(d.nodes, |n| n as usize),
        scenario: o.scenario.as_deref().unwrap_or(d.scenario),
        protocol: o.protocol.as_deref().unwrap_or(d.protocol),
        seed,
        loss: o.loss.unwrap_or(d.loss),
        latency_ms,
        fanout: o.fanout.map_or(d.fanout, |f| f as usize),
        duration: o.duration.unwrap_or(d.duration),
        warmup: o.warmup.unwrap_or(d.warmup),
        partition: o.partition.unwrap_or(d.partition),
        churn_interval: o.churn_interval.unwrap_or(d.churn_interval),
        stagger: o.stagger.unwrap_or(d.stagger),
        authenticate: o.authenticate.unwrap_or(d.authenticate),
    };
    opts.to_config()
        .map_err(|e| invalid(format!("{} {}", e.camel_field(), e.problem)))
}

fn report(r: Report) -> SimReport {
    SimReport {
        protocol: r.protocol.as_str().into(),
        scenario: r.scenario.as_str().into(),
        nodes: r.nodes as u32,
        fanout: r.fanout as u32,
        loss: r.loss,
        seed: BigInt::from(r.seed),
        round: r.round.as_secs_f64(),
        converged: percentiles(r.converged),
        detection_first: r.detection_first.map(|d| d.as_secs_f64()),
        detection: percentiles(r.detection),
        detection_times: r
            .detection_times
            .iter()
            .map(Duration::as_secs_f64)
            .collect(),
        false_failures: r.false_failures as f64,
        msgs_per_member_sec: r.msgs_per_member_sec,
        bytes_per_member_sec: r.bytes_per_member_sec,
        lost: r.lost as f64,
        delivered: r.delivered as f64,
        simulated: r.simulated.as_secs_f64(),
    }
}

/// The simulation, run on libuv's thread pool.
pub struct Simulation {
    config: SimConfig,
}

impl Task for Simulation {
    type Output = Report;
    type JsValue = SimReport;

    fn compute(&mut self) -> Result<Report> {
        Ok(sim::run(&self.config))
    }

    fn resolve(&mut self, _env: Env, output: Report) -> Result<SimReport> {
        Ok(report(output))
    }
}

/// Runs a deterministic gossip simulation off the main thread; resolves to the
/// report. The same options and seed give the same report. Bad options throw a
/// `RangeError` (`ERR_SHOAL_INVALID_ARGUMENT`) at once.
#[napi(ts_return_type = "Promise<SimReport>")]
pub fn simulate(env: Env, options: Option<SimulateOptions>) -> Result<AsyncTask<Simulation>> {
    let config = config(options.unwrap_or_default()).or_throw(&env)?;
    Ok(AsyncTask::new(Simulation { config }))
}

/// `simulate` on the calling thread (blocks it): for scripts and tests.
#[napi]
pub fn simulate_sync(env: Env, options: Option<SimulateOptions>) -> Result<SimReport> {
    let config = config(options.unwrap_or_default()).or_throw(&env)?;
    Ok(report(sim::run(&config)))
}
