//! Per-slot metadata and the slot-state algorithms (claim, retain, release).
//!
//! A slot's state is one `AtomicU64`: generation (high 32 bits) | refcount (low 32).
//! Refcount 0 means free. Every transition is one CAS that also checks the generation,
//! so a stale descriptor can never touch a reused slot: releasing the last reference
//! bumps the generation in the same CAS that drops the count to zero.

use super::freelist;
use super::sync::{AtomicU32, AtomicU64, Ordering};
use super::PoolError;

/// The 16 bytes of metadata per slot, as laid out in the region.
#[repr(C)]
pub(crate) struct SlotMeta {
    /// generation << 32 | refcount.
    pub(crate) state: AtomicU64,
    /// Free-list link: `index + 1` of the next free slot, 0 = none.
    pub(crate) link: AtomicU32,
    /// Bytes asked for by the allocation that holds the slot (for stats only).
    pub(crate) requested: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<SlotMeta>() == 16);

impl SlotMeta {
    /// A free slot at generation 0 (loom tests build their metadata with this).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        SlotMeta {
            state: AtomicU64::new(0),
            link: AtomicU32::new(0),
            requested: AtomicU32::new(0),
        }
    }
}

/// Packs a state word.
#[inline]
pub(crate) const fn state(generation: u32, refcount: u32) -> u64 {
    ((generation as u64) << 32) | refcount as u64
}

/// The generation of a state word.
#[inline]
pub(crate) const fn generation(state: u64) -> u32 {
    (state >> 32) as u32
}

/// The refcount of a state word.
#[inline]
pub(crate) const fn refcount(state: u64) -> u32 {
    state as u32
}

/// Why a retain or release was refused (the caller adds the descriptor's offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// The slot is at another generation.
    Stale {
        /// The slot's generation.
        current: u32,
    },
    /// The slot is free.
    NotAllocated,
    /// The refcount would overflow.
    Overflow {
        /// The refcount before.
        refcount: u32,
    },
}

impl StateError {
    /// The public error for a descriptor at `offset` with `generation`.
    pub(crate) fn at(self, offset: u64, generation: u32, add: u32) -> PoolError {
        match self {
            StateError::Stale { current } => PoolError::StaleGeneration {
                offset,
                generation,
                current,
            },
            StateError::NotAllocated => PoolError::NotAllocated { offset },
            StateError::Overflow { refcount } => PoolError::RefcountOverflow {
                offset,
                refcount,
                add,
            },
        }
    }
}

/// Checks a state word against a descriptor's generation: the slot must be at that
/// generation and allocated.
#[inline]
pub(crate) fn check(state: u64, generation: u32) -> Result<(), StateError> {
    if self::generation(state) != generation {
        Err(StateError::Stale {
            current: self::generation(state),
        })
    } else if refcount(state) == 0 {
        Err(StateError::NotAllocated)
    } else {
        Ok(())
    }
}

/// Pops a slot of one class and claims it with refcount 1: `Ok(Some((index, generation)))`,
/// or `Ok(None)` if the class has no free slot.
///
/// A popped slot whose state is not free is corruption: it is left alone (off the list,
/// for sweep) and `Err(Corrupt)` returned.
#[inline]
pub(crate) fn alloc(
    head: &AtomicU64,
    metas: &[SlotMeta],
    requested: u32,
) -> Result<Option<(u32, u32)>, PoolError> {
    let Some(index) = freelist::pop(head, metas)? else {
        return Ok(None);
    };
    let meta = &metas[index as usize];
    let current = meta.state.load(Ordering::Acquire);
    if refcount(current) != 0 {
        return Err(PoolError::Corrupt {
            what: "a slot on a free list has a nonzero refcount",
        });
    }
    let generation = generation(current);
    // We own the popped slot, so only a hostile writer can make this (strong) CAS fail.
    // Acquire pairs with the Release of the CAS that freed the slot: the previous
    // holders' accesses to the bytes happen before ours.
    if meta
        .state
        .compare_exchange(
            current,
            state(generation, 1),
            Ordering::AcqRel,
            Ordering::Relaxed,
        )
        .is_err()
    {
        return Err(PoolError::Corrupt {
            what: "a popped slot's state changed while it was being claimed",
        });
    }
    meta.requested.store(requested, Ordering::Relaxed);
    Ok(Some((index, generation)))
}

/// Adds `n` references to an allocated slot at `generation`; refuses (changing
/// nothing) if the slot is stale, free, or the count would overflow.
pub(crate) fn retain(state_word: &AtomicU64, generation: u32, n: u32) -> Result<(), StateError> {
    let mut current = state_word.load(Ordering::Acquire);
    loop {
        check(current, generation)?;
        if n == 0 {
            return Ok(());
        }
        let Some(count) = refcount(current).checked_add(n) else {
            return Err(StateError::Overflow {
                refcount: refcount(current),
            });
        };
        match state_word.compare_exchange_weak(
            current,
            state(generation, count),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Ok(()),
            Err(actual) => current = actual,
        }
    }
}

/// Drops one reference to slot `index` of a class at `generation`. When it was the last,
/// the same CAS bumps the generation (every copy of the descriptor is now stale), the
/// slot is pushed back on the class's free list and `Ok(true)` returned.
///
/// `index` must be below `metas.len()` (the caller derived it from a checked offset).
pub(crate) fn release(
    head: &AtomicU64,
    metas: &[SlotMeta],
    index: u32,
    generation: u32,
) -> Result<bool, StateError> {
    let meta = &metas[index as usize];
    let mut current = meta.state.load(Ordering::Acquire);
    loop {
        check(current, generation)?;
        let count = refcount(current);
        let (next, last) = if count == 1 {
            (state(generation.wrapping_add(1), 0), true)
        } else {
            (state(generation, count - 1), false)
        };
        // AcqRel: our accesses to the bytes happen before the next holder's (Release),
        // and the last releaser sees every other releaser's (Acquire).
        match meta
            .state
            .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if last {
                    freelist::push(head, meta, index);
                }
                return Ok(last);
            }
            Err(actual) => current = actual,
        }
    }
}
