//! Building the owner array: the classic claim sweep and the balancing pass.

use alloc::vec;
use alloc::vec::Vec;

use super::NONE;
use crate::hash;
use crate::ring::NodeSpec;

pub(super) struct Classic {
    pub owners: Vec<u32>,
    pub claims: u64,
    pub collisions: u64,
}

/// The source's scheme: member `m` claims `vnode_point(id, v) mod P` for each vnode; a
/// partition belongs to the nearest claimed partition at or before it, circularly.
/// Competing claims on one partition: smaller 64-bit point wins, then smaller member
/// index (members are sorted by id), so the result depends only on the member set.
pub(super) fn classic(partitions: u32, members: &[NodeSpec], vnodes: &[u32]) -> Classic {
    let p = partitions as usize;
    let mut best: Vec<(u64, u32)> = vec![(u64::MAX, NONE); p];
    let (mut claims, mut collisions) = (0u64, 0u64);
    for (m, (spec, &count)) in members.iter().zip(vnodes).enumerate() {
        for v in 0..count {
            let point = hash::vnode_point(spec.id.as_bytes(), v);
            let slot = &mut best[(point % u64::from(partitions)) as usize];
            claims += 1;
            if slot.1 != NONE {
                collisions += 1;
            }
            if (point, m as u32) < *slot || slot.1 == NONE {
                *slot = (point, m as u32);
            }
        }
    }
    let mut owners = vec![NONE; p];
    // Partitions before the first claim belong to the last claim (the circle wraps).
    if let Some(last) = best.iter().rev().find(|b| b.1 != NONE) {
        let mut current = last.1;
        for (o, b) in owners.iter_mut().zip(&best) {
            if b.1 != NONE {
                current = b.1;
            }
            *o = current;
        }
    }
    Classic {
        owners,
        claims,
        collisions,
    }
}

/// Score of member `seed` for partition `p`: a stable pseudo-random preference, so the
/// choice of which partitions a member keeps or receives barely changes when others
/// join or leave.
#[inline]
fn score(seed: u64, p: u32) -> u64 {
    hash::mix64(seed ^ u64::from(p).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Caps every member at `⌈P · wᵢ / W⌉` partitions.
///
/// 1. A member over its cap keeps the cap partitions it scores highest and releases the
///    rest.
/// 2. Released partitions, in ascending order, go to the member with room that scores
///    highest for them.
///
/// Capacities sum to at least `P`, so every partition finds a member. The peak is at most
/// `⌈P · wᵢ / W⌉`; partitions move only from over-full members, and the score-based
/// choices keep the assignment stable as membership changes.
pub(super) fn balance(partitions: u32, members: &[NodeSpec], mut owners: Vec<u32>) -> Vec<u32> {
    let n = members.len();
    if n == 0 {
        return owners;
    }
    let total: f64 = members.iter().map(|m| m.weight).sum();
    let cap: Vec<u32> = members
        .iter()
        .map(|m| libm::ceil(f64::from(partitions) * m.weight / total) as u32)
        .collect();
    let seeds: Vec<u64> = members
        .iter()
        .map(|m| hash::key_hash(m.id.as_bytes()))
        .collect();

    let mut held: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (p, &o) in owners.iter().enumerate() {
        held[o as usize].push(p as u32);
    }
    let mut released: Vec<u32> = Vec::new();
    let mut load: Vec<u32> = vec![0; n];
    for (m, parts) in held.iter_mut().enumerate() {
        let c = cap[m] as usize;
        if parts.len() > c {
            parts.sort_unstable_by_key(|&p| core::cmp::Reverse((score(seeds[m], p), p)));
            released.extend_from_slice(&parts[c..]);
            parts.truncate(c);
        }
        load[m] = parts.len() as u32;
    }
    released.sort_unstable();
    let mut open: Vec<usize> = (0..n).filter(|&m| load[m] < cap[m]).collect();
    for p in released {
        let (k, &m) = open
            .iter()
            .enumerate()
            .max_by_key(|&(_, &m)| (score(seeds[m], p), core::cmp::Reverse(m)))
            .expect("capacities sum to at least P");
        owners[p as usize] = m as u32;
        load[m] += 1;
        if load[m] == cap[m] {
            open.swap_remove(k);
        }
    }
    owners
}
