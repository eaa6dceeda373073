//! `simulate(...)`: a deterministic gossip simulation (the core's `sim`), run with the
//! GIL released.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use shoal_core::sim::{self, Percentiles, SimOptions};

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
    let cfg = SimOptions {
        nodes,
        scenario,
        protocol,
        seed,
        loss,
        latency_ms,
        fanout,
        duration,
        warmup,
        partition,
        churn_interval,
        stagger,
        authenticate,
    }
    .to_config()
    .map_err(|e| invalid(e.to_string()))?;
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
