//! The lock-free free list of one size class (a Treiber stack of slot indices).
//!
//! The head is one `AtomicU64`: the high 32 bits are a tag incremented by every
//! successful CAS (the ABA guard), the low 32 bits are `index + 1` of the top slot
//! (0 = empty). Each slot's `link` holds `index + 1` of the slot below it (0 = bottom).
//! This module owns only the list discipline; whether a popped slot is really free is
//! [`slot`](super::slot)'s check. Everything read from the head or a link is validated
//! before it is used as an index.

use super::slot::SlotMeta;
use super::sync::{AtomicU64, Ordering};
use super::PoolError;

/// Packs a head word.
#[inline]
pub(crate) const fn pack(tag: u32, top_plus_one: u32) -> u64 {
    ((tag as u64) << 32) | top_plus_one as u64
}

/// The tag of a head word.
#[inline]
pub(crate) const fn tag(head: u64) -> u32 {
    (head >> 32) as u32
}

/// `index + 1` of the top slot of a head word (0 = empty).
#[inline]
pub(crate) const fn top(head: u64) -> u32 {
    head as u32
}

/// Pops the top slot's index, or `Ok(None)` if the list is empty.
///
/// `metas` are the class's slots (its length is the slot count). A head or link that
/// names no slot of the class is `Err(Corrupt)` (only after re-reading the head, so a
/// concurrent change is retried rather than reported).
pub(crate) fn pop(head: &AtomicU64, metas: &[SlotMeta]) -> Result<Option<u32>, PoolError> {
    let count = metas.len();
    let mut current = head.load(Ordering::Acquire);
    loop {
        let top = top(current);
        if top == 0 {
            return Ok(None);
        }
        let index = top - 1;
        let Some(meta) = metas.get(index as usize) else {
            let again = head.load(Ordering::Acquire);
            if again != current {
                current = again;
                continue;
            }
            return Err(PoolError::Corrupt {
                what: "a free-list head names a slot past the class's slot count",
            });
        };
        // The pusher wrote this link before its Release CAS on the head, which our
        // Acquire load (or the release sequence it reads from) synchronizes with. If the
        // slot has been popped and pushed again since, the tag makes our CAS fail.
        let next = meta.link.load(Ordering::Relaxed);
        if next as usize > count {
            let again = head.load(Ordering::Acquire);
            if again != current {
                current = again;
                continue;
            }
            return Err(PoolError::Corrupt {
                what: "a free-list link names a slot past the class's slot count",
            });
        }
        let new = pack(tag(current).wrapping_add(1), next);
        match head.compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(Some(index)),
            Err(actual) => current = actual,
        }
    }
}

/// Pushes slot `index` (whose metadata is `meta`) on the list.
///
/// The caller owns the slot (it has just freed it or never handed it out); the link is
/// written before the Release CAS that publishes it.
pub(crate) fn push(head: &AtomicU64, meta: &SlotMeta, index: u32) {
    let mut current = head.load(Ordering::Relaxed);
    loop {
        meta.link.store(top(current), Ordering::Relaxed);
        let new = pack(tag(current).wrapping_add(1), index.wrapping_add(1));
        match head.compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// Makes the list hold exactly the slots for which `free(index)` is true, lowest index
/// on top. Only for exclusive use (init, or a quiescent sweep): plain stores, no CAS.
/// The tag keeps counting from `tag` so a stale head held anywhere can never match.
pub(crate) fn rebuild(head: &AtomicU64, metas: &[SlotMeta], tag: u32, free: impl Fn(u32) -> bool) {
    let mut top = 0u32;
    for index in (0..metas.len() as u32).rev() {
        if free(index) {
            metas[index as usize].link.store(top, Ordering::Relaxed);
            top = index + 1;
        }
    }
    head.store(pack(tag.wrapping_add(1), top), Ordering::Release);
}
