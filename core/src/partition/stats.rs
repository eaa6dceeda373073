//! Balance and collision statistics of a partition table.

use alloc::vec;
use alloc::vec::Vec;

use super::{PartitionTable, NONE};

/// Balance and collision figures for a table (the source's figure 5 quantities).
#[derive(Debug, Clone, PartialEq)]
pub struct TableStats {
    /// Partition count `P`.
    pub partitions: u32,
    /// Partitions owned by each member, by member index.
    pub counts: Vec<u32>,
    /// Mean partitions per member (`P / n`).
    pub mean: f64,
    /// Population variance of the per-member counts.
    pub variance: f64,
    /// Standard deviation of the per-member counts.
    pub stddev: f64,
    /// Coefficient of variation (`stddev / mean`).
    pub cv: f64,
    /// Largest count divided by the mean.
    pub peak_to_mean: f64,
    /// The best achievable peak/mean for equal weights: `⌈P/n⌉ / (P/n)`.
    pub ideal_peak_to_mean: f64,
    /// Total vnode claims `x`.
    pub claims: u64,
    /// Claims that landed on an already-claimed partition (measured).
    pub collisions: u64,
    /// Predicted probability of at least one collision for `x` claims on `P` partitions.
    pub collision_probability: f64,
}

/// The source's birthday-collision approximation
/// `ε ≈ 1 − (N/(N−x))^(N−x+½) / e^x` for `x` claims on `N` partitions
/// (1 when `x ≥ N`, 0 when `x ≤ 1`).
pub fn collision_probability(partitions: u32, claims: u64) -> f64 {
    let (n, x) = (f64::from(partitions), claims as f64);
    if claims <= 1 {
        return 0.0;
    }
    if x >= n {
        return 1.0;
    }
    let log_ratio = (n - x + 0.5) * libm::log(n / (n - x)) - x;
    (1.0 - libm::exp(log_ratio)).clamp(0.0, 1.0)
}

impl PartitionTable {
    /// Balance and collision statistics.
    pub fn stats(&self) -> TableStats {
        let n = self.members.len();
        let mut counts = vec![0u32; n];
        for &o in &self.owners {
            if o != NONE {
                counts[o as usize] += 1;
            }
        }
        let p = f64::from(self.config.partitions);
        let (mean, variance, peak) = if n == 0 {
            (0.0, 0.0, 0.0)
        } else {
            let mean = p / n as f64;
            let var = counts
                .iter()
                .map(|&c| (f64::from(c) - mean) * (f64::from(c) - mean))
                .sum::<f64>()
                / n as f64;
            let peak = counts.iter().copied().max().unwrap_or(0);
            (mean, var, f64::from(peak))
        };
        let stddev = libm::sqrt(variance);
        let ratio = |x: f64| if mean > 0.0 { x / mean } else { 0.0 };
        TableStats {
            partitions: self.config.partitions,
            mean,
            variance,
            stddev,
            cv: ratio(stddev),
            peak_to_mean: ratio(peak),
            ideal_peak_to_mean: ratio(libm::ceil(mean)),
            counts,
            claims: self.claims,
            collisions: self.collisions,
            collision_probability: collision_probability(self.config.partitions, self.claims),
        }
    }

    /// Vnode (claim) count of each member, by member index.
    pub fn vnode_counts(&self) -> &[u32] {
        &self.vnode_counts
    }
}
