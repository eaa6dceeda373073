//! `simulate(...)`: a deterministic gossip simulation (the core's `sim`), run with the
//! GIL released.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use shoal_core::sim::{self, Percentiles, Protocol, Scenario, SimConfig};

use crate::errors::invalid;

/// What a simulation run measured. Times are seconds of simulated time from the
/// scenario's event; `None` means "not reached before the run ended".
#[pyclass(module = "shoal._native", frozen, get_all)]
pub struct SimReport {
    /// `"shoal"` or `"classic"`.
    protocol: &'static str,
    /// The scenario run.
    scenario: &'static str,
    /// Cluster size.
    nodes: usize,
    /// Gossip fanout.
    fanout: usize,
    /// Datagram loss probability.
    loss: f64,
    /// Seed of every random choice.
    seed: u64,
    /// One gossip round, seconds.
    round: f64,
    /// join / rumor / partition: {"p50", "p90", "p99", "all"} → seconds until that
    /// share of members had the full view (or knew the change).
    converged: Py<PyDict>,
    /// crash / churn: seconds until the first member marked the crashed one failed.
    detection_first: Option<f64>,
    /// crash / churn: {"p50", "p90", "p99", "all"} of detection times.
    detection: Py<PyDict>,
    /// Every member's detection time of every crash, seconds.
    detection_times: Vec<f64>,
    /// Members marked failed while they were up: false failure declarations.
    false_failures: u64,
    /// Datagrams sent per member per second (steady state).
    msgs_per_member_sec: f64,
    /// Bytes sent per member per second (steady state).
    bytes_per_member_sec: f64,
    /// Datagrams the simulated network dropped.
    lost: u64,
    /// Datagrams delivered.
    delivered: u64,
    /// Simulated time at the end of the run, seconds.
    simulated: f64,
}

#[pymethods]
impl SimReport {
    fn __repr__(&self, py: Python<'_>) -> String {
        let all = |p: &Py<PyDict>| match p.bind(py).get_item("all") {
            Ok(Some(v)) => v.to_string(),
            _ => "None".into(),
        };
        format!(
            "SimReport(protocol={:?}, scenario={:?}, nodes={}, converged_all={}, detection_all={}, false_failures={})",
            self.protocol,
            self.scenario,
            self.nodes,
            all(&self.converged),
            all(&self.detection),
            self.false_failures
        )
    }
}

/// `{"p50": s, "p90": s, "p99": s, "all": s}` (seconds or None).
fn percentiles(py: Python<'_>, p: Percentiles) -> PyResult<Py<PyDict>> {
    let d = PyDict::new(py);
    for (name, t) in [
        ("p50", p.p50),
        ("p90", p.p90),
        ("p99", p.p99),
        ("all", p.all),
    ] {
        d.set_item(name, t.map(|t| t.as_secs_f64()))?;
    }
    Ok(d.unbind())
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    if !(value.is_finite() && (0.0..1e7).contains(&value)) {
        return Err(invalid(format!(
            "{name} must be a number of seconds in [0, 1e7), got {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Runs a deterministic simulation of `nodes` members.
///
/// `scenario`: `"join"`, `"rumor"`, `"crash"`, `"partition"`, `"churn"` or
/// `"steady"`; `protocol`: `"shoal"` (SWIM/Lifeguard) or `"classic"` (the source's
/// heartbeat gossip). The same arguments and seed give the same report.
#[pyfunction]
#[pyo3(signature = (
    nodes,
    scenario = "join",
    *,
    protocol = "shoal",
    seed = 1,
    loss = 0.0,
    latency_ms = (10.0, 50.0),
    fanout = 3,
    duration = 120.0,
    warmup = 5.0,
    partition = 30.0,
    churn_interval = 5.0,
    stagger = 0.0,
    authenticate = false,
))]
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    py: Python<'_>,
    nodes: usize,
    scenario: &str,
    protocol: &str,
    seed: u64,
    loss: f64,
    latency_ms: (f64, f64),
    fanout: usize,
    duration: f64,
    warmup: f64,
    partition: f64,
    churn_interval: f64,
    stagger: f64,
    authenticate: bool,
) -> PyResult<SimReport> {
    let scenario = match scenario {
        "join" => Scenario::Join,
        "rumor" => Scenario::Rumor,
        "crash" => Scenario::Crash,
        "partition" => Scenario::Partition,
        "churn" => Scenario::Churn,
        "steady" => Scenario::Steady,
        other => {
            return Err(invalid(format!(
                "scenario must be join, rumor, crash, partition, churn or steady, not {other:?}"
            )))
        }
    };
    let protocol = match protocol {
        "shoal" => Protocol::Shoal,
        "classic" => Protocol::Classic,
        other => {
            return Err(invalid(format!(
                "protocol must be \"shoal\" or \"classic\", not {other:?}"
            )))
        }
    };
    if !(2..=100_000).contains(&nodes) {
        return Err(invalid(format!("nodes must be 2 to 100000, got {nodes}")));
    }
    if fanout == 0 || fanout > nodes {
        return Err(invalid(format!(
            "fanout must be 1 to nodes ({nodes}), got {fanout}"
        )));
    }
    if !(0.0..0.9).contains(&loss) {
        return Err(invalid(format!("loss must be in [0, 0.9), got {loss}")));
    }
    let (lo, hi) = latency_ms;
    if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi < 1e10) {
        return Err(invalid(format!(
            "latency_ms must be two milliseconds values in [0, 1e10), got ({lo}, {hi})"
        )));
    }
    let latency = (
        Duration::from_secs_f64(lo / 1e3),
        Duration::from_secs_f64(hi / 1e3),
    );
    if latency.0 > latency.1 {
        return Err(invalid(format!(
            "latency_ms must be (low, high) with low <= high, got ({lo}, {hi})"
        )));
    }
    let mut cfg = SimConfig::new(protocol, nodes, scenario);
    cfg.seed = seed;
    cfg.net.loss = loss;
    cfg.net.latency = latency;
    cfg.fanout = fanout;
    cfg.duration = seconds("duration", duration)?;
    if cfg.duration.is_zero() {
        return Err(invalid("duration must be positive"));
    }
    cfg.warmup = seconds("warmup", warmup)?;
    cfg.partition = seconds("partition", partition)?;
    cfg.churn_interval = seconds("churn_interval", churn_interval)?;
    if cfg.churn_interval.is_zero() {
        return Err(invalid("churn_interval must be positive"));
    }
    cfg.stagger = seconds("stagger", stagger)?;
    cfg.authenticate = authenticate;
    let r = py.detach(|| sim::run(&cfg));
    Ok(SimReport {
        protocol: r.protocol.as_str(),
        scenario: r.scenario.as_str(),
        nodes: r.nodes,
        fanout: r.fanout,
        loss: r.loss,
        seed: r.seed,
        round: r.round.as_secs_f64(),
        converged: percentiles(py, r.converged)?,
        detection_first: r.detection_first.map(|d| d.as_secs_f64()),
        detection: percentiles(py, r.detection)?,
        detection_times: r
            .detection_times
            .iter()
            .map(Duration::as_secs_f64)
            .collect(),
        false_failures: r.false_failures,
        msgs_per_member_sec: r.msgs_per_member_sec,
        bytes_per_member_sec: r.bytes_per_member_sec,
        lost: r.lost,
        delivered: r.delivered,
        simulated: r.simulated.as_secs_f64(),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_class::<SimReport>()?;
    Ok(())
}
