//! Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018).
//!
//! A key goes to the first node clockwise from its position whose load is below its
//! capacity `⌈(1+ε) · (m+1) · wᵢ / W⌉`, where `m` is the number of keys already placed
//! and `wᵢ / W` the node's share of the total weight. No node ever exceeds its capacity;
//! when every node is full (only possible for a zero-weight share) the lookup fails
//! with [`Error::NoCapacity`] instead of panicking.

use alloc::vec;
use alloc::vec::Vec;

use super::Ring;
use crate::error::{Error, Result};

impl Ring {
    /// Bounded-load lookup of a ring position given each node's current load (by node
    /// index). Returns the chosen node's index; the caller records the new load.
    pub fn locate_bounded_index(&self, position: u64, loads: &[u64], epsilon: f64) -> Result<u32> {
        if self.points.is_empty() {
            return Err(Error::Empty);
        }
        if loads.len() != self.nodes.len() {
            return Err(Error::LengthMismatch {
                expected: self.nodes.len(),
                got: loads.len(),
            });
        }
        if !epsilon.is_finite() || epsilon < 0.0 {
            return Err(Error::InvalidConfig("epsilon must be finite and >= 0"));
        }
        let placed: u64 = loads.iter().sum();
        let total_weight: f64 = self.nodes.iter().map(|n| n.weight()).sum();
        let scale = (1.0 + epsilon) * (placed as f64 + 1.0) / total_weight;
        let capacity = |i: usize| libm::ceil(scale * self.nodes[i].weight()) as u64;
        let len = self.points.len();
        let start = self.index.position(&self.points, position);
        for step in 0..len {
            let o = self.owners[(start + step) % len] as usize;
            if loads[o] < capacity(o) {
                return Ok(o as u32);
            }
        }
        Err(Error::NoCapacity {
            capacity: libm::ceil(scale * total_weight / self.nodes.len() as f64) as u64,
        })
    }

    /// Bounded-load lookup of a key; see [`Ring::locate_bounded_index`].
    pub fn locate_bounded(
        &self,
        key: impl AsRef<[u8]>,
        loads: &[u64],
        epsilon: f64,
    ) -> Result<&str> {
        let i = self.locate_bounded_index(self.key_position(key.as_ref()), loads, epsilon)?;
        Ok(self.nodes[i as usize].id())
    }
}

/// Tracks loads for bounded-load placement over a borrowed ring.
///
/// ```
/// use shoal_core::{BoundedLoad, Ring};
/// let ring = Ring::from_nodes(Default::default(), 160, ["a", "b", "c"]).unwrap();
/// let mut bl = BoundedLoad::new(&ring, 0.25).unwrap();
/// for i in 0..300u32 {
///     bl.assign(i.to_le_bytes()).unwrap();
/// }
/// assert!(bl.loads().iter().all(|&l| l <= 125)); // ⌈1.25 · 300 / 3⌉
/// ```
#[derive(Debug, Clone)]
pub struct BoundedLoad<'r> {
    ring: &'r Ring,
    loads: Vec<u64>,
    epsilon: f64,
}

impl<'r> BoundedLoad<'r> {
    /// Starts with every load at zero. `epsilon` must be finite and ≥ 0.
    pub fn new(ring: &'r Ring, epsilon: f64) -> Result<Self> {
        if !epsilon.is_finite() || epsilon < 0.0 {
            return Err(Error::InvalidConfig("epsilon must be finite and >= 0"));
        }
        Ok(BoundedLoad {
            ring,
            loads: vec![0; ring.len()],
            epsilon,
        })
    }

    /// Places a key and counts it against its node.
    pub fn assign(&mut self, key: impl AsRef<[u8]>) -> Result<&'r str> {
        let i = self.ring.locate_bounded_index(
            self.ring.key_position(key.as_ref()),
            &self.loads,
            self.epsilon,
        )?;
        self.loads[i as usize] += 1;
        Ok(self.ring.nodes()[i as usize].id())
    }

    /// Releases one unit of load from a node (when a key leaves).
    pub fn release(&mut self, id: &str) -> Result<()> {
        let i = self
            .ring
            .index_of(id)
            .ok_or_else(|| Error::UnknownNode(id.into()))?;
        self.loads[i] = self.loads[i].saturating_sub(1);
        Ok(())
    }

    /// Current loads by node index.
    pub fn loads(&self) -> &[u64] {
        &self.loads
    }
}
