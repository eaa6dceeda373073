//! Timing: calibrated batches over a rotating window of the shared keys, reported as the
//! median nanoseconds per operation.
//!
//! Every per-key measurement first calibrates how many keys fit in one batch of the target
//! duration (so a 5 ns lookup and a 1 ms replica call are both timed over batches of
//! similar length), runs one untimed warm-up batch, then times `batches` batches. Batch
//! `b` uses the keys that follow batch `b - 1`, wrapping around the key set, so fast
//! operations cover every key and slow ones still walk through the same shared keys.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Timed batches per measurement (the median is taken over these).
    pub batches: usize,
    /// Target wall time of one per-key batch.
    pub batch_target: Duration,
    /// Upper bound on the timed part of one build measurement; a build measurement makes
    /// at most `batches` and at least `min_builds` timed builds.
    pub build_budget: Duration,
    /// Fewest timed builds, however slow one build is.
    pub min_builds: usize,
}

/// The outcome of one measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Median over the batches of (batch time / operations in the batch), in ns.
    pub median_ns: f64,
    /// Fastest batch, ns per operation.
    pub min_ns: f64,
    /// Slowest batch, ns per operation.
    pub max_ns: f64,
    /// Number of timed batches.
    pub batches: usize,
    /// Operations per batch.
    pub ops_per_batch: usize,
}

/// Times `f` once per key. `keys` must not be empty.
pub fn per_key<F: FnMut(&str)>(keys: &[String], budget: &Budget, mut f: F) -> Sample {
    let total = keys.len();
    assert!(total > 0, "per_key needs at least one key");
    // Calibration (doubles as warm-up): grow the run until it takes 1/16 of a batch.
    let mut n = 1usize;
    let per_op = loop {
        let t = Instant::now();
        run_window(keys, 0, n, &mut f);
        let dt = t.elapsed();
        if dt * 16 >= budget.batch_target || n == total {
            break dt.as_nanos() as f64 / n as f64;
        }
        n = (n * 2).min(total);
    };
    let target = budget.batch_target.as_nanos() as f64;
    let len = ((target / per_op.max(0.01)).ceil() as usize).clamp(1, total);
    let mut start = 0usize;
    run_window(keys, start, len, &mut f);
    let mut times = Vec::with_capacity(budget.batches);
    for _ in 0..budget.batches.max(1) {
        start = (start + len) % total;
        let t = Instant::now();
        run_window(keys, start, len, &mut f);
        times.push(t.elapsed().as_nanos() as f64 / len as f64);
    }
    summarize(times, len)
}

/// Times whole calls of `f` (one call per batch) and returns the last result. Results are
/// dropped outside the timed region, so deallocation is not counted. The first call is an
/// untimed warm-up, except when it alone used up the budget and `min_builds <= 1`: then it
/// is the one sample (so a very slow build is made only once).
pub fn per_call<T, F: FnMut() -> T>(budget: &Budget, mut f: F) -> (Sample, T) {
    let t = Instant::now();
    let mut last = black_box(f());
    let first = t.elapsed();
    if first >= budget.build_budget && budget.min_builds <= 1 {
        return (summarize(vec![first.as_nanos() as f64], 1), last);
    }
    let fit = (budget.build_budget.as_nanos() / first.as_nanos().max(1)) as usize;
    let calls = fit.clamp(
        budget.min_builds.max(1),
        budget.batches.max(budget.min_builds).max(1),
    );
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let out = f();
        let dt = t.elapsed();
        drop(std::mem::replace(&mut last, black_box(out)));
        times.push(dt.as_nanos() as f64);
    }
    (summarize(times, 1), last)
}

/// Runs `f` on `len` keys starting at `start`, wrapping around.
#[inline(always)]
fn run_window<F: FnMut(&str)>(keys: &[String], start: usize, len: usize, f: &mut F) {
    let end = start + len;
    if end <= keys.len() {
        for k in &keys[start..end] {
            f(black_box(k.as_str()));
        }
    } else {
        for k in &keys[start..] {
            f(black_box(k.as_str()));
        }
        for k in &keys[..end - keys.len()] {
            f(black_box(k.as_str()));
        }
    }
}

/// Median (mean of the two middle values for an even count), min and max.
pub fn median(values: &mut [f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    if values.len() % 2 == 1 {
        values[m]
    } else {
        (values[m - 1] + values[m]) / 2.0
    }
}

fn summarize(mut times: Vec<f64>, ops_per_batch: usize) -> Sample {
    let median_ns = median(&mut times);
    Sample {
        median_ns,
        min_ns: times[0],
        max_ns: times[times.len() - 1],
        batches: times.len(),
        ops_per_batch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [7.0]), 7.0);
    }

    #[test]
    fn per_key_visits_keys_in_rotating_windows() {
        let keys: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let budget = Budget {
            batches: 4,
            batch_target: Duration::from_millis(1),
            build_budget: Duration::from_millis(1),
            min_builds: 1,
        };
        let mut seen = [0u32; 10];
        let s = per_key(&keys, &budget, |k| {
            seen[k.parse::<usize>().unwrap()] += 1;
            std::thread::sleep(Duration::from_micros(300));
        });
        assert_eq!(s.batches, 4);
        assert!(s.ops_per_batch >= 1 && s.ops_per_batch <= 10);
        assert!(s.min_ns <= s.median_ns && s.median_ns <= s.max_ns);
        // Each op sleeps >= 300 µs.
        assert!(s.median_ns >= 300_000.0, "{s:?}");
        // Every key was used at least once (calibration starts at key 0, windows rotate).
        assert!(seen.iter().sum::<u32>() >= 5 * s.ops_per_batch as u32);
    }

    #[test]
    fn per_call_respects_min_builds_and_returns_the_last_result() {
        let budget = Budget {
            batches: 15,
            batch_target: Duration::from_millis(1),
            build_budget: Duration::from_micros(1),
            min_builds: 3,
        };
        let mut calls = 0;
        let (s, last) = per_call(&budget, || {
            calls += 1;
            std::thread::sleep(Duration::from_millis(1));
            calls
        });
        assert_eq!(s.batches, 3);
        assert_eq!(calls, 4); // one untimed warm-up + 3 timed
        assert_eq!(last, 4);
        assert!(s.median_ns >= 1_000_000.0);

        // A single allowed build that exhausts the budget is made once.
        let one = Budget {
            min_builds: 1,
            ..budget
        };
        let mut calls = 0;
        let (s, last) = per_call(&one, || {
            calls += 1;
            std::thread::sleep(Duration::from_millis(1));
            calls
        });
        assert_eq!((s.batches, calls, last), (1, 1, 1));
        assert!(s.median_ns >= 1_000_000.0);
    }
}
