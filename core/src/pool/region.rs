//! [`Pool`]: the process-local handle on a pool region, and [`Slot`].
//!
//! This file owns the casts from region bytes to atomics and the mapping between
//! descriptors (offsets) and (class, index). The algorithms it runs are in `freelist` and
//! `slot`; stats and sweep add their own `impl Pool` blocks.

use core::ptr::NonNull;

use super::descriptor::Descriptor;
use super::layout::{self, field, ClassLayout, Layout, RawHeader};
use super::slot::{self, SlotMeta};
use super::sync::{AtomicU32, AtomicU64, Ordering};
use super::{freelist, PoolConfig, PoolError, ALIGN, MAX_CLASSES};

/// A slot the caller holds a reference to (plain data; copying it adds no reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Size-class index.
    pub class: u8,
    /// Index of the slot within its class.
    pub index: u32,
    /// Offset of the slot's first byte from the region base.
    pub offset: u64,
    /// Bytes in the slot (its class's slot size).
    pub capacity: u32,
    /// The slot's generation while this reference is held.
    pub generation: u32,
}

impl Slot {
    /// A descriptor for `len` bytes of this slot (`len` should not exceed `capacity`;
    /// [`Pool::validate`] rejects one that does).
    pub fn descriptor(&self, len: u32, flags: u8) -> Descriptor {
        Descriptor {
            offset: self.offset,
            len,
            generation: self.generation,
            flags,
        }
    }
}

/// A process-local handle on a pool region: its base address, its length and a validated
/// copy of its class table. All shared state lives in the region; cloning the handle is
/// a plain copy.
#[derive(Clone, Debug)]
pub struct Pool {
    base: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: a `Pool` is an address plus immutable, validated local data. Every access to
// the region goes through atomics (`AtomicU64`/`AtomicU32` in `SlotMeta`, free-list heads
// and header words), so concurrent use from several threads is data-race free; the
// region outliving every handle is the caller's promise to `init`/`attach`.
unsafe impl Send for Pool {}
// SAFETY: as for `Send`: `&Pool` only performs atomic operations on the region.
unsafe impl Sync for Pool {}

/// An atomic `u64` at byte offset `offset` of a region.
///
/// # Safety
/// `offset + 8 <= len` of a region valid for `'a` (the `Pool` contract), `base + offset`
/// aligned to 8, and the memory initialized.
unsafe fn atomic_u64<'a>(base: NonNull<u8>, offset: usize) -> &'a AtomicU64 {
    // SAFETY: in bounds, aligned and initialized per this function's contract;
    // `AtomicU64` has the size and alignment of `u64` and interior mutability, so other
    // handles (and processes) may access the same word concurrently.
    unsafe { &*base.as_ptr().add(offset).cast::<AtomicU64>() }
}

/// An atomic `u32` at byte offset `offset` of a region.
///
/// # Safety
/// As [`atomic_u64`], with 4 bytes and alignment 4.
unsafe fn atomic_u32<'a>(base: NonNull<u8>, offset: usize) -> &'a AtomicU32 {
    // SAFETY: as in `atomic_u64`.
    unsafe { &*base.as_ptr().add(offset).cast::<AtomicU32>() }
}

fn check_base(base: NonNull<u8>, len: usize, needed: usize) -> Result<(), PoolError> {
    let addr = base.as_ptr() as usize;
    if addr % ALIGN != 0 {
        return Err(PoolError::BaseMisaligned { addr });
    }
    if len < needed {
        return Err(PoolError::RegionTooSmall {
            needed: needed as u64,
            len,
        });
    }
    Ok(())
}

// `len` is the region's length, and a pool region is never empty.
#[allow(clippy::len_without_is_empty)]
impl Pool {
    /// Bytes a region needs for `cfg`: header, one free-list head line per class, 16 bytes
    /// of metadata per slot (per class, rounded up to `ALIGN`) and the slots. A multiple
    /// of [`ALIGN`].
    pub fn required_size(cfg: &PoolConfig) -> Result<usize, PoolError> {
        Ok(Layout::compute(&cfg.classes)?.total)
    }

