//! Crash repair: gives back everything a dead process held.
//!
//! Run on attach, on demand ([`Bus::reclaim`](super::Bus::reclaim)) and from parked
//! waits every 100 ms. Repair raises the header's `recovery` word, waits until no live
//! process is inside an operation (see `procs.rs`), and then recounts every buffer's
//! references from the ground truth: entries in lanes plus the held tables of live
//! processes. Whatever a dead process held, or dropped half-way through a free-list or
//! lane operation, is counted zero and returns to the pool. Its endpoints close and its
//! lanes are marked so their other side finishes them.

use core::sync::atomic::Ordering;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::error::BusError;
use super::held::RESERVED;
use super::large::{self, FLAG_LARGE};
use super::layout::{View, FREE, LIVE};
use super::procs::{record_alive, wait_for_repair};
use super::registry::{attach_lane, endpoint_live, EndpointId, CONSUMER_GONE, PRODUCER_GONE};
use super::shared::Shared;
use crate::pool::Descriptor;

/// What one repair did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReclaimReport {
    /// Dead processes whose records were released.
    pub dead_processes: u32,
    /// Pool slots returned to the free lists.
    pub reclaimed_slots: u64,
    /// Slots whose reference count was corrected but which are still in use.
    pub refcounts_fixed: u64,
    /// Endpoints closed because their consumer died.
    pub endpoints_closed: u32,
    /// Lanes released because both their ends are gone.
    pub lanes_released: u32,
    /// Dedicated segments of large messages removed because nobody holds them.
    pub large_unlinked: u64,
}

/// How long repair waits for live processes to leave their current operation.
const QUIESCE_TIMEOUT: Duration = Duration::from_millis(500);

fn dead_processes(view: &View, me: u32) -> Vec<u32> {
    (0..view.layout.max_processes)
        .filter(|&i| {
            i != me
                && view
                    .proc(i)
                    .is_some_and(|r| r.state.load(Ordering::Acquire) == LIVE && !record_alive(r))
        })
        .collect()
}

impl Shared {
    /// Repairs after dead processes, if there are any.
    pub fn repair(&self) -> Result<ReclaimReport, BusError> {
        let view = &self.view;
        if dead_processes(view, self.me.index).is_empty() {
            return Ok(ReclaimReport::default());
        }
        let header = view.header();
        let token = self.me.token();
        if header
            .recovery
            .compare_exchange(0, token, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // Someone else is repairing; wait for them.
            wait_for_repair(view);
            return Ok(ReclaimReport::default());
        }
        let result = self.repair_quiescent();
        header.recovery.store(0, Ordering::SeqCst);
        result
    }

