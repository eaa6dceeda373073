//! `simulate(options)`: one whole deterministic gossip simulation run (core `sim`),
//! with the options and report of the Node package.

use std::time::Duration;

use js_sys::Array;
use shoal_core::sim::{self, Percentiles, SimConfig, SimOptions};
use wasm_bindgen::prelude::*;

use crate::args::Options;
use crate::errors::{invalid, JsResult};
use crate::js::object;

/// Reads the simulation options shared by `simulate` and `GossipSim` (all but the
/// scenario and protocol names).
pub fn config(o: &Options) -> JsResult<SimOptions<'static>> {
    let d = SimOptions::default();
    let opts = SimOptions {
        nodes: o.u32("nodes")?.map_or(d.nodes, |n| n as usize),
        scenario: d.scenario,
        protocol: d.protocol,
        seed: o.u64("seed")?.unwrap_or(d.seed),
        loss: o.f64("loss")?.unwrap_or(d.loss),
        latency_ms: o.pair("latencyMs")?.unwrap_or(d.latency_ms),
        fanout: o.u32("fanout")?.map_or(d.fanout, |f| f as usize),
        duration: o.f64("duration")?.unwrap_or(d.duration),
        warmup: o.f64("warmup")?.unwrap_or(d.warmup),
        partition: o.f64("partition")?.unwrap_or(d.partition),
        churn_interval: o.f64("churnInterval")?.unwrap_or(d.churn_interval),
        stagger: o.f64("stagger")?.unwrap_or(d.stagger),
        authenticate: o.bool("authenticate")?.unwrap_or(d.authenticate),
    };
    Ok(opts)
}

/// Checks the options and builds the core config.
pub fn to_config(opts: &SimOptions<'_>) -> JsResult<SimConfig> {
    opts.to_config()
        .map_err(|e| invalid(format!("{} {}", e.camel_field(), e.problem)))
}

fn secs(t: Option<Duration>) -> JsValue {
    t.map_or(JsValue::NULL, |t| t.as_secs_f64().into())
}

fn percentiles(p: Percentiles) -> JsValue {
    object(&[
        ("p50", secs(p.p50)),
        ("p90", secs(p.p90)),
        ("p99", secs(p.p99)),
        ("all", secs(p.all)),
    ])
}

/// Runs one simulation (it blocks: keep `nodes` × `duration` modest on a page) and
/// returns what it measured, as the Node package's `simulate`: `{ protocol,
/// scenario, nodes, fanout, loss, seed, round, converged, detectionFirst, detection,
/// detectionTimes, falseFailures, msgsPerMemberSec, bytesPerMemberSec, lost,
/// delivered, simulated }` (times in seconds; percentiles `null` when not reached).
#[wasm_bindgen(unchecked_return_type = "SimReport")]
pub fn simulate(
    #[wasm_bindgen(
        unchecked_optional_param_type = "{ nodes?: number; scenario?: 'join' | 'rumor' | 'crash' | 'partition' | 'churn' | 'steady'; protocol?: 'shoal' | 'classic'; seed?: bigint; loss?: number; latencyMs?: [number, number]; fanout?: number; duration?: number; warmup?: number; partition?: number; churnInterval?: number; stagger?: number; authenticate?: boolean }"
    )]
    options: Option<JsValue>,
) -> JsResult<JsValue> {
    let o = Options::new(options.unwrap_or(JsValue::UNDEFINED), "options")?;
    let scenario = o.string("scenario")?;
    let protocol = o.string("protocol")?;
    let mut opts = config(&o)?;
    if let Some(s) = &scenario {
        opts.scenario = s;
    }
    if let Some(p) = &protocol {
        opts.protocol = p;
    }
    let r = sim::run(&to_config(&opts)?);
    let times: Array = r
        .detection_times
        .iter()
        .map(|t| JsValue::from(t.as_secs_f64()))
        .collect();
    Ok(object(&[
        ("protocol", r.protocol.as_str().into()),
        ("scenario", r.scenario.as_str().into()),
        ("nodes", (r.nodes as u32).into()),
        ("fanout", (r.fanout as u32).into()),
        ("loss", r.loss.into()),
        ("seed", js_sys::BigInt::from(r.seed).into()),
        ("round", r.round.as_secs_f64().into()),
        ("converged", percentiles(r.converged)),
        ("detectionFirst", secs(r.detection_first)),
        ("detection", percentiles(r.detection)),
        ("detectionTimes", times.into()),
        ("falseFailures", (r.false_failures as f64).into()),
        ("msgsPerMemberSec", r.msgs_per_member_sec.into()),
        ("bytesPerMemberSec", r.bytes_per_member_sec.into()),
        ("lost", (r.lost as f64).into()),
        ("delivered", (r.delivered as f64).into()),
        ("simulated", r.simulated.as_secs_f64().into()),
    ]))
}

#[wasm_bindgen(typescript_custom_section)]
const SIM_REPORT: &str = r#"
/** Seconds until that share of members got there (`null`: not before the run ended). */
export interface SimPercentiles { p50: number | null; p90: number | null; p99: number | null; all: number | null }
/** What a `simulate` run measured; times in seconds of simulated time. */
export interface SimReport {
  protocol: string; scenario: string; nodes: number; fanout: number; loss: number; seed: bigint;
  round: number; converged: SimPercentiles; detectionFirst: number | null; detection: SimPercentiles;
  detectionTimes: number[]; falseFailures: number; msgsPerMemberSec: number; bytesPerMemberSec: number;
  lost: number; delivered: number; simulated: number;
}
"#;
