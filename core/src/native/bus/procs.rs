//! Attached processes: registration, liveness, and the in-operation bracket that lets
//! crash repair find a quiescent moment.
//!
//! Every bus operation that moves a buffer reference (pool free list, lane, held table)
//! runs inside [`OpGuard`]: the process's `in_op` counter is raised (SeqCst) and the
//! header's `recovery` word checked. Repair sets `recovery` first and then waits until
//! every live process's counter is zero, so while it runs no live process is half-way
//! through moving a reference, and every reference is either in a lane, in a live
//! process's held table, or lost with a dead process. A process that died mid-operation
//! never lowers its counter; repair skips dead processes.

use core::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::error::BusError;
use super::layout::{claim, ProcRecord, View, LIVE};
use crate::native::shm::ProcessId;

/// This process's record in one bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Me {
    pub index: u32,
    pub epoch: u32,
}

impl Me {
    /// The value this process writes into `Header::recovery` while repairing.
    pub fn token(&self) -> u64 {
        (self.index as u64 + 1) | (self.epoch as u64) << 32
    }
}

/// Claims a free process record for `id`.
pub(crate) fn register(view: &View, id: ProcessId) -> Result<Me, BusError> {
    for i in 0..view.layout.max_processes {
        let Some(rec) = view.proc(i) else { break };
        let Some(epoch) = claim(view, &rec.state) else {
            continue;
        };
        rec.pid.store(id.pid, Ordering::Relaxed);
        rec.start_time.store(id.start_time, Ordering::Relaxed);
        rec.epoch.store(epoch, Ordering::Relaxed);
        rec.in_op.store(0, Ordering::Relaxed);
        for j in 0..view.layout.held_per_process {
            if let Some(h) = view.held(i, j) {
                h[0].store(0, Ordering::Relaxed);
                h[1].store(0, Ordering::Relaxed);
            }
        }
        rec.state.store(LIVE, Ordering::Release);
        return Ok(Me { index: i, epoch });
    }
    Err(BusError::Capacity(
        "attached processes (BusConfig::max_processes)",
    ))
}

/// Whether the process recorded in `rec` is still running (pid and start time match a
/// process that is not a zombie).
pub(crate) fn record_alive(rec: &ProcRecord) -> bool {
    let id = ProcessId {
        pid: rec.pid.load(Ordering::Relaxed),
        start_time: rec.start_time.load(Ordering::Relaxed),
    };
    id.pid != 0 && id.is_alive()
}

/// Whether process `index` with `epoch` is registered and running.
pub(crate) fn proc_alive(view: &View, index: u32, epoch: u32) -> bool {
    match view.proc(index) {
        Some(rec) => {
            rec.state.load(Ordering::Acquire) == LIVE
                && rec.epoch.load(Ordering::Relaxed) == epoch
                && record_alive(rec)
        }
        None => false,
    }
}

/// Inside a bus operation; lowers the in-op counter when dropped.
pub(crate) struct OpGuard<'a> {
    rec: &'a ProcRecord,
}

impl Drop for OpGuard<'_> {
    fn drop(&mut self) {
        self.rec.in_op.fetch_sub(1, Ordering::Release);
    }
}

/// Enters a bus operation, first waiting out any crash repair in progress (taking it
/// over from a repairer that died).
pub(crate) fn enter<'a>(view: &'a View, me: Me) -> OpGuard<'a> {
    // `me.index` was checked at registration.
    let rec = view.proc(me.index).expect("own process record");
    loop {
        rec.in_op.fetch_add(1, Ordering::SeqCst);
        let r = view.header().recovery.load(Ordering::SeqCst);
        if r == 0 {
            return OpGuard { rec };
        }
        rec.in_op.fetch_sub(1, Ordering::SeqCst);
        wait_for_repair(view);
    }
}

/// Waits until no repair is running; clears the flag of a repairer that died.
pub(crate) fn wait_for_repair(view: &View) {
    let header = view.header();
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        let r = header.recovery.load(Ordering::SeqCst);
        if r == 0 {
            return;
        }
        spins = spins.wrapping_add(1);
        if spins % 64 == 0 {
            std::thread::yield_now();
        } else {
            core::hint::spin_loop();
        }
        if start.elapsed() > Duration::from_millis(50) && spins % 1024 == 0 {
            let index = (r & 0xffff_ffff) as u32;
            let epoch = (r >> 32) as u32;
            let repairer_alive = index
                .checked_sub(1)
                .is_some_and(|i| proc_alive(view, i, epoch));
            if !repairer_alive {
                let _ = header
                    .recovery
                    .compare_exchange(r, 0, Ordering::SeqCst, Ordering::SeqCst);
            }
            if start.elapsed() > Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}
