//! Prefix index over the sorted points: O(1) expected lookup, and the O(n) bucket sort
//! that builds the layout.
//!
//! The 64-bit circle is cut into `2^bits` equal buckets (2–4 per point for small rings,
//! 1–2 for large ones, so the index stays cache-friendly). Two arrays share the buckets:
//!
//! * `lookup`: 4 bytes per bucket answering owner queries in one memory access when
//!   the bucket holds at most one point: the owner for hashes at or below the point,
//!   the owner for hashes above it (`owner_bits` each, just enough for the largest node
//!   index) and the top bits of the point's offset within the bucket (the remaining
//!   `31 − 2·owner_bits` bits; the top bit is 0). A bucket with more points (about 12 %
//!   of lookups at one bucket per point) stores its first point's position instead,
//!   with the top bit set: resolving it compares the next four points and picks among
//!   their owners without branches, with no second index access. Hashes whose truncated offset equals the point's,
//!   and rings whose node indices need more than 13 bits, fall back to `first`. Four
//!   bytes keep the answers of a 1000 × 160 ring in 1 MiB, the size of this machine's
//!   per-core L2.
//! * `first`: the position of the first point at or after each bucket's start, for
//!   callers that need a position (replica walks, bounded load). A scan from there
//!   passes over the (on average < 1) points in the bucket.
//!
//! Because points are uniform hashes, the same bucketing sorts them in linear time:
//! count per bucket, scatter, insertion-sort the tiny buckets.

use alloc::vec;
use alloc::vec::Vec;

/// Set in a [`Bucket`] holding two or more points: the other bits are the position of
/// its first point, where the scan starts.
const CROWDED: Bucket = 1 << 31;
/// Node indices needing more bits than this leave too few split bits: those rings scan.
const MAX_OWNER_BITS: u32 = 13;
/// Largest index: 2^21 buckets (16 MiB: 4-byte answers plus 4-byte positions).
const MAX_BITS: u32 = 21;
/// Rings up to this many points get 2–4 buckets per point, larger ones 1–2.
const DENSE_UNTIL: usize = 1 << 16;

/// Owner answer for one bucket, packed from the top: a 0 bit, the point's truncated
/// offset in the bucket (all ones when the bucket is empty), the owner for hashes at or
/// below the point, the owner above it. With [`CROWDED`] set: where to scan from.
type Bucket = u32;

#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixIndex {
    /// `64 − log2(bucket count)`: a hash's bucket is `h >> shift`.
    shift: u32,
    /// Bits per owner field in a [`Bucket`] (0 when `lookup` is unused).
    owner_bits: u32,
    /// One answer per bucket; empty when the owners need more than [`MAX_OWNER_BITS`].
    lookup: Vec<Bucket>,
    first: Vec<u32>,
}

fn bits_for(n: usize) -> u32 {
    let per_point = if n <= DENSE_UNTIL { 2 } else { 1 };
    (usize::BITS - (per_point * n - 1).leading_zeros()).clamp(1, MAX_BITS)
}

impl PrefixIndex {
    /// Builds the index for sorted `points` owned by `owners`.
    pub(crate) fn build(points: &[u64], owners: &[u32]) -> Self {
        let n = points.len();
        if n == 0 {
            return PrefixIndex::default();
        }
        let bits = bits_for(n);
        let shift = 64 - bits;
        let size = 1usize << bits;
        // first[b] = first point in bucket b (backwards, so the smallest index wins),
        // then empty buckets inherit the next bucket's start.
        let mut first = vec![n as u32; size + 1];
        for (j, &p) in points.iter().enumerate().rev() {
            first[(p >> shift) as usize] = j as u32;
        }
        // Branch-free: an empty bucket still holds n, which is above any later start.
        for b in (0..size).rev() {
            first[b] = first[b].min(first[b + 1]);
        }
        Self::finish(shift, first, points, owners)
    }

