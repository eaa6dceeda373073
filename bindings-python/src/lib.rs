//! `shoal._native`: the compiled half of the `shoal` Python package.
//!
//! Thin wrappers over `shoal-core`, one file or folder per concept: `ring.rs`, `partition.rs`,
//! `sim.rs`, `bus/`, `node.rs`, `router.rs`; `errors.rs` maps core errors to the
//! exceptions of `shoal.errors`, `keys.rs` reads keys. The pure-Python package
//! (`python/shoal/`) re-exports everything and adds the asyncio helpers.
//!
//! Nothing here panics on bad input: every failure is a Python exception. Blocking
//! waits and batch work run with the GIL released.

use pyo3::prelude::*;

mod bus;
mod errors;
mod keys;
mod node;
mod partition;
mod ring;
mod router;
mod sim;

/// The pinned XXH3-64 hash of a key (str as UTF-8, or bytes): its position on an
/// xxh3 ring and the input of `PartitionTable.partition_of`.
#[pyfunction]
fn key_hash(key: &Bound<'_, PyAny>) -> PyResult<u64> {
    keys::with_key(key, shoal_core::hash::key_hash)
}

/// SplitMix64 of `i`: the generator of the shared test vectors' keys
/// (`"key-%016x" % splitmix64(i)`).
#[pyfunction]
fn splitmix64(i: u64) -> u64 {
    shoal_core::hash::splitmix64(i)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(key_hash, m)?)?;
    m.add_function(wrap_pyfunction!(splitmix64, m)?)?;
    ring::register(m)?;
    partition::register(m)?;
    sim::register(m)?;
    bus::register(m)?;
    node::register(m)?;
    router::register(m)?;
    Ok(())
}
