//! Jump consistent hash (Lamping & Veach 2014): no memory per node, perfect balance,
//! but nodes can only be added or removed at the end of the list.

use alloc::string::String;
use alloc::vec::Vec;

use super::Placement;
use crate::error::{Error, Result};

/// The bucket in `0..buckets` for a 64-bit key hash (`buckets` ≥ 1), as in the paper.
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// Jump hash over an ordered list of node ids.
#[derive(Debug, Clone, Default)]
pub struct JumpHash {
    nodes: Vec<String>,
}

impl JumpHash {
    /// An empty list.
    pub fn new() -> Self {
        JumpHash::default()
    }

    /// Appends a node (it becomes the last bucket).
    pub fn push(&mut self, id: impl Into<String>) -> Result<()> {
        let id = id.into();
        if self.nodes.contains(&id) {
            return Err(Error::DuplicateNode(id));
        }
        if self.nodes.len() >= u32::MAX as usize {
            return Err(Error::InvalidConfig(
                "jump hash supports at most 2^32 - 1 nodes",
            ));
        }
        self.nodes.push(id);
        Ok(())
    }

    /// Removes the last node. Jump hash cannot remove from the middle without moving
    /// keys of unrelated nodes; use a ring or a partition table for that.
    pub fn pop(&mut self) -> Option<String> {
        self.nodes.pop()
    }

    /// The nodes in bucket order.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }
}

impl Placement for JumpHash {
    fn algorithm(&self) -> &'static str {
        "jump"
    }
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
    fn locate_hash(&self, position: u64) -> Option<&str> {
        if self.nodes.is_empty() {
            return None;
        }
        Some(&self.nodes[jump_hash(position, self.nodes.len() as u32) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_paper_properties() {
        assert_eq!(jump_hash(12345, 1), 0);
        // Growing from n to n+1 buckets moves keys only to the new bucket.
        for k in 0..10_000u64 {
            let h = crate::hash::splitmix64(k);
            let a = jump_hash(h, 10);
            let b = jump_hash(h, 11);
            assert!(a == b || b == 10);
        }
    }
}
