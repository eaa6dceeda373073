//! Reproducible benchmark and test keys: `key-{splitmix64(i):016x}`, the rule the
//! Python and Node vector generators use too ([`shoal_core::hash::sample_key`]).

pub use shoal_core::hash::sample_key as key;

/// Keys `0..n`.
pub fn keys(n: u64) -> Vec<String> {
    (0..n).map(key).collect()
}
