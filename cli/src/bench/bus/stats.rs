//! Statistics over timing samples: percentiles of per-operation nanoseconds and the
//! median of repeated measurements. Pure arithmetic; no clocks here.

use serde::Serialize;

/// Percentiles and mean of a set of samples, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub samples: usize,
    /// Median (nearest rank).
    pub p50_ns: f64,
    /// 90th percentile (nearest rank).
    pub p90_ns: f64,
    /// 99th percentile (nearest rank).
    pub p99_ns: f64,
    /// Arithmetic mean.
    pub mean_ns: f64,
    /// Fastest sample.
    pub min_ns: f64,
    /// Slowest sample.
    pub max_ns: f64,
}

impl Summary {
    /// Sorts `samples` and summarizes them. `samples` must not be empty.
    pub fn of(samples: &mut [u64]) -> Summary {
        assert!(!samples.is_empty(), "summary of no samples");
        samples.sort_unstable();
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Summary {
            samples: samples.len(),
            p50_ns: percentile_sorted(samples, 50.0) as f64,
            p90_ns: percentile_sorted(samples, 90.0) as f64,
            p99_ns: percentile_sorted(samples, 99.0) as f64,
            mean_ns: sum as f64 / samples.len() as f64,
            min_ns: samples[0] as f64,
            max_ns: samples[samples.len() - 1] as f64,
        }
    }
}

/// The `p`-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank
/// method: the smallest sample such that at least `p`% of the samples are at or below it.
/// `p <= 0` gives the minimum. `sorted` must not be empty.
pub fn percentile_sorted(sorted: &[u64], p: f64) -> u64 {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let n = sorted.len();
    let rank = (p / 100.0 * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// Median of `values` (mean of the two middle values for an even count), plus the
/// minimum and maximum. `values` must not be empty.
pub fn median_min_max(values: &[f64]) -> (f64, f64, f64) {
    assert!(!values.is_empty(), "median of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_hundred() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_sorted(&v, 50.0), 50);
        assert_eq!(percentile_sorted(&v, 99.0), 99);
        assert_eq!(percentile_sorted(&v, 100.0), 100);
        assert_eq!(percentile_sorted(&v, 0.0), 1);
        assert_eq!(percentile_sorted(&v, 0.5), 1);
        assert_eq!(percentile_sorted(&v, 90.5), 91);
    }

    #[test]
    fn percentiles_of_small_and_single_sets() {
        assert_eq!(percentile_sorted(&[7], 50.0), 7);
        assert_eq!(percentile_sorted(&[7], 99.0), 7);
        // 1, 2, 3, 4: the median by nearest rank is the 2nd value, p99 the 4th.
        assert_eq!(percentile_sorted(&[1, 2, 3, 4], 50.0), 2);
        assert_eq!(percentile_sorted(&[1, 2, 3, 4], 99.0), 4);
    }

    #[test]
    fn summary_sorts_and_averages() {
        // 1000 samples of 100 ns with ten 10 µs outliers: p50 and p90 ignore them, p99
        // (the 990th value) is still 100, the mean and max see them.
        let mut v = vec![100u64; 990];
        v.extend([10_000u64; 10]);
        v.reverse();
        let s = Summary::of(&mut v);
        assert_eq!(s.samples, 1000);
        assert_eq!(s.p50_ns, 100.0);
        assert_eq!(s.p90_ns, 100.0);
        assert_eq!(s.p99_ns, 100.0);
        assert_eq!(s.min_ns, 100.0);
        assert_eq!(s.max_ns, 10_000.0);
        assert!((s.mean_ns - (990.0 * 100.0 + 10.0 * 10_000.0) / 1000.0).abs() < 1e-9);
        // One more outlier and p99 is an outlier.
        let mut w = vec![100u64; 989];
        w.extend([10_000u64; 11]);
        assert_eq!(Summary::of(&mut w).p99_ns, 10_000.0);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_min_max(&[5.0, 1.0, 3.0]), (3.0, 1.0, 5.0));
        assert_eq!(median_min_max(&[4.0, 1.0, 3.0, 2.0]), (2.5, 1.0, 4.0));
        assert_eq!(median_min_max(&[7.0]), (7.0, 7.0, 7.0));
    }
}
