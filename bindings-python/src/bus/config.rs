//! Python arguments → core settings: bus sizes, endpoint policies, timeouts, sizes.
//! Bad values are `InvalidArgumentError` (a `ValueError`) naming the argument.

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use shoal_core::native::bus::{Backpressure, BusConfig, EndpointConfig, WaitStrategy};
use shoal_core::pool::PoolConfig;

use crate::errors::invalid;

/// `value` as a `u32` setting, or the default.
fn u32_arg(name: &str, value: Option<i64>, default: u32) -> PyResult<u32> {
    match value {
        None => Ok(default),
        Some(v) => u32::try_from(v)
            .map_err(|_| invalid(format!("{name} must be in 0 ..= {}, not {v}", u32::MAX))),
    }
}

/// The keyword arguments of `Bus.create`.
pub(crate) struct SizeArgs<'a> {
    pub lane_capacity: Option<i64>,
    pub max_processes: Option<i64>,
    pub max_endpoints: Option<i64>,
    pub max_lanes: Option<i64>,
    pub held_per_process: Option<i64>,
    pub pool: &'a str,
}

/// A bus configuration: the core defaults, with what the caller gave.
pub(crate) fn bus_config(a: &SizeArgs<'_>) -> PyResult<BusConfig> {
    let d = BusConfig::default();
    let pool = match a.pool {
        "standard" => PoolConfig::standard(),
        "small" => PoolConfig::small(),
        other => {
            return Err(invalid(format!(
                "pool must be \"standard\" or \"small\", not {other:?}"
            )))
        }
    };
    Ok(BusConfig {
        pool,
        max_processes: u32_arg("max_processes", a.max_processes, d.max_processes)?,
        max_endpoints: u32_arg("max_endpoints", a.max_endpoints, d.max_endpoints)?,
        max_lanes: u32_arg("max_lanes", a.max_lanes, d.max_lanes)?,
        lane_capacity: u32_arg("lane_capacity", a.lane_capacity, d.lane_capacity)?,
        held_per_process: u32_arg("held_per_process", a.held_per_process, d.held_per_process)?,
    })
}

/// The core's `Backpressure` from its Python name.
pub(crate) fn backpressure(name: &str) -> PyResult<Backpressure> {
    match name {
        "block" => Ok(Backpressure::Block),
        "error" => Ok(Backpressure::Error),
        "drop_oldest" => Ok(Backpressure::DropOldest),
        other => Err(invalid(format!(
            "backpressure must be \"block\", \"error\" or \"drop_oldest\", not {other:?}"
        ))),
    }
}

/// The core's `WaitStrategy` from its Python name and spin count.
pub(crate) fn wait_strategy(name: &str, spins: Option<i64>) -> PyResult<WaitStrategy> {
    let default_spins = match WaitStrategy::default() {
        WaitStrategy::SpinThenPark(n) => n,
        _ => 2_000,
    };
    match (name, spins) {
        ("spin_then_park", s) => Ok(WaitStrategy::SpinThenPark(u32_arg(
            "spins",
            s,
            default_spins,
        )?)),
        ("spin", None) => Ok(WaitStrategy::Spin),
        ("park", None) => Ok(WaitStrategy::Park),
        ("spin" | "park", Some(_)) => Err(invalid(format!(
            "spins applies to wait=\"spin_then_park\" only, not wait={name:?}"
        ))),
        (other, _) => Err(invalid(format!(
            "wait must be \"spin_then_park\", \"spin\" or \"park\", not {other:?}"
        ))),
    }
}

/// An endpoint configuration from `backpressure`, `wait` and `spins`.
pub(crate) fn endpoint_config(
    backpressure_name: &str,
    wait: &str,
    spins: Option<i64>,
) -> PyResult<EndpointConfig> {
    Ok(EndpointConfig {
        backpressure: backpressure(backpressure_name)?,
        wait: wait_strategy(wait, spins)?,
    })
}

/// The deadline of a wait of `timeout` seconds from now (`None`: no deadline).
pub(crate) fn deadline(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    let Some(t) = timeout else {
        return Ok(None);
    };
    if !t.is_finite() || t < 0.0 {
        return Err(invalid(format!(
            "timeout must be a finite number of seconds >= 0 or None, not {t}"
        )));
    }
    // Far beyond any real wait: treat as no deadline rather than overflow `Instant`.
    if t > 1e9 {
        return Ok(None);
    }
    Ok(Some(Instant::now() + Duration::from_secs_f64(t)))
}

/// A byte count argument.
pub(crate) fn size(name: &str, n: i64) -> PyResult<usize> {
    usize::try_from(n).map_err(|_| invalid(format!("{name} must be >= 0, not {n}")))
}
