//! JavaScript options → core settings: bus sizes, endpoint policies, timeouts and byte
//! counts. Bad values are `RangeError`s (`ERR_SHOAL_INVALID_ARGUMENT`) naming the
//! option; this file never touches shared memory.

use std::time::{Duration, Instant};

use napi_derive::napi;
use shoal_core::native::bus::{Backpressure, BusConfig, EndpointConfig, WaitStrategy};
use shoal_core::pool::PoolConfig;

use crate::errors::{invalid, Outcome};

/// Options of `Bus.create`: sizes fixed for the life of the bus.
#[napi(object)]
#[derive(Default)]
pub struct BusOptions {
    /// Messages a lane holds before backpressure applies; a power of two (default 1024).
    pub lane_capacity: Option<f64>,
    /// Processes that may be attached at once (default 64).
    pub max_processes: Option<f64>,
    /// Named endpoints and topics at once (default 256).
    pub max_endpoints: Option<f64>,
    /// Producer → consumer lanes at once (default 1024).
    pub max_lanes: Option<f64>,
    /// Buffers (loans and received messages) one process may hold at once (default 4096).
    pub held_per_process: Option<f64>,
    /// `"standard"` (15 classes 64 B–1 MiB, about 64 MiB of address space, committed
    /// lazily) or `"small"` (a few slots per class, for tests). Default `"standard"`.
    pub pool: Option<String>,
}

/// Options of `bus.endpoint` and `bus.subscribe`.
#[napi(object)]
#[derive(Default)]
pub struct EndpointOptions {
    /// What senders do when this receiver's lane is full: `"block"` (wait, the
    /// default), `"error"` (fail with `ERR_SHOAL_BUS_FULL`) or `"dropOldest"`.
    pub backpressure: Option<String>,
    /// How blocking receives wait: `"spinThenPark"` (default: poll `spins` times, then
    /// sleep on a futex), `"spin"` (busy-poll) or `"park"`.
    pub wait: Option<String>,
    /// Polls before parking, for `wait: "spinThenPark"` (default 2000).
    pub spins: Option<f64>,
}

/// `value` as a whole number in `0 ..= max`.
pub(crate) fn whole(name: &str, value: f64, max: u64) -> Outcome<u64> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 || value > max as f64 {
        return Err(invalid(format!(
            "{name} must be a whole number in 0 ..= {max}, not {value}"
        )));
    }
    Ok(value as u64)
}

fn u32_opt(name: &str, value: Option<f64>, default: u32) -> Outcome<u32> {
    match value {
        None => Ok(default),
        Some(v) => Ok(whole(name, v, u64::from(u32::MAX))? as u32),
    }
}

/// A bus configuration: the core defaults, with what the caller gave.
pub(crate) fn bus_config(o: &BusOptions) -> Outcome<BusConfig> {
    let d = BusConfig::default();
    let pool = match o.pool.as_deref() {
        None | Some("standard") => PoolConfig::standard(),
        Some("small") => PoolConfig::small(),
        Some(other) => {
            return Err(invalid(format!(
                "pool must be \"standard\" or \"small\", not {other:?}"
            )))
        }
    };
    Ok(BusConfig {
        pool,
        max_processes: u32_opt("maxProcesses", o.max_processes, d.max_processes)?,
        max_endpoints: u32_opt("maxEndpoints", o.max_endpoints, d.max_endpoints)?,
        max_lanes: u32_opt("maxLanes", o.max_lanes, d.max_lanes)?,
        lane_capacity: u32_opt("laneCapacity", o.lane_capacity, d.lane_capacity)?,
        held_per_process: u32_opt("heldPerProcess", o.held_per_process, d.held_per_process)?,
    })
}

fn backpressure(name: Option<&str>) -> Outcome<Backpressure> {
    match name {
        None | Some("block") => Ok(Backpressure::Block),
        Some("error") => Ok(Backpressure::Error),
        Some("dropOldest") => Ok(Backpressure::DropOldest),
        Some(other) => Err(invalid(format!(
            "backpressure must be \"block\", \"error\" or \"dropOldest\", not {other:?}"
        ))),
    }
}

fn wait_strategy(name: Option<&str>, spins: Option<f64>) -> Outcome<WaitStrategy> {
    let default_spins = match WaitStrategy::default() {
        WaitStrategy::SpinThenPark(n) => n,
        _ => 2_000,
    };
    match (name, spins) {
        (None | Some("spinThenPark"), s) => Ok(WaitStrategy::SpinThenPark(u32_opt(
            "spins",
            s,
            default_spins,
        )?)),
        (Some("spin"), None) => Ok(WaitStrategy::Spin),
        (Some("park"), None) => Ok(WaitStrategy::Park),
        (Some(w @ ("spin" | "park")), Some(_)) => Err(invalid(format!(
            "spins applies to wait \"spinThenPark\" only, not {w:?}"
        ))),
        (Some(other), _) => Err(invalid(format!(
            "wait must be \"spinThenPark\", \"spin\" or \"park\", not {other:?}"
        ))),
    }
}

/// An endpoint configuration from the options.
pub(crate) fn endpoint_config(o: Option<&EndpointOptions>) -> Outcome<EndpointConfig> {
    let d = EndpointOptions::default();
    let o = o.unwrap_or(&d);
    Ok(EndpointConfig {
        backpressure: backpressure(o.backpressure.as_deref())?,
        wait: wait_strategy(o.wait.as_deref(), o.spins)?,
    })
}

/// The deadline of a wait of `timeout` milliseconds from now (`None`: no deadline).
pub(crate) fn deadline(timeout_ms: Option<f64>) -> Outcome<Option<Instant>> {
    let Some(t) = timeout_ms else {
        return Ok(None);
    };
    if t.is_nan() || t < 0.0 {
        return Err(invalid(format!(
            "timeout must be a number of milliseconds >= 0 (or Infinity / undefined), not {t}"
        )));
    }
    // Far beyond any real wait (or Infinity): no deadline rather than overflow.
    if t > 1e12 {
        return Ok(None);
    }
    Ok(Some(Instant::now() + Duration::from_secs_f64(t / 1e3)))
}

/// A byte count argument.
pub(crate) fn size(name: &str, n: f64) -> Outcome<usize> {
    Ok(whole(name, n, (1u64 << 53) - 1)? as usize)
}