    /// Formats the region: the header (magic, version, class table), every free list
    /// (lowest index on top), every slot free at generation 0. Slot bytes are left as
    /// they are.
    ///
    /// # Safety
    /// `base` is valid for reads and writes of `len` bytes, aligned to [`ALIGN`], for as
    /// long as this `Pool`, any clone of it, or any `Pool` attached to the same memory
    /// exists; nobody else uses the memory during `init`.
    pub unsafe fn init(base: NonNull<u8>, len: usize, cfg: &PoolConfig) -> Result<Pool, PoolError> {
        let layout = Layout::compute(&cfg.classes)?;
        check_base(base, len, layout.total)?;
        // SAFETY: `meta_end <= total <= len` and nobody else uses the memory during init,
        // so zeroing the header and metadata (which makes every atomic we will form
        // initialized) is a plain exclusive write in bounds.
        unsafe { core::ptr::write_bytes(base.as_ptr(), 0, layout.meta_end) };
        // SAFETY: all header offsets are below `HEADER_SIZE <= meta_end <= len`, aligned
        // (the base is ALIGN-aligned and each offset is a multiple of the field's size),
        // and initialized just above.
        unsafe {
            atomic_u32(base, field::VERSION).store(layout::VERSION, Ordering::Relaxed);
            atomic_u32(base, field::CLASS_COUNT)
                .store(layout.class_count as u32, Ordering::Relaxed);
            atomic_u64(base, field::TOTAL).store(layout.total as u64, Ordering::Relaxed);
            for (i, class) in layout.classes().iter().enumerate() {
                let entry = field::CLASSES + 8 * i;
                atomic_u32(base, entry).store(class.slot_size, Ordering::Relaxed);
                atomic_u32(base, entry + 4).store(class.count, Ordering::Relaxed);
            }
        }
        let pool = Pool { base, len, layout };
        for class in pool.layout.classes() {
            freelist::rebuild(pool.head(class), pool.metas(class), 0, |_| true);
        }
        // The magic goes last, with Release: a peer that sees it sees a formatted region.
        // SAFETY: as above.
        unsafe { atomic_u64(base, field::MAGIC).store(layout::MAGIC, Ordering::Release) };
        Ok(pool)
    }

    /// Attaches to a region formatted by [`init`](Self::init), possibly by another
    /// process at another address. Checks the magic, the version, the class table, and
    /// that the layout it implies fits in `len` bytes.
    ///
    /// # Safety
    /// As for `init`, except that the memory is already formatted and may be in use by
    /// other handles (in this or other processes).
    pub unsafe fn attach(base: NonNull<u8>, len: usize) -> Result<Pool, PoolError> {
        check_base(base, len, layout::HEADER_SIZE)?;
        // SAFETY: the header lies within the first `HEADER_SIZE <= len` bytes; offsets
        // are aligned to their field sizes; the memory is initialized (the contract).
        let header = unsafe {
            let mut classes = [(0u32, 0u32); MAX_CLASSES];
            for (i, class) in classes.iter_mut().enumerate() {
                let entry = field::CLASSES + 8 * i;
                *class = (
                    atomic_u32(base, entry).load(Ordering::Relaxed),
                    atomic_u32(base, entry + 4).load(Ordering::Relaxed),
                );
            }
            RawHeader {
                magic: atomic_u64(base, field::MAGIC).load(Ordering::Acquire),
                version: atomic_u32(base, field::VERSION).load(Ordering::Relaxed),
                class_count: atomic_u32(base, field::CLASS_COUNT).load(Ordering::Relaxed),
                total: atomic_u64(base, field::TOTAL).load(Ordering::Relaxed),
                classes,
            }
        };
        let layout = layout::check_header(&header, len)?;
        Ok(Pool { base, len, layout })
    }