    /// Fills `lookup` from `first` (bucket starts, with a final `n`), then wraps `first`.
    fn finish(shift: u32, mut first: Vec<u32>, points: &[u64], owners: &[u32]) -> Self {
        let n = points.len();
        let size = first.len() - 1;
        let bits = 64 - shift;
        let largest = owners.iter().copied().max().unwrap_or(0);
        let owner_bits = (u32::BITS - largest.leading_zeros()).max(1);
        let mut lookup = Vec::new();
        // Crowded buckets store a position below CROWDED.
        if owner_bits <= MAX_OWNER_BITS && n < CROWDED as usize {
            let wrap = |j: usize| if j >= n { j - n } else { j };
            let split_bits = 31 - 2 * owner_bits;
            lookup.reserve_exact(size);
            for b in 0..size {
                let (lo, hi) = (first[b] as usize, first[b + 1] as usize);
                let count = hi - lo;
                // Written as selects, not branches: bucket counts are random.
                let below = owners[wrap(lo)];
                let above = owners[wrap(lo + count.min(1))];
                let at = offset(points[lo.min(n - 1)], bits, split_bits);
                let split = if count == 0 {
                    (CROWDED - 1) >> owner_bits >> owner_bits
                } else {
                    at
                };
                let e = (split << owner_bits << owner_bits) | (below << owner_bits) | above;
                lookup.push(if count >= 2 { CROWDED | lo as u32 } else { e });
            }
        }
        first.truncate(size);
        // Buckets after the last point wrap to the first point.
        for f in first.iter_mut().rev() {
            if *f as usize != n {
                break;
            }
            *f = 0;
        }
        PrefixIndex {
            shift,
            owner_bits: if lookup.is_empty() { 0 } else { owner_bits },
            lookup,
            first,
        }
    }

    /// Sorts `(point, owner)` entries by point then owner and builds the index.
    #[cfg(test)]
    pub(crate) fn sort_and_build(entries: &[(u64, u32)]) -> (Vec<u64>, Vec<u32>, Self) {
        Self::sort_and_build_with(entries.len(), || entries.iter().copied())
    }

    /// Sorts the entries produced by `make` (called twice; `n` is a size hint) by point
    /// then owner, and builds
    /// the index. Points are uniform hashes, so a two-level radix sort does it in linear
    /// time with sequential writes: the top 8 bits scatter the entries into 256 runs,
    /// each run (cache-sized) is scattered again by the next 8 bits, and an insertion
    /// sort fixes the remaining neighbours. (A one-pass counting sort on all index bits
    /// makes random writes into large arrays, which is slower here.)
    pub(crate) fn sort_and_build_with<I, F>(n: usize, make: F) -> (Vec<u64>, Vec<u32>, Self)
    where
        I: Iterator<Item = (u64, u32)>,
        F: Fn() -> I,
    {
        if n == 0 {
            return (Vec::new(), Vec::new(), PrefixIndex::default());
        }
        // `make` runs twice (count, then scatter): recomputing a hash is cheaper than
        // faulting in pages for a copy of every entry.
        let mut start = [0usize; 257];
        for (p, _) in make() {
            start[(p >> 56) as usize + 1] += 1;
        }
        for b in 0..256 {
            start[b + 1] += start[b];
        }
        let total = start[256];
        let mut cursor = start;
        let mut entries = vec![(0u64, 0u32); total];
        for e in make() {
            let slot = &mut cursor[(e.0 >> 56) as usize];
            entries[*slot] = e;
            *slot += 1;
        }
        // Within each run (small enough for L1/L2): counting sort on the next 8 bits,
        // then an insertion sort by (point, owner) that only fixes neighbours.
        let mut points = vec![0u64; total];
        let mut owners = vec![0u32; total];
        let mut tmp: Vec<(u64, u32)> = Vec::new();
        for b in 0..256 {
            let run = &entries[start[b]..start[b + 1]];
            let mut sub = [0usize; 257];
            for e in run {
                sub[((e.0 >> 48) & 0xFF) as usize + 1] += 1;
            }
            for k in 0..256 {
                sub[k + 1] += sub[k];
            }
            tmp.clear();
            tmp.resize(run.len(), (0, 0));
            for &e in run {
                let slot = &mut sub[((e.0 >> 48) & 0xFF) as usize];
                tmp[*slot] = e;
                *slot += 1;
            }
            for i in 1..tmp.len() {
                let mut k = i;
                while k > 0 && tmp[k - 1] > tmp[k] {
                    tmp.swap(k - 1, k);
                    k -= 1;
                }
            }
            for (i, &(p, o)) in tmp.iter().enumerate() {
                points[start[b] + i] = p;
                owners[start[b] + i] = o;
            }
        }
        drop(entries);
        let index = Self::build(&points, &owners);
        (points, owners, index)
    }

