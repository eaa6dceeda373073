//! `BusStats`, `ClassStats` and `ReclaimReport`: plain-object snapshots of a bus's
//! counters (numbers: every count fits a double exactly).

use napi_derive::napi;
use shoal_core::native::bus::{BusStats as CoreStats, ReclaimReport as CoreReport};

/// One size class of the pool.
#[napi(object)]
pub struct ClassStats {
    /// Bytes per slot.
    pub slot_size: u32,
    /// Slots in the class.
    pub count: u32,
    /// Slots allocated now.
    pub allocated: u32,
    /// Bytes asked for by the allocations holding them.
    pub requested_bytes: f64,
}

/// Occupancy and counters of a bus (a snapshot: other processes keep going).
#[napi(object)]
pub struct BusStats {
    /// Attached processes (live, or dead and not yet repaired).
    pub processes: u32,
    /// Live endpoints (queues, topics and subscriptions).
    pub endpoints: u32,
    /// Live producer → consumer lanes.
    pub lanes: u32,
    /// Descriptors or counters from shared memory that failed validation.
    pub corrupt: f64,
    /// Pool slots given back by crash repair, in all.
    pub reclaimed: f64,
    /// Messages discarded by the `"dropOldest"` policy.
    pub dropped: f64,
    /// Crash repairs run.
    pub repairs: f64,
    /// Slots in the pool.
    pub total_slots: f64,
    /// Slots allocated now (unsent loans, messages in lanes or held by receivers).
    pub allocated_slots: f64,
    /// Bytes of all slots.
    pub total_slot_bytes: f64,
    /// Bytes of the allocated slots.
    pub allocated_slot_bytes: f64,
    /// Bytes asked for by the allocations holding slots.
    pub requested_bytes: f64,
    /// Allocated slot bytes / total slot bytes, in 0 ..= 1.
    pub utilization: f64,
    /// Allocated slots / total slots, in 0 ..= 1.
    pub occupancy: f64,
    /// 1 − requested bytes / allocated slot bytes (0 when nothing is allocated).
    pub fragmentation: f64,
    /// Per size class, smallest first.
    pub classes: Vec<ClassStats>,
}

impl From<CoreStats> for BusStats {
    fn from(s: CoreStats) -> Self {
        let p = s.pool;
        BusStats {
            processes: s.processes,
            endpoints: s.endpoints,
            lanes: s.lanes,
            corrupt: s.corrupt as f64,
            reclaimed: s.reclaimed as f64,
            dropped: s.dropped as f64,
            repairs: s.repairs as f64,
            total_slots: p.total_slots as f64,
            allocated_slots: p.allocated_slots as f64,
            total_slot_bytes: p.total_slot_bytes as f64,
            allocated_slot_bytes: p.allocated_slot_bytes as f64,
            requested_bytes: p.requested_bytes as f64,
            utilization: p.utilization,
            occupancy: p.occupancy,
            fragmentation: p.fragmentation,
            classes: p
                .classes
                .iter()
                .map(|c| ClassStats {
                    slot_size: c.slot_size,
                    count: c.count,
                    allocated: c.allocated,
                    requested_bytes: c.requested_bytes as f64,
                })
                .collect(),
        }
    }
}

/// What one crash repair (`bus.reclaim()`) did.
#[napi(object)]
pub struct ReclaimReport {
    /// Dead processes whose records were released.
    pub dead_processes: u32,
    /// Pool slots returned to the free lists.
    pub reclaimed_slots: f64,
    /// Slots whose reference count was corrected but which are still in use.
    pub refcounts_fixed: f64,
    /// Endpoints closed because their consumer died.
    pub endpoints_closed: u32,
    /// Lanes released because both their ends are gone.
    pub lanes_released: u32,
    /// Dedicated segments of large messages removed because nobody holds them.
    pub large_unlinked: f64,
}

impl From<CoreReport> for ReclaimReport {
    fn from(r: CoreReport) -> Self {
        ReclaimReport {
            dead_processes: r.dead_processes,
            reclaimed_slots: r.reclaimed_slots as f64,
            refcounts_fixed: r.refcounts_fixed as f64,
            endpoints_closed: r.endpoints_closed,
            lanes_released: r.lanes_released,
            large_unlinked: r.large_unlinked as f64,
        }
    }
}
