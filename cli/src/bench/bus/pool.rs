//! In-process, single-threaded cost of one allocation plus one release: shoal's pool on
//! a heap region (the standard class table), and the system allocator for reference.

use std::alloc::{self, Layout};
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::Instant;

use serde::Serialize;
use shoal_core::pool::{Pool, PoolConfig};

use super::stats::median_min_max;

/// Batches of alloc+free pairs.
#[derive(Debug, Clone, Copy)]
pub struct PoolPlan {
    /// Timed batches (the median is over these).
    pub batches: usize,
    /// Pairs per batch.
    pub pairs: usize,
}

/// One measured allocator and size.
#[derive(Debug, Clone, Serialize)]
pub struct PoolRow {
    /// What was timed.
    pub what: String,
    /// Bytes requested.
    pub size: usize,
    /// Median over batches of ns per alloc+free pair.
    pub ns_per_pair: f64,
    /// Fastest batch, ns per pair.
    pub min_ns: f64,
    /// Slowest batch, ns per pair.
    pub max_ns: f64,
    /// Timed batches.
    pub batches: usize,
    /// Pairs per batch.
    pub pairs_per_batch: usize,
    /// Whether this is shoal (the others are for reference).
    pub shoal: bool,
}

/// A 64-byte aligned heap region, freed on drop.
struct Region {
    base: NonNull<u8>,
    layout: Layout,
}

impl Region {
    fn new(len: usize) -> Result<Region, Box<dyn std::error::Error>> {
        let layout = Layout::from_size_align(len, shoal_core::pool::ALIGN)?;
        // SAFETY: `len` is the pool's required size, which is never 0.
        let ptr = unsafe { alloc::alloc(layout) };
        let base = NonNull::new(ptr).ok_or("out of memory for the pool region")?;
        Ok(Region { base, layout })
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the `Pool` on it is gone (it lives
        // in a block inside the region's scope).
        unsafe { alloc::dealloc(self.base.as_ptr(), self.layout) }
    }
}

/// Times `batch()` (which performs `plan.pairs` pairs) once untimed, then
/// `plan.batches` times.
fn time_batches(
    plan: &PoolPlan,
    mut batch: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    batch()?;
    let mut per_pair = Vec::with_capacity(plan.batches);
    for _ in 0..plan.batches.max(1) {
        let t = Instant::now();
        batch()?;
        per_pair.push(t.elapsed().as_nanos() as f64 / plan.pairs.max(1) as f64);
    }
    Ok(median_min_max(&per_pair))
}

fn row(what: &str, size: usize, plan: &PoolPlan, m: (f64, f64, f64), shoal: bool) -> PoolRow {
    PoolRow {
        what: what.to_owned(),
        size,
        ns_per_pair: m.0,
        min_ns: m.1,
        max_ns: m.2,
        batches: plan.batches.max(1),
        pairs_per_batch: plan.pairs,
        shoal,
    }
}

/// `Pool::alloc(size)` then `Pool::release` of its descriptor, for each size, then the
/// system allocator's `alloc` + `dealloc` of the same sizes.
pub fn measure(
    plan: &PoolPlan,
    sizes: &[usize],
) -> Result<Vec<PoolRow>, Box<dyn std::error::Error>> {
    let cfg = PoolConfig::standard();
    let len = Pool::required_size(&cfg)?;
    let region = Region::new(len)?;
    let mut rows = Vec::new();
    {
        // SAFETY: the region is `len` bytes, 64-byte aligned, used by nothing else, and
        // outlives `pool` (which ends with this block).
        let pool = unsafe { Pool::init(region.base, len, &cfg)? };
        for &size in sizes {
            let m = time_batches(plan, || {
                for _ in 0..plan.pairs {
                    let slot = pool.alloc(black_box(size))?;
                    let d = black_box(slot.descriptor(size as u32, 0));
                    pool.release(&d)?;
                }
                Ok(())
            })?;
            rows.push(row("shoal pool alloc + release", size, plan, m, true));
        }
    }
    drop(region);
    for &size in sizes {
        let layout = Layout::from_size_align(size, 8)?;
        let m = time_batches(plan, || {
            for _ in 0..plan.pairs {
                // SAFETY: `size` is not 0; the pointer is freed with the same layout.
                unsafe {
                    let p = black_box(alloc::alloc(layout));
                    if p.is_null() {
                        return Err("system allocator failed".into());
                    }
                    alloc::dealloc(p, layout);
                }
            }
            Ok(())
        })?;
        rows.push(row(
            "system allocator alloc + dealloc",
            size,
            plan,
            m,
            false,
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_is_timed_for_both_allocators() {
        let plan = PoolPlan {
            batches: 3,
            pairs: 100,
        };
        let rows = measure(&plan, &[64, 4096]).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows.iter().map(|r| (r.size, r.shoal)).collect::<Vec<_>>(),
            [(64, true), (4096, true), (64, false), (4096, false)]
        );
        for r in &rows {
            assert!(
                r.min_ns <= r.ns_per_pair && r.ns_per_pair <= r.max_ns,
                "{r:?}"
            );
            assert!(r.ns_per_pair > 0.0);
        }
    }
}
