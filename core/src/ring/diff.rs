//! Ring comparison: which hash ranges change owner between two rings (a migration plan).

use alloc::vec::Vec;

use super::Ring;
use crate::error::{Error, Result};

/// 2^64 as a float, the size of the hash circle.
const SPACE: f64 = 18_446_744_073_709_551_616.0;

/// One hash range that changes owner: positions `h` with `start < h <= end` (wrapping
/// past `u64::MAX` when `start >= end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMove<'a> {
    /// Exclusive lower bound of the range.
    pub start: u64,
    /// Inclusive upper bound of the range.
    pub end: u64,
    /// Owner in the ring `diff` was called on.
    pub from: &'a str,
    /// Owner in the other ring.
    pub to: &'a str,
}

impl RangeMove<'_> {
    /// Fraction of the whole hash space this range covers.
    pub fn fraction(&self) -> f64 {
        let len = self.end.wrapping_sub(self.start);
        if len == 0 {
            1.0
        } else {
            len as f64 / SPACE
        }
    }

    /// Whether ring position `h` lies in this range.
    pub fn contains(&self, h: u64) -> bool {
        h.wrapping_sub(self.start).wrapping_sub(1) < self.end.wrapping_sub(self.start)
            || self.start == self.end
    }
}

/// The ranges that move from one ring to another, in ring order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MigrationPlan<'a> {
    /// Coalesced moved ranges.
    pub moves: Vec<RangeMove<'a>>,
}

impl MigrationPlan<'_> {
    /// Fraction of the hash space (and so, in expectation, of keys) that moves.
    pub fn fraction_moved(&self) -> f64 {
        self.moves.iter().map(RangeMove::fraction).sum()
    }

    /// Fraction of the hash space moving from `from` to `to` (either may be `None` for
    /// "any node").
    pub fn fraction_between(&self, from: Option<&str>, to: Option<&str>) -> f64 {
        self.moves
            .iter()
            .filter(|m| from.is_none_or(|f| f == m.from) && to.is_none_or(|t| t == m.to))
            .map(RangeMove::fraction)
            .sum()
    }
}

impl Ring {
    /// The hash ranges whose owner differs between `self` and `other`, with the owner on
    /// each side. Both rings must use the same scheme and be non-empty.
    pub fn diff<'a>(&'a self, other: &'a Ring) -> Result<MigrationPlan<'a>> {
        if self.scheme != other.scheme {
            return Err(Error::Incompatible("rings use different hash schemes"));
        }
        if self.points.is_empty() || other.points.is_empty() {
            return Err(Error::Empty);
        }
        // Every owner change happens at a point of one of the two rings: merge them.
        let mut bounds: Vec<u64> = Vec::with_capacity(self.points.len() + other.points.len());
        let (a, b) = (&self.points, &other.points);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = if j == b.len() || (i < a.len() && a[i] <= b[j]) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            if bounds.last() != Some(&next) {
                bounds.push(next);
            }
        }
        let mut moves: Vec<RangeMove<'a>> = Vec::new();
        let mut prev = bounds[bounds.len() - 1];
        for &bound in &bounds {
            let from = self.locate_hash(bound).unwrap_or_default();
            let to = other.locate_hash(bound).unwrap_or_default();
            if from != to {
                match moves.last_mut() {
                    Some(m) if m.end == prev && m.from == from && m.to == to => m.end = bound,
                    _ => moves.push(RangeMove {
                        start: prev,
                        end: bound,
                        from,
                        to,
                    }),
                }
            }
            prev = bound;
        }
        // The first and last range may be one range split at the wrap.
        if moves.len() > 1 {
            let (first, last) = (&moves[0], &moves[moves.len() - 1]);
            if last.end == first.start && last.from == first.from && last.to == first.to {
                let last = moves.pop().expect("len > 1");
                moves[0].start = last.start;
            }
        }
        Ok(MigrationPlan { moves })
    }
}
