//! Reproducible benchmark and test keys: `key-{splitmix64(i):016x}`, the same rule the
//! Python and Node vector generators use.

use shoal_core::hash::splitmix64;

/// Key number `i`.
pub fn key(i: u64) -> String {
    format!("key-{:016x}", splitmix64(i))
}

/// Keys `0..n`.
pub fn keys(n: u64) -> Vec<String> {
    (0..n).map(key).collect()
}
