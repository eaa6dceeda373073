//! Crash repair: bring a quiescent pool's free lists and refcounts back in line with the
//! references that still exist.
//!
//! A process that dies mid-operation can leave a slot popped but never marked, a slot
//! freed but never pushed, refcounts for references it will never release, or (if it
//! was hostile) a broken free list. [`Pool::sweep`] repairs all of these, but only while
//! nobody else touches the pool: it uses plain loads and stores, not the lock-free
//! protocol.

use alloc::vec;

use super::freelist;
use super::slot::{self, SlotMeta};
use super::sync::{AtomicU64, Ordering};
use super::{Pool, Slot};

/// What [`Pool::sweep`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Slots returned to their free lists: allocated slots nobody holds a reference to
    /// any more (their generation is bumped), and free slots that were on no list.
    pub reclaimed: u64,
    /// Allocated slots kept allocated whose refcount was set to the live count.
    pub refcounts_adjusted: u64,
    /// Free lists found broken (a cycle, a link out of range, an allocated slot on the
    /// list) and rebuilt from the slot states.
    pub lists_rebuilt: u32,
}

/// Walks a free list, marking the slots on it; `false` if the list is broken. At most
/// `count` steps: a slot seen twice is a cycle.
fn walk(head: &AtomicU64, metas: &[SlotMeta], on_list: &mut [bool]) -> bool {
    let mut top = freelist::top(head.load(Ordering::Acquire));
    while top != 0 {
        let index = (top - 1) as usize;
        let Some(meta) = metas.get(index) else {
            return false;
        };
        if on_list[index] || slot::refcount(meta.state.load(Ordering::Acquire)) != 0 {
            return false;
        }
        on_list[index] = true;
        top = meta.link.load(Ordering::Relaxed);
    }
    true
}

impl Pool {
    /// Crash repair, class by class:
    ///
    /// 1. Walks the free list (bounded by the slot count). A list with a cycle, a link out
    ///    of range, or an allocated slot on it is rebuilt from the slot states.
    /// 2. For every allocated slot not on the list, asks `live_refs` how many references
    ///    to it (at its current generation) the caller can still account for, and sets
    ///    the refcount to that; at 0 the slot is freed (generation bumped).
    /// 3. Free slots on no list (a process died between popping and claiming, or between
    ///    freeing and pushing) and slots freed in step 2 go back on the list; when any
    ///    did, the list is rebuilt, lowest index on top.
    ///
    /// `live_refs` is called once per allocated slot, never for free ones.
    ///
    /// # Safety
    /// No other thread or process operates on the pool during the sweep (the caller
    /// guarantees quiescence). Concurrent use would not be memory-unsafe (all accesses
    /// are atomic) but could corrupt the free lists; the function is `unsafe` to make
    /// callers state that promise.
    pub unsafe fn sweep(&self, live_refs: &mut dyn FnMut(&Slot) -> u32) -> SweepReport {
        let mut report = SweepReport::default();
        for (class_index, class) in self.layout().classes().iter().enumerate() {
            let head = self.head(class);
            let metas = self.metas(class);
            let mut on_list = vec![false; metas.len()];
            let intact = walk(head, metas, &mut on_list);
            if !intact {
                report.lists_rebuilt += 1;
            }
            let mut changed = !intact;
            for (index, meta) in metas.iter().enumerate() {
                if on_list[index] {
                    continue;
                }
                let state = meta.state.load(Ordering::Acquire);
                let generation = slot::generation(state);
                let refcount = slot::refcount(state);
                if refcount == 0 {
                    report.reclaimed += 1;
                    changed = true;
                    continue;
                }
                let slot = self.slot_at(class_index, index as u32, generation);
                let live = live_refs(&slot);
                if live == 0 {
                    meta.state.store(
                        slot::state(generation.wrapping_add(1), 0),
                        Ordering::Release,
                    );
                    report.reclaimed += 1;
                    changed = true;
                } else if live != refcount {
                    meta.state
                        .store(slot::state(generation, live), Ordering::Release);
                    report.refcounts_adjusted += 1;
                }
            }
            if changed {
                let tag = freelist::tag(head.load(Ordering::Relaxed));
                freelist::rebuild(head, metas, tag, |index| {
                    slot::refcount(metas[index as usize].state.load(Ordering::Relaxed)) == 0
                });
            }
        }
        report
    }
}
