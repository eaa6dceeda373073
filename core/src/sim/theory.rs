//! Reference curves for rumor spreading, to check the simulator against.

/// Rounds for a rumor to reach all `n` members by push with fanout 1:
/// `log2(n) + ln(n)` (Frieze–Grimmett, Pittel).
pub fn push_rounds(n: usize) -> f64 {
    let n = n.max(1) as f64;
    libm::log2(n) + libm::log(n)
}

/// Rounds until the expected number of uninformed members drops below one half, when
/// every member contacts `k` random others per round and each contact exchanges in
/// both directions (push-pull), each datagram lost with probability `loss`.
///
/// Mean-field recurrence on the uninformed fraction `u`:
/// `u' = u · (1 − (1−u)(1−loss)/n)^(k·n(1−u)) · (1 − (1−u)(1−loss)²)^k` — not pushed to
/// by any informed member, and none of its own `k` contacts informed and answering.
pub fn push_pull_rounds(n: usize, k: usize, loss: f64) -> f64 {
    let nf = n.max(2) as f64;
    let ok = 1.0 - loss;
    let mut u = 1.0 - 1.0 / nf;
    let mut rounds = 0.0;
    while u * nf >= 0.5 && rounds < 1000.0 {
        let informed = 1.0 - u;
        let pushed_not = libm::exp(-(k as f64) * informed * ok);
        let pull_not = libm::pow(1.0 - informed * ok * ok, k as f64);
        let next = u * pushed_not * pull_not;
        // Fractional last round, interpolated on log(u·n).
        if next * nf < 0.5 {
            let a = libm::log(u * nf);
            let b = libm::log(next * nf);
            rounds += (a - libm::log(0.5)) / (a - b);
            return rounds;
        }
        u = next;
        rounds += 1.0;
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_have_the_known_shape() {
        assert!((push_rounds(1024) - (10.0 + 6.931)).abs() < 0.01);
        let r = push_pull_rounds(10_000, 3, 0.1);
        assert!(r > 4.0 && r < 9.0, "{r}");
        assert!(push_pull_rounds(10_000, 3, 0.0) < r);
        assert!(push_pull_rounds(100_000, 3, 0.1) > r);
    }
}
