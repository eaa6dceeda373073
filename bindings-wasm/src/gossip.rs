//! `GossipSim`: the simulated cluster stepped from the page (core `sim::Cluster`):
//! crash, restart, join, leave, partition and heal on demand, and what every member
//! sees, every datagram and every membership event, for the gossip view.

use std::time::Duration;

use js_sys::{Array, Uint32Array, Uint8Array};
use shoal_core::membership::Status;
use shoal_core::sim::Cluster;
use wasm_bindgen::prelude::*;

use crate::args::Options;
use crate::errors::{invalid, JsResult};
use crate::js::object;
use crate::sim::{config, to_config};

/// The most members a `GossipSim` holds: it is for watching, not for measuring (use
/// `simulate` for large clusters).
const MAX_MEMBERS: usize = 2000;

/// A simulated cluster stepped from JavaScript. It starts with `nodes` members that
/// all know each other; member `i` is `"node-i"`, member 0 the seed. Deterministic:
/// the same options, seed and calls give the same run.
#[wasm_bindgen]
pub struct GossipSim {
    cluster: Cluster,
}

impl GossipSim {
    fn member(&self, i: u32) -> JsResult<usize> {
        let i = i as usize;
        if i >= self.cluster.size() {
            return Err(invalid(format!(
                "member {i} does not exist (the cluster has {})",
                self.cluster.size()
            )));
        }
        Ok(i)
    }
}

fn status_code(s: Option<Status>) -> u8 {
    match s {
        None => 0,
        Some(Status::Alive) => 1,
        Some(Status::Suspect) => 2,
        Some(Status::Dead) => 3,
        Some(Status::Left) => 4,
    }
}

#[wasm_bindgen]
impl GossipSim {
    /// `options`: `nodes` (default 24, at most 2000), `seed` (bigint, default 1n),
    /// `protocol` `"shoal"` (default) or `"classic"`, `loss` in [0, 0.9), `fanout`
    /// (default 3), `latencyMs` `[low, high]` (default [10, 50]).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ nodes?: number; seed?: bigint; protocol?: 'shoal' | 'classic'; loss?: number; fanout?: number; latencyMs?: [number, number] }"
        )]
        options: Option<JsValue>,
    ) -> JsResult<GossipSim> {
        let o = Options::new(options.unwrap_or(JsValue::UNDEFINED), "options")?;
        let protocol = o.string("protocol")?;
        let mut opts = config(&o)?;
        if o.u32("nodes")?.is_none() {
            opts.nodes = 24;
        }
        if opts.nodes > MAX_MEMBERS {
            return Err(invalid(format!(
                "nodes must be at most {MAX_MEMBERS} for a GossipSim, got {}",
                opts.nodes
            )));
        }
        if let Some(p) = &protocol {
            opts.protocol = p;
        }
        opts.scenario = "steady";
        let cfg = to_config(&opts)?;
        Ok(GossipSim {
            cluster: Cluster::new(&cfg),
        })
    }

    /// Members so far (`join` adds one).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.cluster.size() as u32
    }

    /// Simulated time, milliseconds.
    #[wasm_bindgen(getter, js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        self.cluster.now().as_micros() as f64 / 1000.0
    }

    /// Runs the simulation forward by `ms` milliseconds of simulated time (0 to
    /// 3 600 000 per call).
    pub fn advance(&mut self, ms: f64) -> JsResult<()> {
        if !(ms.is_finite() && (0.0..=3_600_000.0).contains(&ms)) {
            return Err(invalid(format!("ms must be from 0 to 3600000, got {ms}")));
        }
        self.cluster.advance(Duration::from_secs_f64(ms / 1000.0));
        Ok(())
    }

    /// Whether member `i` is running.
    #[wasm_bindgen(js_name = isUp)]
    pub fn is_up(&self, i: u32) -> bool {
        self.cluster.is_up(i as usize)
    }

    /// Stops member `i` without a goodbye (no-op if already down).
    pub fn crash(&mut self, i: u32) -> JsResult<()> {
        let i = self.member(i)?;
        self.cluster.crash(i);
        Ok(())
    }

    /// Starts member `i` again with an empty view (no-op if up).
    pub fn restart(&mut self, i: u32) -> JsResult<()> {
        let i = self.member(i)?;
        self.cluster.restart(i);
        Ok(())
    }

    /// Adds a member that knows only member 0 (a rumor to spread); its index.
    pub fn join(&mut self) -> JsResult<u32> {
        if self.cluster.size() >= MAX_MEMBERS {
            return Err(invalid(format!(
                "a GossipSim holds at most {MAX_MEMBERS} members"
            )));
        }
        Ok(self.cluster.join() as u32)
    }

    /// Member `i` leaves on purpose (classic protocol: it just stops).
    pub fn leave(&mut self, i: u32) -> JsResult<()> {
        let i = self.member(i)?;
        self.cluster.leave(i);
        Ok(())
    }

    /// Splits the members into halves `[0, n/2)` and `[n/2, n)`.
    pub fn partition(&mut self) {
        self.cluster.partition();
    }

    /// Ends the partition.
    pub fn heal(&mut self) {
        self.cluster.heal();
    }

    /// Whether the network is split.
    #[wasm_bindgen(getter)]
    pub fn partitioned(&self) -> bool {
        self.cluster.is_partitioned()
    }

    /// `size × size` statuses, row = observer, column = member: 0 unknown, 1 alive,
    /// 2 suspect, 3 failed, 4 left. A down observer's row is all 0.
    pub fn statuses(&self) -> Uint8Array {
        let n = self.cluster.size();
        let mut out = vec![0u8; n * n];
        for i in 0..n {
            if !self.cluster.is_up(i) {
                continue;
            }
            for j in 0..n {
                out[i * n + j] = if i == j {
                    1
                } else {
                    status_code(self.cluster.status(i, j))
                };
            }
        }
        Uint8Array::from(&out[..])
    }

    /// Datagrams sent since the last call, as pairs `(from, to, from, to, …)`.
    #[wasm_bindgen(js_name = takeMessages)]
    pub fn take_messages(&mut self) -> Uint32Array {
        let pairs: Vec<u32> = self
            .cluster
            .take_messages()
            .into_iter()
            .flat_map(|(a, b)| [a, b])
            .collect();
        Uint32Array::from(&pairs[..])
    }

    /// Membership events since the last call: `{ atMs, observer, kind, member }`.
    #[wasm_bindgen(
        js_name = takeEvents,
        unchecked_return_type = "{ atMs: number; observer: number; kind: 'joined' | 'updated' | 'suspected' | 'refuted' | 'failed' | 'left'; member: number }[]"
    )]
    pub fn take_events(&mut self) -> Array {
        self.cluster
            .take_events()
            .into_iter()
            .map(|e| {
                object(&[
                    ("atMs", (e.at.as_micros() as f64 / 1000.0).into()),
                    ("observer", (e.observer as u32).into()),
                    ("kind", e.kind.as_str().into()),
                    ("member", (e.member as u32).into()),
                ])
            })
            .collect()
    }

    /// Whether every up member sees every other up member alive and no down member
    /// alive or suspect.
    pub fn converged(&self) -> bool {
        self.cluster.converged()
    }
}
