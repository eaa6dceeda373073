//! # shoal-core
//!
//! The sans-IO, `no_std` (+ `alloc`) core of shoal: placement of keys on a swarm of
//! agents.
//!
//! * [`hash`] — the pinned, versioned hash scheme (XXH3-64; ketama/MD5 for migration).
//! * [`Ring`] — weighted consistent-hash ring with O(1) prefix-indexed lookup, distinct
//!   (and zone-distinct) replicas, batch lookup, migration plans ([`Ring::diff`]),
//!   bounded-load lookup and load-driven reweighting.
//! * [`PartitionTable`] — the fixed-partition table every member computes identically
//!   from the member set, in classic or balanced mode, with digest, diff and stats.
//! * [`placement`] — the [`Placement`] trait and the jump and weighted-rendezvous
//!   alternatives.
//! * [`membership`] — SWIM/Lifeguard gossip membership as a sans-IO state machine;
//!   [`wire`] its authenticated packet format; [`sim`] a deterministic simulator.
//! * [`pool`] — a size-class buffer pool over a byte region addressed by offsets (a heap
//!   buffer or a shared-memory segment), with lock-free free lists and SPSC lanes
//!   (targets with 64-bit atomics).
//! * [`router`] — routes keyed payloads to their owner through a local or a remote
//!   transport.
//! * `native` (feature `std`) — POSIX shared memory and the zero-copy bus between
//!   processes.
//!
//! Nothing here reads a clock, a socket or an OS random source, and nothing panics on
//! bad input: errors are [`Error`] values.
//!
//! Features: `std` (on by default; native extras), `serde` (snapshot serialization).
#![no_std]
// `unsafe` is allowed only in `pool` (atomics over a shared byte region) and `native`
// (shared-memory mapping, futexes); each such block states its safety argument.
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod hash;
pub mod membership;
#[cfg(feature = "std")]
pub mod native;
pub mod partition;
pub mod placement;
#[cfg(target_has_atomic = "64")]
pub mod pool;
pub mod ring;
mod rng;
pub mod router;
pub mod sim;
pub mod time;
pub mod wire;

pub use error::{Error, ErrorKind, Result};
pub use partition::{
    PartitionMode, PartitionMove, PartitionTable, TableConfig, TableSnapshot, TableStats,
};
pub use placement::{JumpHash, Placement, Rendezvous};
pub use ring::{
    BoundedLoad, HashScheme, MigrationPlan, Node, NodeSnapshot, NodeSpec, RangeMove, Ring,
    RingSnapshot, ZonePolicy,
};