    fn repair_quiescent(&self) -> Result<ReclaimReport, BusError> {
        let view = &self.view;
        let dead = dead_processes(view, self.me.index);
        // Wait until no live process (this one's other threads included) is inside an
        // operation.
        let start = Instant::now();
        for i in 0..view.layout.max_processes {
            let Some(rec) = view.proc(i) else { break };
            if rec.state.load(Ordering::Acquire) != LIVE || dead.contains(&i) {
                continue;
            }
            while rec.in_op.load(Ordering::SeqCst) != 0 {
                if start.elapsed() > QUIESCE_TIMEOUT {
                    return Err(BusError::PeerStalled);
                }
                std::thread::yield_now();
            }
        }
        let mut report = ReclaimReport {
            dead_processes: dead.len() as u32,
            ..Default::default()
        };
        let dead_epochs: Vec<(u32, u32)> = dead
            .iter()
            .filter_map(|&i| Some((i, view.proc(i)?.epoch.load(Ordering::Relaxed))))
            .collect();
        let is_dead = |proc: u32, epoch: u32| dead_epochs.contains(&(proc, epoch));

        // Endpoints consumed by dead processes close.
        for i in 0..view.layout.max_endpoints {
            let Some(rec) = view.endpoint(i) else { break };
            if rec.state.load(Ordering::Acquire) == LIVE
                && is_dead(
                    rec.owner_proc.load(Ordering::Relaxed),
                    rec.owner_epoch.load(Ordering::Relaxed),
                )
            {
                rec.state.store(FREE, Ordering::Release);
                report.endpoints_closed += 1;
            }
        }

        // Lanes: mark the dead side, release lanes with no side left, and count the
        // references that lanes still carry.
        let mut refs: HashMap<u64, (u32, u32)> = HashMap::new();
        let mut large_refs: HashMap<u64, u32> = HashMap::new();
        let mut count = |words: [u64; 2]| {
            let d = Descriptor::decode(words);
            if d.flags & FLAG_LARGE != 0 {
                *large_refs.entry(d.offset).or_insert(0) += 1;
                return;
            }
            let e = refs.entry(d.offset).or_insert((d.generation, 0));
            if e.0 == d.generation {
                e.1 += 1;
            }
        };
        for i in 0..view.layout.max_lanes {
            let Some(rec) = view.lane_record(i) else {
                break;
            };
            if rec.state.load(Ordering::Acquire) != LIVE {
                continue;
            }
            let epoch = rec.epoch.load(Ordering::Relaxed);
            let Ok(handle) = attach_lane(view, i, epoch) else {
                // A damaged lane is dropped; its references are lost to the count and
                // therefore reclaimed.
                rec.state.store(FREE, Ordering::Release);
                report.lanes_released += 1;
                continue;
            };
            let lane = &handle.lane;
            if is_dead(
                rec.producer_proc.load(Ordering::Relaxed),
                rec.producer_epoch.load(Ordering::Relaxed),
            ) {
                lane.close(PRODUCER_GONE);
            }
            let consumer = EndpointId {
                index: rec.consumer.load(Ordering::Relaxed),
                epoch: rec.consumer_epoch.load(Ordering::Relaxed),
            };
            if !endpoint_live(view, consumer) {
                lane.close(CONSUMER_GONE);
            }
            if lane.closed() & (PRODUCER_GONE | CONSUMER_GONE) == PRODUCER_GONE | CONSUMER_GONE {
                while let Ok(Some(_)) = lane.pop() {}
                rec.state.store(FREE, Ordering::Release);
                report.lanes_released += 1;
                continue;
            }
            lane.for_each_entry(&mut count);
        }
        // Held tables of live processes.
        for i in 0..view.layout.max_processes {
            let Some(rec) = view.proc(i) else { break };
            if rec.state.load(Ordering::Acquire) != LIVE || dead.contains(&i) {
                continue;
            }
            for j in 0..view.layout.held_per_process {
                let Some(h) = view.held(i, j) else { break };
                let w0 = h[0].load(Ordering::Acquire);
                if w0 != 0 && w0 != RESERVED {
                    count([w0, h[1].load(Ordering::Relaxed)]);
                }
            }
        }
        // SAFETY: every live process is outside any operation (checked above) and
        // cannot enter one while `recovery` is set; dead ones do nothing.
        let sweep = unsafe {
            self.pool.sweep(&mut |slot| match refs.get(&slot.offset) {
                Some(&(generation, n)) if generation == slot.generation => n,
                _ => 0,
            })
        };
        report.reclaimed_slots = sweep.reclaimed;
        report.large_unlinked =
            large::repair(self, &|id| large_refs.get(&id).copied().unwrap_or(0));
        report.refcounts_fixed = sweep.refcounts_adjusted;

        // Finally release the dead processes' records.
        for &(i, _) in &dead_epochs {
            let Some(rec) = view.proc(i) else { continue };
            for j in 0..view.layout.held_per_process {
                if let Some(h) = view.held(i, j) {
                    h[0].store(0, Ordering::Relaxed);
                    h[1].store(0, Ordering::Relaxed);
                }
            }
            rec.in_op.store(0, Ordering::Relaxed);
            rec.state.store(FREE, Ordering::Release);
            view.header().users.fetch_sub(1, Ordering::AcqRel);
        }
        let header = view.header();
        header.repairs.fetch_add(1, Ordering::Relaxed);
        header
            .reclaimed
            .fetch_add(report.reclaimed_slots, Ordering::Relaxed);
        Ok(report)
    }
}
