//! Load-driven reweighting: suggest weights that move observed load toward a target.

use alloc::vec::Vec;

use super::Ring;
use crate::error::{Error, Result};

/// Largest factor one suggestion may change a weight by (up or down).
const MAX_STEP: f64 = 2.0;

impl Ring {
    /// Suggests new weights from observed per-node loads (by node index).
    ///
    /// `targets` gives each node's desired share of the load (relative numbers, e.g. the
    /// capacities 100/80/120/60); `None` means equal shares. Each weight is multiplied by
    /// `(target share / observed share)^damping`, clamped to a factor of 2 either way, and
    /// the result is rescaled so the total weight is unchanged. `damping` in `(0, 1]`:
    /// 1 corrects fully in one step, smaller values converge more gently under noise.
    pub fn suggest_weights(
        &self,
        loads: &[f64],
        targets: Option<&[f64]>,
        damping: f64,
    ) -> Result<Vec<f64>> {
        let n = self.nodes.len();
        if n == 0 {
            return Err(Error::Empty);
        }
        if loads.len() != n {
            return Err(Error::LengthMismatch {
                expected: n,
                got: loads.len(),
            });
        }
        if let Some(t) = targets {
            if t.len() != n {
                return Err(Error::LengthMismatch {
                    expected: n,
                    got: t.len(),
                });
            }
            if t.iter().any(|x| !x.is_finite() || *x <= 0.0) {
                return Err(Error::InvalidConfig("targets must be finite and > 0"));
            }
        }
        if loads.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(Error::InvalidConfig("loads must be finite and >= 0"));
        }
        if !(damping > 0.0 && damping <= 1.0) {
            return Err(Error::InvalidConfig("damping must be in (0, 1]"));
        }
        let total_load: f64 = loads.iter().sum();
        if total_load == 0.0 {
            return Ok(self.nodes.iter().map(|n| n.weight()).collect());
        }
        let target_sum: f64 = targets.map_or(n as f64, |t| t.iter().sum());
        let old_sum: f64 = self.nodes.iter().map(|n| n.weight()).sum();
        let mut new: Vec<f64> = (0..n)
            .map(|i| {
                let want = targets.map_or(1.0, |t| t[i]) / target_sum;
                let got = loads[i] / total_load;
                let factor = if got == 0.0 {
                    MAX_STEP
                } else {
                    libm::pow(want / got, damping).clamp(1.0 / MAX_STEP, MAX_STEP)
                };
                self.nodes[i].weight() * factor
            })
            .collect();
        let new_sum: f64 = new.iter().sum();
        for w in &mut new {
            *w *= old_sum / new_sum;
        }
        Ok(new)
    }
}
