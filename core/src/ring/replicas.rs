//! Replica placement: `n` distinct nodes (optionally in distinct zones) for a key,
//! walking clockwise from the key's position.

use alloc::vec::Vec;

use super::Ring;

/// Whether replicas must also be in distinct zones (failure domains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZonePolicy {
    /// Replicas are distinct nodes; zones are ignored.
    #[default]
    Any,
    /// Replicas are in distinct zones (a node without a zone is a zone of its own).
    Distinct,
}

impl Ring {
    /// Up to `n` distinct owners of `key`, primary first. Fewer than `n` only when the
    /// ring has fewer nodes.
    pub fn locate_n(&self, key: impl AsRef<[u8]>, n: usize) -> Vec<&str> {
        self.locate_n_with(key, n, ZonePolicy::Any)
    }

    /// Up to `n` owners of `key` under a zone policy, primary first. With
    /// [`ZonePolicy::Distinct`], fewer than `n` when there are fewer zones.
    pub fn locate_n_with(&self, key: impl AsRef<[u8]>, n: usize, policy: ZonePolicy) -> Vec<&str> {
        let mut out = Vec::with_capacity(n.min(self.len()));
        self.locate_n_hash_into(self.key_position(key.as_ref()), n, policy, &mut out);
        out.into_iter()
            .map(|i| self.nodes[i as usize].id())
            .collect()
    }

    /// Allocation-free form: clears `out` and fills it with up to `n` node indices for
    /// ring position `position`, primary first.
    pub fn locate_n_hash_into(
        &self,
        position: u64,
        n: usize,
        policy: ZonePolicy,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        let len = self.points.len();
        if len == 0 || n == 0 {
            return;
        }
        let limit = match policy {
            ZonePolicy::Any => self.nodes.len(),
            ZonePolicy::Distinct => self.zone_count as usize,
        }
        .min(n);
        let start = self.index.position(&self.points, position);
        if limit <= 16 {
            // Few replicas: a linear scan of the result is cheaper than a bitmap.
            let mut zones = [0u32; 16];
            for step in 0..len {
                let mut j = start + step;
                if j >= len {
                    j -= len;
                }
                let o = self.owners[j];
                let z = self.nodes[o as usize].zone_index;
                let taken = match policy {
                    ZonePolicy::Any => out.contains(&o),
                    ZonePolicy::Distinct => zones[..out.len()].contains(&z),
                };
                if !taken {
                    zones[out.len()] = z;
                    out.push(o);
                    if out.len() == limit {
                        return;
                    }
                }
            }
        } else {
            let mut seen = alloc::vec![false; self.nodes.len().max(self.zone_count as usize)];
            for step in 0..len {
                let j = (start + step) % len;
                let o = self.owners[j];
                let slot = match policy {
                    ZonePolicy::Any => o,
                    ZonePolicy::Distinct => self.nodes[o as usize].zone_index,
                } as usize;
                if !seen[slot] {
                    seen[slot] = true;
                    out.push(o);
                    if out.len() == limit {
                        return;
                    }
                }
            }
        }
    }
}
