//! Prefix index over the sorted points: O(1) expected lookup.
//!
//! The 64-bit circle is cut into `2^bits` equal buckets (`bits` chosen so there are 2–4
//! buckets per point). Each bucket stores the position of the first point at or after
//! its start; a flag marks buckets that contain no point, whose answer needs no scan.
//! Other buckets scan forward over the (on average < 1) points they contain.

use alloc::vec::Vec;

/// Flag bit: the bucket holds no point, so its stored position is the answer.
const DIRECT: u32 = 1 << 31;
/// Cap on the index size (2^22 entries, 16 MiB) for very large rings.
const MAX_BITS: u32 = 22;

#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixIndex {
    shift: u32,
    buckets: Vec<u32>,
}

impl PrefixIndex {
    pub(crate) fn build(points: &[u64]) -> Self {
        let n = points.len();
        if n == 0 {
            return PrefixIndex::default();
        }
        // 2..4 buckets per point: next power of two >= 2n.
        let bits = (usize::BITS - (2 * n - 1).leading_zeros()).clamp(1, MAX_BITS);
        let shift = 64 - bits;
        let size = 1usize << bits;
        let mut buckets = Vec::with_capacity(size);
        let mut j = 0usize;
        for b in 0..size {
            let start = (b as u64) << shift;
            while j < n && points[j] < start {
                j += 1;
            }
            let end = start | ((1u64 << shift) - 1);
            let pos = if j == n { 0 } else { j };
            if j == n || points[j] > end {
                buckets.push(pos as u32 | DIRECT);
            } else {
                buckets.push(pos as u32);
            }
        }
        PrefixIndex { shift, buckets }
    }

    /// Position of the first point `>= h`, wrapping to 0. `points` must be non-empty and
    /// the one this index was built from.
    #[inline(always)]
    pub(crate) fn position(&self, points: &[u64], h: u64) -> usize {
        let e = self.buckets[(h >> self.shift) as usize];
        if e & DIRECT != 0 {
            return (e & !DIRECT) as usize;
        }
        let mut j = e as usize;
        while j < points.len() {
            if points[j] >= h {
                return j;
            }
            j += 1;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(points: &[u64], h: u64) -> usize {
        let p = points.partition_point(|&x| x < h);
        if p == points.len() {
            0
        } else {
            p
        }
    }

    #[test]
    fn matches_binary_search() {
        let mut points: Vec<u64> = (0..1000u64).map(crate::hash::splitmix64).collect();
        points.push(0);
        points.push(u64::MAX);
        points.sort_unstable();
        let idx = PrefixIndex::build(&points);
        for i in 0..20_000u64 {
            let h = crate::hash::splitmix64(i + 7_000_000);
            assert_eq!(idx.position(&points, h), reference(&points, h));
        }
        for &p in &points {
            for h in [p.wrapping_sub(1), p, p.wrapping_add(1)] {
                assert_eq!(idx.position(&points, h), reference(&points, h), "h={h}");
            }
        }
    }

    #[test]
    fn single_point_and_duplicates() {
        let points = [5u64];
        let idx = PrefixIndex::build(&points);
        assert_eq!(idx.position(&points, 0), 0);
        assert_eq!(idx.position(&points, u64::MAX), 0);
        let points = [7u64, 7, 7, 1 << 63];
        let idx = PrefixIndex::build(&points);
        assert_eq!(idx.position(&points, 7), 0);
        assert_eq!(idx.position(&points, 8), 3);
        assert_eq!(idx.position(&points, (1 << 63) + 1), 0);
    }
}
