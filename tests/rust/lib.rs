//! Helpers shared by shoal's Rust integration tests: the key rule, vector loading and
//! the fast protocol timings of the networked tests.
//!
//! The README's Rust quickstart is compiled and run as a doctest of this crate.
#![doc = include_str!("../../README.md")]

use std::path::PathBuf;

use serde_json::Value;

/// Key number `i` under the shared rule `key-{splitmix64(i):016x}`.
pub use shoal_core::hash::sample_key as key;

/// Path of a file in `tests/vectors/`.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name)
}

/// Parses a vector file.
pub fn load_vector(name: &str) -> Value {
    let path = vector_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A JSON value holding a u64 as a decimal string.
pub fn u64_of(v: &Value) -> u64 {
    v.as_str()
        .expect("u64 as string")
        .parse()
        .expect("decimal u64")
}

/// Faster-than-LAN protocol timings, so tests of networked nodes on loopback finish
/// quickly (probe every 200 ms with a 100 ms timeout, gossip every 50 ms).
pub fn fast_protocol() -> shoal_core::membership::Config {
    shoal_core::membership::Config::profile("fast").expect("a built-in profile")
}