    /// Allocates a slot for `len` bytes from the smallest class whose slots hold `len`
    /// (`len` 0 uses the smallest class), falling through to larger classes when that
    /// one is exhausted. The slot's refcount is 1 and `len` is recorded for stats.
    ///
    /// Errors: [`PoolError::TooLarge`] if `len` exceeds the largest class,
    /// [`PoolError::Exhausted`] if no class that could hold it has a free slot,
    /// [`PoolError::Corrupt`] if a free list is found inconsistent.
    pub fn alloc(&self, len: usize) -> Result<Slot, PoolError> {
        let classes = self.layout.classes();
        // Slot sizes are strictly increasing: the first class that fits. (A linear scan:
        // small classes come first and are the common case; it measured faster than
        // bisection.)
        let Some(first) = classes.iter().position(|c| c.slot_size as usize >= len) else {
            return Err(PoolError::TooLarge {
                len,
                max: classes.last().map_or(0, |c| c.slot_size),
            });
        };
        // `len` fits in the class's u32 slot size here.
        let requested = len as u32;
        for (i, class) in classes.iter().enumerate().skip(first) {
            if let Some((index, generation)) =
                slot::alloc(self.head(class), self.metas(class), requested)?
            {
                return Ok(Slot {
                    class: i as u8,
                    index,
                    offset: (class.slots + ((index as usize) << class.shift)) as u64,
                    capacity: class.slot_size,
                    generation,
                });
            }
        }
        Err(PoolError::Exhausted { len })
    }

    /// Pointer to the first byte of `slot`'s data; `slot.capacity` bytes from there are
    /// in the region.
    ///
    /// The address is recomputed from `slot.class` and `slot.index` (not `offset`), so it
    /// is inside the region even for a forged `Slot`: an unknown class or an index past
    /// the class's count yields the start of the slot data (the first slot of class 0).
    /// Reading or writing through it is the caller's (unsafe) business: the pool hands
    /// out bytes, not exclusive access.
    pub fn slot_ptr(&self, slot: &Slot) -> NonNull<u8> {
        let offset = match self.layout.classes().get(slot.class as usize) {
            Some(class) if slot.index < class.count => {
                class.slots + ((slot.index as usize) << class.shift)
            }
            _ => self.layout.classes[0].slots,
        };
        // SAFETY: `offset < total <= len`, so the pointer is within the region (whose
        // base is non-null) and cannot be null.
        unsafe { NonNull::new_unchecked(self.base.as_ptr().add(offset)) }
    }

    /// Checks a descriptor (typically read from shared memory) and returns its slot: the
    /// offset must be a slot start in some class's slot area ([`PoolError::OutOfBounds`],
    /// [`PoolError::Misaligned`]), `len` at most the slot size ([`PoolError::TooLong`]),
    /// the generation the slot's current one ([`PoolError::StaleGeneration`]) and the
    /// slot allocated ([`PoolError::NotAllocated`]).
    ///
    /// The answer is a snapshot: the slot stays valid only while the caller holds one of
    /// its references.
    pub fn validate(&self, d: &Descriptor) -> Result<Slot, PoolError> {
        let (class, index) = self.locate(d)?;
        let layout = &self.layout.classes[class];
        let state = self.metas(layout)[index as usize]
            .state
            .load(Ordering::Acquire);
        slot::check(state, d.generation).map_err(|e| e.at(d.offset, d.generation, 0))?;
        Ok(Slot {
            class: class as u8,
            index,
            offset: d.offset,
            capacity: layout.slot_size,
            generation: d.generation,
        })
    }

    /// Adds `n` references to the slot `d` names (for fan-out: one per extra receiver).
    /// Fails without changing anything if `d` is invalid, stale or names a free slot, or
    /// if the refcount would overflow.
    pub fn retain(&self, d: &Descriptor, n: u32) -> Result<(), PoolError> {
        let (class, index) = self.locate(d)?;
        let layout = &self.layout.classes[class];
        slot::retain(&self.metas(layout)[index as usize].state, d.generation, n)
            .map_err(|e| e.at(d.offset, d.generation, n))
    }

