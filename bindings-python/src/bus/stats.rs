//! `BusStats` and `ReclaimReport`: read-only snapshots of a bus's counters.

use pyo3::prelude::*;
use shoal_core::native::bus::{BusStats as CoreStats, ReclaimReport as CoreReport};

/// Occupancy and counters of a bus (a snapshot: other processes keep going).
#[pyclass(module = "shoal._native", frozen, get_all)]
pub struct BusStats {
    /// Attached processes (live, or dead and not yet repaired).
    processes: u32,
    /// Live endpoints (queues, topics and subscriptions).
    endpoints: u32,
    /// Live producer → consumer lanes.
    lanes: u32,
    /// Descriptors or counters from shared memory that failed validation.
    corrupt: u64,
    /// Pool slots given back by crash repair, in all.
    reclaimed: u64,
    /// Messages discarded by the `"drop_oldest"` policy.
    dropped: u64,
    /// Crash repairs run.
    repairs: u64,
    /// Slots in the pool.
    total_slots: u64,
    /// Slots allocated now (unsent loans, messages in lanes or held by receivers).
    allocated_slots: u64,
    /// Bytes of all slots.
    total_slot_bytes: u64,
    /// Bytes of the allocated slots.
    allocated_slot_bytes: u64,
    /// Bytes asked for by the allocations holding slots.
    requested_bytes: u64,
    /// Allocated slot bytes / total slot bytes, in 0 ..= 1.
    utilization: f64,
    /// Allocated slots / total slots, in 0 ..= 1.
    occupancy: f64,
    /// 1 - requested bytes / allocated slot bytes (0 when nothing is allocated).
    fragmentation: f64,
    /// Per size class, smallest first: `(slot_size, count, allocated, requested_bytes)`.
    classes: Vec<(u32, u32, u32, u64)>,
}

impl From<CoreStats> for BusStats {
    fn from(s: CoreStats) -> Self {
        let p = s.pool;
        BusStats {
            processes: s.processes,
            endpoints: s.endpoints,
            lanes: s.lanes,
            corrupt: s.corrupt,
            reclaimed: s.reclaimed,
            dropped: s.dropped,
            repairs: s.repairs,
            total_slots: p.total_slots,
            allocated_slots: p.allocated_slots,
            total_slot_bytes: p.total_slot_bytes,
            allocated_slot_bytes: p.allocated_slot_bytes,
            requested_bytes: p.requested_bytes,
            utilization: p.utilization,
            occupancy: p.occupancy,
            fragmentation: p.fragmentation,
            classes: p
                .classes
                .iter()
                .map(|c| (c.slot_size, c.count, c.allocated, c.requested_bytes))
                .collect(),
        }
    }
}

#[pymethods]
impl BusStats {
    fn __repr__(&self) -> String {
        format!(
            "BusStats(processes={}, endpoints={}, lanes={}, allocated_slots={}/{}, \
             utilization={:.4}, reclaimed={}, repairs={}, dropped={}, corrupt={})",
            self.processes,
            self.endpoints,
            self.lanes,
            self.allocated_slots,
            self.total_slots,
            self.utilization,
            self.reclaimed,
            self.repairs,
            self.dropped,
            self.corrupt
        )
    }
}

/// What one crash repair (`Bus.reclaim`) did.
#[pyclass(module = "shoal._native", frozen, get_all)]
pub struct ReclaimReport {
    /// Dead processes whose records were released.
    dead_processes: u32,
    /// Pool slots returned to the free lists.
    reclaimed_slots: u64,
    /// Slots whose reference count was corrected but which are still in use.
    refcounts_fixed: u64,
    /// Endpoints closed because their consumer died.
    endpoints_closed: u32,
    /// Lanes released because both their ends are gone.
    lanes_released: u32,
    /// Dedicated segments of large messages removed because nobody holds them.
    large_unlinked: u64,
}

impl From<CoreReport> for ReclaimReport {
    fn from(r: CoreReport) -> Self {
        ReclaimReport {
            dead_processes: r.dead_processes,
            reclaimed_slots: r.reclaimed_slots,
            refcounts_fixed: r.refcounts_fixed,
            endpoints_closed: r.endpoints_closed,
            lanes_released: r.lanes_released,
            large_unlinked: r.large_unlinked,
        }
    }
}

#[pymethods]
impl ReclaimReport {
    fn __repr__(&self) -> String {
        format!(
            "ReclaimReport(dead_processes={}, reclaimed_slots={}, refcounts_fixed={}, \
             endpoints_closed={}, lanes_released={}, large_unlinked={})",
            self.dead_processes,
            self.reclaimed_slots,
            self.refcounts_fixed,
            self.endpoints_closed,
            self.lanes_released,
            self.large_unlinked
        )
    }
}
