//! Pool statistics, computed by scanning slot metadata.
//!
//! The hot path keeps no counters; [`Pool::stats`] reads every slot's state word and
//! requested length instead, so it costs one pass over the metadata and reports a
//! snapshot that concurrent allocations may already have changed.

use alloc::vec::Vec;

#[cfg(not(loom))]
use super::slot;
#[cfg(not(loom))]
use super::sync::Ordering;
#[cfg(not(loom))]
use super::Pool;

/// The numbers of one size class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// Bytes per slot.
    pub slot_size: u32,
    /// Slots in the class.
    pub count: u32,
    /// Slots currently allocated (refcount > 0).
    pub allocated: u32,
    /// Sum of the lengths asked for by the allocations holding those slots.
    pub requested_bytes: u64,
}

impl ClassStats {
    /// Bytes of all slots of the class.
    pub fn slot_bytes(&self) -> u64 {
        u64::from(self.slot_size) * u64::from(self.count)
    }

    /// Bytes of the allocated slots.
    pub fn allocated_bytes(&self) -> u64 {
        u64::from(self.slot_size) * u64::from(self.allocated)
    }

    /// Allocated slots / slots, in 0 ..= 1.
    pub fn occupancy(&self) -> f64 {
        ratio(u64::from(self.allocated), u64::from(self.count))
    }
}

/// A snapshot of a whole pool.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolStats {
    /// One entry per class, smallest first.
    pub classes: Vec<ClassStats>,
    /// Slots in all classes.
    pub total_slots: u64,
    /// Allocated slots in all classes.
    pub allocated_slots: u64,
    /// Bytes of all slots.
    pub total_slot_bytes: u64,
    /// Bytes of the allocated slots.
    pub allocated_slot_bytes: u64,
    /// Bytes asked for by the allocations holding slots.
    pub requested_bytes: u64,
    /// Allocated slot bytes / total slot bytes, in 0 ..= 1.
    pub utilization: f64,
    /// Allocated slots / total slots, in 0 ..= 1.
    pub occupancy: f64,
    /// Internal fragmentation: 1 - requested bytes / allocated slot bytes (0 when nothing
    /// is allocated), in 0 ..= 1.
    pub fragmentation: f64,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl PoolStats {
    /// Totals and ratios over per-class numbers.
    pub(crate) fn from_classes(classes: Vec<ClassStats>) -> PoolStats {
        let sum = |f: fn(&ClassStats) -> u64| classes.iter().map(f).sum::<u64>();
        let total_slots = sum(|c| u64::from(c.count));
        let allocated_slots = sum(|c| u64::from(c.allocated));
        let total_slot_bytes = sum(ClassStats::slot_bytes);
        let allocated_slot_bytes = sum(ClassStats::allocated_bytes);
        let requested_bytes = sum(|c| c.requested_bytes);
        let fragmentation = if allocated_slot_bytes == 0 {
            0.0
        } else {
            1.0 - ratio(requested_bytes, allocated_slot_bytes)
        };
        PoolStats {
            classes,
            total_slots,
            allocated_slots,
            total_slot_bytes,
            allocated_slot_bytes,
            requested_bytes,
            utilization: ratio(allocated_slot_bytes, total_slot_bytes),
            occupancy: ratio(allocated_slots, total_slots),
            fragmentation,
        }
    }
}

#[cfg(not(loom))]
impl Pool {
    /// Scans the metadata: per class, slot size, count, allocated slots and requested
    /// bytes; totals, utilization, occupancy and fragmentation. A requested length a peer
    /// corrupted beyond the slot size counts as the slot size.
    pub fn stats(&self) -> PoolStats {
        let classes = self
            .layout()
            .classes()
            .iter()
            .map(|class| {
                let mut stats = ClassStats {
                    slot_size: class.slot_size,
                    count: class.count,
                    allocated: 0,
                    requested_bytes: 0,
                };
                for meta in self.metas(class) {
                    if slot::refcount(meta.state.load(Ordering::Acquire)) != 0 {
                        stats.allocated += 1;
                        let requested = meta.requested.load(Ordering::Relaxed);
                        stats.requested_bytes += u64::from(requested.min(class.slot_size));
                    }
                }
                stats
            })
            .collect();
        PoolStats::from_classes(classes)
    }
}
