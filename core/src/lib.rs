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
//!
//! Nothing here reads a clock, a socket or an OS random source, and nothing panics on
//! bad input: errors are [`Error`] values.
//!
//! Features: `std` (on by default; native extras), `serde` (snapshot serialization).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod hash;
pub mod membership;
pub mod partition;
pub mod placement;
pub mod ring;
mod rng;
pub mod sim;
pub mod time;
pub mod wire;

pub use error::{Error, Result};
pub use partition::{
    PartitionMode, PartitionMove, PartitionTable, TableConfig, TableSnapshot, TableStats,
};
pub use placement::{JumpHash, Placement, Rendezvous};
pub use ring::{
    BoundedLoad, HashScheme, MigrationPlan, Node, NodeSnapshot, NodeSpec, RangeMove, Ring,
    RingSnapshot, ZonePolicy,
};
