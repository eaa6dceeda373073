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
        let position = self.key_position(key.as_ref());
        if n <= 16 {
            // One allocation: indices go to a stack buffer first.
            let mut idx = [0u32; 16];
            let count = self.walk(position, n, policy, &mut idx);
            idx[..count]
                .iter()
                .map(|&i| self.nodes[i as usize].id())
                .collect()
        } else {
            let mut out = Vec::new();
            self.locate_n_hash_into(position, n, policy, &mut out);
            out.into_iter()
                .map(|i| self.nodes[i as usize].id())
                .collect()
        }
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

    fn replica_limit(&self, n: usize, policy: ZonePolicy) -> usize {
        match policy {
            ZonePolicy::Any => self.nodes.len(),
            ZonePolicy::Distinct => self.zone_count as usize,
        }
        .min(n)
    }

    /// Walks clockwise collecting up to `n <= 16` replicas into `out`; returns how many.
    /// A linear scan of so few results is cheaper than a bitmap.
    fn walk(&self, position: u64, n: usize, policy: ZonePolicy, out: &mut [u32; 16]) -> usize {
        let len = self.points.len();
        if len == 0 {
            return 0;
        }
        let limit = self.replica_limit(n.min(16), policy);
        if limit == 0 {
            return 0;
        }
        let mut zones = [0u32; 16];
        let mut count = 0;
        let mut j = self.index.position(&self.points, position);
        for _ in 0..len {
            let o = self.owners[j];
            let taken = match policy {
                ZonePolicy::Any => out[..count].contains(&o),
                ZonePolicy::Distinct => {
                    let z = self.nodes[o as usize].zone_index;
                    zones[count] = z;
                    zones[..count].contains(&z)
                }
            };
            if !taken {
                out[count] = o;
                count += 1;
                if count == limit {
                    break;
                }
            }
            j += 1;
            if j == len {
                j = 0;
            }
        }
        count
    }
}