    /// Drops one reference to the slot `d` names. When that was the last, the slot's
    /// generation is bumped (every outstanding copy of `d` is now stale), the slot goes
    /// back on its free list, and the result is `Ok(true)`.
    ///
    /// A stale or double release (and any invalid descriptor) is an error and changes
    /// nothing.
    pub fn release(&self, d: &Descriptor) -> Result<bool, PoolError> {
        let (class, index) = self.locate(d)?;
        let layout = &self.layout.classes[class];
        slot::release(self.head(layout), self.metas(layout), index, d.generation)
            .map_err(|e| e.at(d.offset, d.generation, 0))
    }

    /// The region base.
    pub fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// The region length this handle was created with (at least the layout's size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Number of size classes.
    pub fn class_count(&self) -> usize {
        self.layout.class_count
    }

    /// The slot size of `class`, or `None` past the last class.
    pub fn slot_size(&self, class: u8) -> Option<u32> {
        self.layout
            .classes()
            .get(class as usize)
            .map(|c| c.slot_size)
    }

    /// (class, index) of the slot a descriptor's offset names, with the length checked
    /// against the slot size. The state is not looked at.
    fn locate(&self, d: &Descriptor) -> Result<(usize, u32), PoolError> {
        let offset = d.offset;
        // Slot areas are laid out in class order, so the first area ending past the
        // offset is the only candidate.
        let classes = self.layout.classes();
        let Some(class) = classes.iter().position(|c| offset < c.slots_end as u64) else {
            return Err(PoolError::OutOfBounds { offset });
        };
        if offset < classes[class].slots as u64 {
            return Err(PoolError::OutOfBounds { offset });
        }
        let layout = &self.layout.classes[class];
        let relative = offset - layout.slots as u64;
        if relative & u64::from(layout.slot_size - 1) != 0 {
            return Err(PoolError::Misaligned {
                offset,
                slot_size: layout.slot_size,
            });
        }
        if d.len > layout.slot_size {
            return Err(PoolError::TooLong {
                len: d.len,
                capacity: layout.slot_size,
            });
        }
        Ok((class, (relative >> layout.shift) as u32))
    }

    /// The validated layout.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A class's free-list head.
    pub(crate) fn head(&self, class: &ClassLayout) -> &AtomicU64 {
        // SAFETY: `class` comes from this pool's validated layout, so `head + 8 <= total
        // <= len`; the offset is a multiple of ALIGN; the header area was initialized by
        // `init` (and stays so: the region is only written through atomics).
        unsafe { atomic_u64(self.base, class.head) }
    }

    /// A class's slot metadata (one entry per slot).
    pub(crate) fn metas(&self, class: &ClassLayout) -> &[SlotMeta] {
        // SAFETY: `class` comes from this pool's validated layout: `count` entries of 16
        // bytes from `meta` lie below `meta_end <= len`; `meta` is a multiple of ALIGN
        // (>= SlotMeta's alignment 8); `init` zeroed the metadata so it is initialized.
        // `SlotMeta` is `repr(C)` atomics only, so shared references to memory other
        // handles and processes mutate concurrently are fine.
        unsafe {
            core::slice::from_raw_parts(
                self.base.as_ptr().add(class.meta).cast::<SlotMeta>(),
                class.count as usize,
            )
        }
    }

    /// The `Slot` for index `index` of class `class` at `generation`.
    pub(crate) fn slot_at(&self, class: usize, index: u32, generation: u32) -> Slot {
        let layout = &self.layout.classes[class];
        Slot {
            class: class as u8,
            index,
            offset: (layout.slots + ((index as usize) << layout.shift)) as u64,
            capacity: layout.slot_size,
            generation,
        }
    }
}
