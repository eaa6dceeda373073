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
        let seed = hash::node_hash(spec.id.as_bytes());
        for v in 0..count {
            let point = hash::vnode_point_of(seed, v);
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

/// Score of member `seed` for partition `p`: a stable pseudo-random preference shared by
/// both sides of the matching below.
#[inline]
fn score(seed: u64, p: u32) -> u64 {
    hash::mix64(seed ^ u64::from(p).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Balanced mode: a stable matching of partitions to members with exact quotas.
///
/// * Quotas: member `i` may own `⌊P · wᵢ / W⌋` partitions, plus one for the members with
///   the largest remainders (ties: larger node hash) until the quotas sum to exactly `P`.
///   So the peak is `⌈P/n⌉` for equal weights, the best possible.
/// * Matching: every (member, partition) pair has a score; pairs are taken in descending
///   score order and a partition goes to the first member with quota left. With shared
///   scores this is the unique stable matching, so it depends only on the member set, and
///   a join or leave displaces only the partitions whose preferred members changed quota
///   (measured: 1.1–2.7× the ideal `P/(n+1)` partitions for 10–100 members, see
///   BENCHMARKS.md).
///
/// To stay fast for many members, each member proposes only its `4·quota + 16` best
/// partitions; the few partitions left over go, in ascending order, to the best-scoring
/// member with quota left.
pub(super) fn balanced(partitions: u32, members: &[NodeSpec]) -> Vec<u32> {
    let n = members.len();
    let mut owners = vec![NONE; partitions as usize];
    if n == 0 {
        return owners;
    }
    let seeds: Vec<u64> = members
        .iter()
        .map(|m| hash::node_hash(m.id.as_bytes()))
        .collect();
    let mut room = quotas(partitions, members, &seeds);
    let mut pairs: Vec<(u64, u32, u32)> = Vec::new();
    let mut scored: Vec<(u64, u32)> = Vec::with_capacity(partitions as usize);
    for (m, &seed) in seeds.iter().enumerate() {
        scored.clear();
        scored.extend((0..partitions).map(|p| (score(seed, p), p)));
        let k = (4 * room[m] as usize + 16).min(scored.len());
        if k < scored.len() {
            scored.select_nth_unstable_by(k, |a, b| b.cmp(a));
        }
        pairs.extend(scored[..k].iter().map(|&(s, p)| (s, m as u32, p)));
    }
    pairs.sort_unstable_by(|a, b| b.cmp(a));
    for (_, m, p) in pairs {
        if owners[p as usize] == NONE && room[m as usize] > 0 {
            owners[p as usize] = m;
            room[m as usize] -= 1;
        }
    }
    for p in 0..partitions {
        if owners[p as usize] == NONE {
            let m = (0..n)
                .filter(|&m| room[m] > 0)
                .max_by_key(|&m| (score(seeds[m], p), core::cmp::Reverse(m)))
                .expect("quotas sum to P");
            owners[p as usize] = m as u32;
            room[m] -= 1;
        }
    }
    owners
}

/// Largest-remainder quotas summing to exactly `partitions`.
fn quotas(partitions: u32, members: &[NodeSpec], seeds: &[u64]) -> Vec<u32> {
    let total: f64 = members.iter().map(|m| m.weight).sum();
    let exact: Vec<f64> = members
        .iter()
        .map(|m| f64::from(partitions) * m.weight / total)
        .collect();
    let mut q: Vec<u32> = exact.iter().map(|&e| libm::floor(e) as u32).collect();
    let assigned: u32 = q.iter().sum();
    let mut order: Vec<usize> = (0..members.len()).collect();
    let rem = |m: usize| exact[m] - libm::floor(exact[m]);
    order.sort_unstable_by(|&a, &b| {
        rem(b)
            .partial_cmp(&rem(a))
            .unwrap_or(core::cmp::Ordering::Equal)
            .then(seeds[b].cmp(&seeds[a]))
    });
    for &m in order
        .iter()
        .take(partitions.saturating_sub(assigned) as usize)
    {
        q[m] += 1;
    }
    q
}
