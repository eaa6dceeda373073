//! The random source of the protocol and the simulator: SplitMix64 seeded by the
//! caller.
//!
//! The core never reads an OS random source; the driver passes a seed (from the OS in
//! production, fixed in simulations and tests so runs replay exactly).

use crate::hash::mix64;

/// A small deterministic generator (SplitMix64). Not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_spread() {
        let mut r = Rng::new(7);
        let mut hist = [0u32; 10];
        for _ in 0..10_000 {
            hist[r.below(10)] += 1;
        }
        assert!(hist.iter().all(|&c| (800..1200).contains(&c)), "{hist:?}");
        let u = r.unit();
        assert!((0.0..1.0).contains(&u));
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
