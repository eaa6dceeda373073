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
    /// index), with the dynamic MTZ capacity. Returns the chosen node's index; the caller
    /// records the new load.
    pub fn locate_bounded_index(&self, position: u64, loads: &[u64], epsilon: f64) -> Result<u32> {
        self.check_loads(loads, epsilon)?;
        let placed: u64 = loads.iter().sum();
        let total_weight: f64 = self.nodes.iter().map(|n| n.weight()).sum();
        let scale = (1.0 + epsilon) * (placed as f64 + 1.0) / total_weight;
        self.first_with_room(position, loads, |i| {
            libm::ceil(scale * self.nodes[i].weight()) as u64
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

    fn check_loads(&self, loads: &[u64], epsilon: f64) -> Result<()> {
        if self.points.is_empty() {
            return Err(Error::Empty);
        }
        if loads.len() != self.nodes.len() {
            return Err(Error::LengthMismatch {
                expected: self.nodes.len(),
                got: loads.len(),
            });
        }
        check_epsilon(epsilon)
    }

    /// The first node clockwise from `position` whose load is below its capacity.
    fn first_with_room(
        &self,
        position: u64,
        loads: &[u64],
        capacity: impl Fn(usize) -> u64,
    ) -> Result<u32> {
        let len = self.points.len();
        let start = self.index.position(&self.points, position);
        for step in 0..len {
            let o = self.owners[(start + step) % len] as usize;
            if loads[o] < capacity(o) {
                return Ok(o as u32);
            }
        }
        let mean = (0..self.nodes.len()).map(&capacity).sum::<u64>() / self.nodes.len() as u64;
        Err(Error::NoCapacity { capacity: mean })
    }
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if !epsilon.is_finite() || epsilon < 0.0 {
        return Err(Error::InvalidConfig("epsilon must be finite and >= 0"));
    }
    Ok(())
}

/// Tracks loads for bounded-load placement over a borrowed ring.
///
/// Two capacity rules: [`BoundedLoad::new`] uses the dynamic MTZ capacity (grows with the
/// number of keys placed, so a key always fits); [`BoundedLoad::with_total`] fixes the
/// capacities up front from the number of keys expected, and [`BoundedLoad::assign`]
/// fails with [`Error::NoCapacity`] once every node is full.
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
    fixed: Option<Vec<u64>>,
}

impl<'r> BoundedLoad<'r> {
    /// Starts with every load at zero. `epsilon` must be finite and ≥ 0.
    pub fn new(ring: &'r Ring, epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        Ok(BoundedLoad {
            ring,
            loads: vec![0; ring.len()],
            epsilon,
            fixed: None,
        })
    }

    /// Fixed capacities `⌈(1+ε) · total · wᵢ / W⌉` for `total` expected keys.
    pub fn with_total(ring: &'r Ring, total: u64, epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        let weight: f64 = ring.nodes().iter().map(|n| n.weight()).sum();
        let caps = ring
            .nodes()
            .iter()
            .map(|n| libm::ceil((1.0 + epsilon) * total as f64 * n.weight() / weight) as u64)
            .collect();
        Ok(BoundedLoad {
            ring,
            loads: vec![0; ring.len()],
            epsilon,
            fixed: Some(caps),
        })
    }

    /// Places a key and counts it against its node. On error nothing is counted.
    pub fn assign(&mut self, key: impl AsRef<[u8]>) -> Result<&'r str> {
        let position = self.ring.key_position(key.as_ref());
        let i = match &self.fixed {
            None => self
                .ring
                .locate_bounded_index(position, &self.loads, self.epsilon)?,
            Some(caps) => {
                self.ring.check_loads(&self.loads, self.epsilon)?;
                self.ring
                    .first_with_room(position, &self.loads, |i| caps[i])?
            }
        };
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