    /// Position of the first point `>= h`, wrapping to 0. `points` must be non-empty and
    /// the ones this index was built from.
    #[inline(always)]
    pub(crate) fn position(&self, points: &[u64], h: u64) -> usize {
        scan(points, self.first[(h >> self.shift) as usize] as usize, h)
    }

    /// Owner of the first point `>= h` (wrapping); one memory access for most `h`.
    #[inline(always)]
    pub(crate) fn owner(&self, points: &[u64], owners: &[u32], h: u64) -> u32 {
        let ob = self.owner_bits;
        if let Some(&e) = self.lookup.get((h >> self.shift) as usize) {
            if e & CROWDED == 0 {
                let split = e >> ob >> ob;
                let off = offset(h, 64 - self.shift, 31 - 2 * ob);
                if off != split {
                    let o = if off < split { e >> ob } else { e };
                    return o & ((1 << ob) - 1);
                }
            } else {
                let j = (e & !CROWDED) as usize;
                if let (Some(ps), Some(os)) = (points.get(j..j + 4), owners.get(j..j + 4)) {
                    // Without branches (where a hash falls in its bucket is random):
                    // the answer is the first of the next four points not below h.
                    let below = ps.iter().map(|&p| usize::from(p < h)).sum::<usize>();
                    // Copied out so the owners load alongside the points instead of
                    // after the comparisons.
                    let os = [os[0], os[1], os[2], os[3]];
                    if below < 4 {
                        return os[below];
                    }
                }
                return owners[scan(points, j, h)];
            }
        }
        owners[self.position(points, h)]
    }
}

/// Top `width` (1..=30) bits of `h`'s offset within its bucket (`bits` = log2 of the
/// bucket count).
#[inline(always)]
fn offset(h: u64, bits: u32, width: u32) -> u32 {
    ((h << bits) >> (64 - width)) as u32
}

