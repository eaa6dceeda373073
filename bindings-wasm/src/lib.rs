//! shoal for the browser (and any WebAssembly host): the same rings, partition
//! tables, alternative placements and gossip simulator as the Rust, Python and Node
//! packages, computed by the same `no_std` core, so the visualizer shows exactly what
//! agents compute. No transport here: no shared memory, sockets or clock.
//!
//! Names are the Node package's (camelCase); 64-bit values are `bigint`; errors are
//! `TypeError` / `RangeError` / `Error` with a stable `code` (see [`errors`]).
#![deny(missing_docs)]

mod alternatives;
mod args;
pub mod errors;
mod gossip;
mod js;
mod partition;
mod ring;
mod sim;

pub use alternatives::{JumpHash, Rendezvous};
pub use gossip::GossipSim;
pub use partition::PartitionTable;
pub use ring::Ring;

use wasm_bindgen::prelude::*;

/// The splitmix64 step (the vectors' key rule is `"key-" + hex16(splitmix64(i))`).
#[wasm_bindgen]
pub fn splitmix64(i: u64) -> u64 {
    shoal_core::hash::splitmix64(i)
}

/// The shared sample key `i`: `"key-"` + 16 lowercase hex digits of `splitmix64(i)`.
#[wasm_bindgen(js_name = sampleKey)]
pub fn sample_key(i: f64) -> Result<String, JsValue> {
    if !(i.is_finite() && i.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&i)) {
        return Err(errors::invalid(format!(
            "i must be a whole number >= 0, got {i}"
        )));
    }
    Ok(shoal_core::hash::sample_key(i as u64))
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
