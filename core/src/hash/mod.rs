//! The pinned hash scheme: how keys and vnodes become positions on the ring.
//!
//! This module owns every hash shoal computes for placement. It never uses Rust's
//! `Hash` trait (whose output is not stable across compiler versions); every function
//! here is a direct one-shot call on bytes, and the values are pinned by the shared
//! test vectors in `tests/vectors/`.
//!
//! # Scheme `xxh3` (version 1, the default)
//!
//! * **Key hash**: `key_hash(key) = XXH3-64(key bytes, seed 0)`.
//! * **Vnode point**: `vnode_point(id, v) = XXH3-64(id UTF-8 bytes, seed = v)` for vnode
//!   index `v = 0, 1, …`. A node with `n` vnodes owns the points for `v in 0..n`, so
//!   raising a node's weight only adds points and lowering it only removes points.
//! * **Ring lookup**: a key belongs to the node owning the first point `>= key_hash`
//!   (clockwise), wrapping past `u64::MAX` to the smallest point. Equal points are
//!   ordered by node id, so the first id in byte order wins.
//! * **Partition of a key** (fixed-partition tables): `(key_hash * P) >> 64` computed in
//!   128 bits (a multiply-shift range reduction, uniform for uniform hashes).
//! * **Partition claimed by a vnode**: `vnode_point(id, v) mod P` (the source's
//!   `HASH(ID, virtual_index) mod BASE`).
//!
//! # Scheme `ketama`
//!
//! See [`ketama`]: MD5 points laid out exactly as libketama / `uhashring` (ketama mode).

pub mod ketama;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Version of the `xxh3` scheme described in the module docs. Bumped on any change
/// that would move a key.
pub const SCHEME_VERSION: u32 = 1;

/// The 64-bit hash of a key: XXH3-64 of its bytes with seed 0.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// The ring position of vnode number `vnode` of node `id`: XXH3-64 of the id's bytes
/// with the vnode index as seed.
#[inline]
pub fn vnode_point(id: &[u8], vnode: u32) -> u64 {
    xxh3_64_with_seed(id, u64::from(vnode))
}

/// Maps a 64-bit hash uniformly onto `0..partitions` by multiply-shift.
///
/// Returns 0 when `partitions` is 0 (callers reject a zero partition count earlier).
#[inline]
pub fn partition_of_hash(hash: u64, partitions: u32) -> u32 {
    ((u128::from(hash) * u128::from(partitions)) >> 64) as u32
}

/// A 64-bit finaliser (the splitmix64 / murmur3 "fmix" family) used to derive
/// independent pseudo-random values from an already good hash, e.g. rendezvous scores.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The splitmix64 sequence value for `i`: `mix64(i + golden gamma)`.
///
/// Used to generate reproducible test and benchmark keys in every language
/// (`key-{splitmix64(i):016x}`).
#[inline]
pub fn splitmix64(i: u64) -> u64 {
    mix64(i.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference() {
        // First output of the reference splitmix64 seeded with 0.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn xxh3_matches_reference_values() {
        // XXH3-64 of the empty input with seed 0, from the xxHash reference.
        assert_eq!(key_hash(b""), 0x2d06_8005_38d3_94c2);
        assert_ne!(vnode_point(b"a", 0), vnode_point(b"a", 1));
    }

    #[test]
    fn partition_of_hash_covers_range() {
        assert_eq!(partition_of_hash(0, 4096), 0);
        assert_eq!(partition_of_hash(u64::MAX, 4096), 4095);
        assert_eq!(partition_of_hash(1 << 63, 4096), 2048);
    }
}