#[inline(always)]
fn scan(points: &[u64], mut j: usize, h: u64) -> usize {
    while j < points.len() {
        if points[j] >= h {
            return j;
        }
        j += 1;
    }
    0
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

    fn check(points: &[u64], owners: &[u32], idx: &PrefixIndex, h: u64) {
        let r = reference(points, h);
        assert_eq!(idx.position(points, h), r, "h={h}");
        assert_eq!(idx.owner(points, owners, h), owners[r], "h={h}");
    }

    #[test]
    fn matches_binary_search() {
        let mut entries: Vec<(u64, u32)> = (0..1000u64)
            .map(|i| (crate::hash::splitmix64(i), (i % 7) as u32))
            .collect();
        entries.push((0, 3));
        entries.push((u64::MAX, 5));
        entries.push((entries[10].0, 6)); // a duplicate point with a larger owner
        let (points, owners, idx) = PrefixIndex::sort_and_build(&entries);
        let mut sorted = entries.clone();
        sorted.sort_unstable();
        assert_eq!(points, sorted.iter().map(|e| e.0).collect::<Vec<_>>());
        assert_eq!(owners, sorted.iter().map(|e| e.1).collect::<Vec<_>>());
        let rebuilt = PrefixIndex::build(&points, &owners);
        assert_eq!(rebuilt.lookup, idx.lookup);
        assert_eq!(rebuilt.first, idx.first);
        for i in 0..20_000u64 {
            check(
                &points,
                &owners,
                &idx,
                crate::hash::splitmix64(i + 7_000_000),
            );
        }
        for &p in &points {
            for h in [p.wrapping_sub(1), p, p.wrapping_add(1)] {
                check(&points, &owners, &idx, h);
            }
        }
    }

    fn check_many(entries: &[(u64, u32)], seed: u64) -> PrefixIndex {
        let (points, owners, idx) = PrefixIndex::sort_and_build(entries);
        for i in 0..20_000u64 {
            check(&points, &owners, &idx, crate::hash::splitmix64(i + seed));
        }
        for &p in &points {
            for h in [p.wrapping_sub(1), p, p.wrapping_add(1)] {
                check(&points, &owners, &idx, h);
            }
        }
        idx
    }

    #[test]
    fn owner_fields_at_the_widest_width() {
        // Owners up to 2^13 - 1: 13-bit owner fields, 5 split bits.
        let entries: Vec<(u64, u32)> = (0..20_000u64)
            .map(|i| (crate::hash::splitmix64(i), (i % 8192) as u32))
            .collect();
        let idx = check_many(&entries, 3_000_000);
        assert_eq!(idx.owner_bits, 13);
        assert!(!idx.lookup.is_empty());
        assert!(idx.lookup.iter().any(|&e| e & CROWDED != 0));
    }

    #[test]
    fn crowded_buckets_of_a_large_ring_scan_from_their_stored_position() {
        // Beyond DENSE_UNTIL points: one to two buckets per point, so about one
        // lookup in eight lands in a bucket holding two or more points.
        let mut entries: Vec<(u64, u32)> = (0..100_000u64)
            .map(|i| (crate::hash::splitmix64(i ^ 0x5eed), (i % 1000) as u32))
            .collect();
        // A bucket with more points than the branch-free step covers, and a crowded
        // bucket at the top of the circle (its answers wrap to the first point).
        entries.extend((0..6u64).map(|k| (0x1234_5678_0000_0000 + k * 1000, k as u32)));
        entries.extend((0..6u64).map(|k| (u64::MAX - 2 * k, 7 + k as u32)));
        let idx = check_many(&entries, 5_000_000);
        let crowded = idx.lookup.iter().filter(|&&e| e & CROWDED != 0).count();
        assert!(crowded > idx.lookup.len() / 20, "{crowded} crowded buckets");
    }

    #[test]
    fn owners_beyond_13_bits_fall_back_to_scan() {
        let mut entries: Vec<(u64, u32)> = (0..3000u64)
            .map(|i| (crate::hash::splitmix64(i), 9_000 + i as u32))
            .collect();
        // Two points whose in-bucket offsets agree in their top bits.
        entries.push((0x1234_5678_9abc_0000, 1));
        entries.push((0x1234_5678_9abc_0400, 2));
        let idx = check_many(&entries, 1_000_000);
        assert!(idx.lookup.is_empty());
    }

    #[test]
    fn single_point_and_duplicates() {
        let (points, owners, idx) = PrefixIndex::sort_and_build(&[(5, 0)]);
        check(&points, &owners, &idx, 0);
        check(&points, &owners, &idx, u64::MAX);
        let (points, owners, idx) =
            PrefixIndex::sort_and_build(&[(7, 2), (1 << 63, 0), (7, 1), (7, 0)]);
        assert_eq!(owners, [0, 1, 2, 0]);
        for h in [0, 7, 8, 1 << 63, (1 << 63) + 1, u64::MAX] {
            check(&points, &owners, &idx, h);
        }
    }
}
