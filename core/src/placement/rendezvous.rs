//! Weighted rendezvous (highest random weight) hashing: each key goes to the node with
//! the highest score `−wᵢ / ln(uᵢ)`, where `uᵢ ∈ (0,1)` is derived from the key hash and
//! the node id (Schindelhauer & Schomaker's logarithmic method). O(n) per lookup, no
//! memory beyond the node list, minimal movement for any change.

use alloc::string::String;
use alloc::vec::Vec;

use super::Placement;
use crate::error::{Error, Result};
use crate::hash;

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    weight: f64,
    seed: u64,
}

/// Weighted rendezvous hashing over a set of nodes.
#[derive(Debug, Clone, Default)]
pub struct Rendezvous {
    nodes: Vec<Entry>,
}

impl Rendezvous {
    /// An empty set.
    pub fn new() -> Self {
        Rendezvous::default()
    }

    /// Adds a node with a weight (finite, > 0).
    pub fn add(&mut self, id: impl Into<String>, weight: f64) -> Result<()> {
        let id = id.into();
        if !weight.is_finite() || weight <= 0.0 {
            return Err(Error::InvalidWeight { id, weight });
        }
        match self.nodes.binary_search_by(|e| e.id.cmp(&id)) {
            Ok(_) => Err(Error::DuplicateNode(id)),
            Err(at) => {
                let seed = hash::key_hash(id.as_bytes());
                self.nodes.insert(at, Entry { id, weight, seed });
                Ok(())
            }
        }
    }

    /// Removes a node.
    pub fn remove(&mut self, id: &str) -> Result<()> {
        let at = self
            .nodes
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .map_err(|_| Error::UnknownNode(id.into()))?;
        self.nodes.remove(at);
        Ok(())
    }

    /// The score of node `i` for a key hash: `−w / ln(u)`.
    /// Node ids, sorted (the index of an id here is its node index).
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> {
        self.nodes.iter().map(|e| e.id.as_str())
    }

    /// The node index of `id` (its place in [`Rendezvous::ids`]).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.binary_search_by(|e| e.id.as_str().cmp(id)).ok()
    }

    /// The weight of node `id`.
    pub fn weight_of(&self, id: &str) -> Option<f64> {
        self.index_of(id).map(|i| self.nodes[i].weight)
    }

    fn score(e: &Entry, position: u64) -> f64 {
        let x = hash::mix64(position ^ e.seed);
        // 53 random bits mapped into the open interval (0, 1).
        let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        -e.weight / libm::log(u)
    }
}

impl Placement for Rendezvous {
    fn algorithm(&self) -> &'static str {
        "rendezvous"
    }
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
    fn locate_hash(&self, position: u64) -> Option<&str> {
        let mut best: Option<(&Entry, f64)> = None;
        for e in &self.nodes {
            let s = Self::score(e, position);
            // Strictly greater: on an exact tie the smaller id (earlier) wins.
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((e, s));
            }
        }
        best.map(|(e, _)| e.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_shape_the_share() {
        let mut r = Rendezvous::new();
        r.add("light", 1.0).unwrap();
        r.add("heavy", 3.0).unwrap();
        let heavy = (0..40_000u64)
            .filter(|&i| r.locate_hash(hash::splitmix64(i)) == Some("heavy"))
            .count();
        let share = heavy as f64 / 40_000.0;
        assert!((share - 0.75).abs() < 0.02, "share {share}");
    }

    #[test]
    fn removal_moves_only_removed_keys() {
        let mut r = Rendezvous::new();
        for i in 0..8 {
            r.add(alloc::format!("n{i}"), 1.0 + i as f64 / 4.0).unwrap();
        }
        let before: Vec<_> = (0..5000u64)
            .map(|i| String::from(r.locate_hash(i * 7919).unwrap()))
            .collect();
        r.remove("n3").unwrap();
        for (i, b) in before.iter().enumerate() {
            let a = r.locate_hash(i as u64 * 7919).unwrap();
            assert!(b == "n3" || a == b);
        }
    }
}
