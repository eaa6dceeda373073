//! The placement trait shared by every algorithm, and the alternatives to the ring.
//!
//! [`Ring`](crate::Ring) (xxh3 or ketama), [`PartitionTable`](crate::PartitionTable),
//! [`JumpHash`] and [`Rendezvous`] all answer "which node owns this key" through
//! [`Placement`], so benchmarks, the CLI and the visualizer can compare them on equal
//! terms.

mod jump;
mod rendezvous;

pub use jump::{jump_hash, JumpHash};
pub use rendezvous::Rendezvous;

use crate::hash;

/// "Which node owns this key", whatever the algorithm.
pub trait Placement {
    /// A short name of the algorithm (`"ring-xxh3"`, `"jump"`, …).
    fn algorithm(&self) -> &'static str;

    /// Number of nodes that can own keys.
    fn node_count(&self) -> usize;

    /// The position the algorithm derives from a key (by default the xxh3 key hash).
    fn key_position(&self, key: &[u8]) -> u64 {
        hash::key_hash(key)
    }

    /// The owner of a key position, or `None` when there are no nodes.
    fn locate_hash(&self, position: u64) -> Option<&str>;

    /// The owner of a key, or `None` when there are no nodes.
    fn locate(&self, key: &[u8]) -> Option<&str> {
        self.locate_hash(self.key_position(key))
    }
}

impl Placement for crate::Ring {
    fn algorithm(&self) -> &'static str {
        match self.scheme() {
            crate::HashScheme::Xxh3 => "ring-xxh3",
            crate::HashScheme::Ketama => "ring-ketama",
        }
    }
    fn node_count(&self) -> usize {
        self.len()
    }
    fn key_position(&self, key: &[u8]) -> u64 {
        crate::Ring::key_position(self, key)
    }
    fn locate_hash(&self, position: u64) -> Option<&str> {
        crate::Ring::locate_hash(self, position)
    }
}
