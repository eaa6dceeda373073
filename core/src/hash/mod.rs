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
//! * **Node hash**: `node_hash(id) = XXH3-64(id UTF-8 bytes, seed 0)`.
//! * **Vnode point**: `vnode_point(id, v) = XXH3-64(LE64(node_hash(id)) ‖ LE64(v))`, the
//!   hash (seed 0) of the 16-byte string made of the node hash and the vnode index
//!   `v = 0, 1, …` as a 64-bit number, both little-endian. A node with `n` vnodes owns the points for
//!   `v in 0..n`, so raising a node's weight only adds points and lowering it only removes
//!   points. (XXH3's *seed* is deliberately not used for `v`: for inputs of up to 16
//!   bytes XXH3 mixes the seed into the input linearly, so short ids with different
//!   seeds can produce identical points.)
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

use xxhash_rust::xxh3::xxh3_64;

/// Version of the `xxh3` scheme described in the module docs. Bumped on any change
/// that would move a key.
pub const SCHEME_VERSION: u32 = 1;

/// The 64-bit hash of a key: XXH3-64 of its bytes with seed 0.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// The hash of a node id: XXH3-64 of its bytes, seed 0 (the same function as
/// [`key_hash`]; named separately for clarity).
#[inline]
pub fn node_hash(id: &[u8]) -> u64 {
    xxh3_64(id)
}

/// The ring position of vnode number `vnode` of node `id`:
/// `XXH3-64(LE64(node_hash(id)) ‖ LE64(vnode))`.
#[inline]
pub fn vnode_point(id: &[u8], vnode: u32) -> u64 {
    vnode_point_of(node_hash(id), vnode)
}

/// [`vnode_point`] from an already computed [`node_hash`] (hash the id once per node).
#[inline]
pub fn vnode_point_of(node_hash: u64, vnode: u32) -> u64 {
    // 16 bytes, so XXH3's two 8-byte reads line up with the two 8-byte writes (a 12-byte
    // input makes the second read straddle both writes and stall store forwarding).
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&node_hash.to_le_bytes());
    buf[8..].copy_from_slice(&u64::from(vnode).to_le_bytes());
    xxh3_64(&buf)
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

/// Key number `i` of the shared test and benchmark key set: `key-{splitmix64(i):016x}`.
///
/// The vector generators, the benchmarks and every binding's tests use this one rule,
/// so key number `i` means the same string in Rust, Python, Node and the browser.
pub fn sample_key(i: u64) -> alloc::string::String {
    alloc::format!("key-{:016x}", splitmix64(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference() {
        // First output of the reference splitmix64 seeded with 0.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(sample_key(0), "key-e220a8397b1dcdaf");
    }

    #[test]
    fn xxh3_matches_reference_values() {
        // XXH3-64 of the empty input with seed 0, from the xxHash reference.
        assert_eq!(key_hash(b""), 0x2d06_8005_38d3_94c2);
        assert_ne!(vnode_point(b"a", 0), vnode_point(b"a", 1));
    }

    #[test]
    fn short_ids_do_not_share_points() {
        // Regression: with the vnode index as XXH3 seed, ids of 1-16 bytes collided.
        let mut points: alloc::vec::Vec<u64> = (0..64u32)
            .flat_map(|i| {
                let id = alloc::format!("n{i}");
                (0..160).map(move |v| vnode_point(id.as_bytes(), v))
            })
            .collect();
        points.sort_unstable();
        points.dedup();
        assert_eq!(points.len(), 64 * 160);
    }

    #[test]
    fn partition_of_hash_covers_range() {
        assert_eq!(partition_of_hash(0, 4096), 0);
        assert_eq!(partition_of_hash(u64::MAX, 4096), 4095);
        assert_eq!(partition_of_hash(1 << 63, 4096), 2048);
    }
}
