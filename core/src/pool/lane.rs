//! Lanes: single-producer single-consumer rings of 16-byte entries in a byte region.
//!
//! Region layout (every line 64 bytes):
//!
//! ```text
//! 0    magic u64 | version u32 | capacity u32 | closed u32 (flags)
//! 64   head u64  (entries ever pushed; written by the producer only)
//! 128  tail u64  (entries ever taken; CAS by the consumer's pop and the producer's
//!                 drop_oldest)
//! 192  capacity x [u64; 2] entries (capacity a power of two)
//! ```
//!
//! The algorithm ([`LaneCells`]) works over references to facade atomics so loom can
//! model it; [`Lane`] casts a region into those references. A lane moves words, not
//! ownership: what an entry means (normally an encoded
//! [`Descriptor`](super::Descriptor)) is the caller's business, and a hostile peer can
//! at worst make it return garbage entries or [`LaneError::Corrupt`].

use core::fmt;

use super::sync::{AtomicU64, Ordering};

/// Why a lane operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneError {
    /// `push` found the lane full; nothing was written.
    Full,
    /// head and tail are inconsistent (head - tail exceeds the capacity, or tail is
    /// ahead of head): a peer corrupted the lane. Nothing was changed.
    Corrupt,
}

impl fmt::Display for LaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaneError::Full => f.write_str("lane is full"),
            LaneError::Corrupt => {
                f.write_str("lane head and tail are inconsistent (corrupted by a peer)")
            }
        }
    }
}

impl core::error::Error for LaneError {}

/// The SPSC ring algorithm over borrowed atomics.
///
/// `entries` holds `2 * capacity` words, `capacity` a power of two (checked by whoever
/// builds the cells). `head` and `tail` are free-running counters; entry `n` lives at
/// words `2 * (n % capacity)` and `+ 1`.
pub(crate) struct LaneCells<'a> {
    pub(crate) head: &'a AtomicU64,
    pub(crate) tail: &'a AtomicU64,
    pub(crate) entries: &'a [AtomicU64],
}

impl LaneCells<'_> {
    #[inline]
    fn capacity(&self) -> u64 {
        (self.entries.len() / 2) as u64
    }

    #[inline]
    fn words(&self, counter: u64) -> (&AtomicU64, &AtomicU64) {
        let mask = (self.entries.len() / 2).wrapping_sub(1);
        let at = (counter as usize & mask) * 2;
        (&self.entries[at], &self.entries[at + 1])
    }

    #[inline]
    fn read(&self, counter: u64) -> [u64; 2] {
        let (w0, w1) = self.words(counter);
        [w0.load(Ordering::Relaxed), w1.load(Ordering::Relaxed)]
    }

    /// Producer only: writes the entry (relaxed), then publishes it by storing head + 1
    /// with Release.
    pub(crate) fn push(&self, entry: [u64; 2]) -> Result<(), LaneError> {
        let head = self.head.load(Ordering::Relaxed);
        // Acquire pairs with the tail CAS of whoever took the entry we are about to
        // overwrite: their read of it happens before our write.
        let tail = self.tail.load(Ordering::Acquire);
        let used = head.wrapping_sub(tail);
        if used > self.capacity() {
            return Err(LaneError::Corrupt);
        }
        if used == self.capacity() {
            return Err(LaneError::Full);
        }
        let (w0, w1) = self.words(head);
        w0.store(entry[0], Ordering::Relaxed);
        w1.store(entry[1], Ordering::Relaxed);
        self.head.store(head.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Consumer: takes the oldest entry. Reads head with Acquire (so the entry's words
    /// are visible), the entry with relaxed loads, then claims it by CAS-ing tail forward
    /// (AcqRel); losing the CAS to the producer's `drop_oldest` just retries, discarding
    /// what was read.
    pub(crate) fn pop(&self) -> Result<Option<[u64; 2]>, LaneError> {
        let mut tail = self.tail.load(Ordering::Acquire);
        loop {
            let head = self.head.load(Ordering::Acquire);
            let used = head.wrapping_sub(tail);
            if used == 0 {
                return Ok(None);
            }
            if used > self.capacity() {
                // Our tail may be older than the head we just read (drop_oldest moved
                // it); re-read it, after the head, before calling the lane corrupt.
                let again = self.tail.load(Ordering::Acquire);
                if again != tail {
                    tail = again;
                    continue;
                }
                return Err(LaneError::Corrupt);
            }
            let entry = self.read(tail);
            match self.tail.compare_exchange(
                tail,
                tail.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Some(entry)),
                Err(actual) => tail = actual,
            }
        }
    }

    /// Producer: takes the oldest entry (drop-oldest backpressure) with the same CAS on
    /// tail as `pop`, so each entry goes to exactly one of them.
    pub(crate) fn drop_oldest(&self) -> Result<Option<[u64; 2]>, LaneError> {
        let head = self.head.load(Ordering::Relaxed);
        let mut tail = self.tail.load(Ordering::Acquire);
        loop {
            let used = head.wrapping_sub(tail);
            if used == 0 {
                return Ok(None);
            }
            if used > self.capacity() {
                return Err(LaneError::Corrupt);
            }
            let entry = self.read(tail);
            match self.tail.compare_exchange(
                tail,
                tail.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Some(entry)),
                Err(actual) => tail = actual,
            }
        }
    }

    /// Entries in the lane: head - tail, clamped to the capacity (a tail read before a
    /// concurrent `drop_oldest` can make the difference look larger).
    pub(crate) fn len(&self) -> u64 {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Acquire);
        head.wrapping_sub(tail).min(self.capacity())
    }
}

#[cfg(not(loom))]
pub use mapped::Lane;

#[cfg(not(loom))]
mod mapped {
    use core::ptr::NonNull;

    use super::super::sync::{AtomicU32, AtomicU64, Ordering};
    use super::super::{PoolError, ALIGN};
    use super::{LaneCells, LaneError};

    const MAGIC: u64 = u64::from_le_bytes(*b"SHOALLN\x01");
    const VERSION: u32 = 1;
    const OFF_MAGIC: usize = 0;
    const OFF_VERSION: usize = 8;
    const OFF_CAPACITY: usize = 12;
    const OFF_CLOSED: usize = 16;
    const OFF_HEAD: usize = 64;
    const OFF_TAIL: usize = 128;
    const HEADER: usize = 192;

    /// A single-producer single-consumer ring of `[u64; 2]` entries (normally encoded
    /// [`Descriptor`](crate::pool::Descriptor)s) in a byte region: header, head and tail
    /// on their own cache lines, then `capacity` entries.
    ///
    /// One process pushes (and may `drop_oldest`), one pops. The handle holds no
    /// mutable state, so it is `Send` and `Sync`; calling `push` from two threads at
    /// once breaks the single-producer rule (entries may be lost or garbled) but is not
    /// memory-unsafe.
    #[derive(Clone, Debug)]
    pub struct Lane {
        base: NonNull<u8>,
        capacity: u32,
    }

    // SAFETY: `Lane` is an address plus an immutable capacity; every access to the region
    // is an atomic operation, and the region outliving the handle is the contract of
    // `init`/`attach`.
    unsafe impl Send for Lane {}
    // SAFETY: as for `Send`: `&Lane` only performs atomic operations on the region.
    unsafe impl Sync for Lane {}

    /// # Safety
    /// `offset + 8` within a region valid for `'a`, aligned, initialized.
    unsafe fn atomic_u64<'a>(base: NonNull<u8>, offset: usize) -> &'a AtomicU64 {
        // SAFETY: per the contract; `AtomicU64` has `u64`'s layout and allows shared
        // mutation by other handles and processes.
        unsafe { &*base.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    /// # Safety
    /// As `atomic_u64`, 4 bytes.
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

    fn check_capacity(capacity: u32) -> Result<(), PoolError> {
        if capacity.is_power_of_two() {
            Ok(())
        } else {
            Err(PoolError::InvalidConfig {
                what: "lane capacity must be a nonzero power of two",
            })
        }
    }

    impl Lane {
        /// Bytes a lane of `capacity` entries needs: a 192-byte header plus 16 bytes per
        /// entry, rounded up to [`ALIGN`] (saturating at `usize::MAX`, which no region
        /// has).
        pub fn required_size(capacity: u32) -> usize {
            (capacity as usize)
                .saturating_mul(16)
                .saturating_add(HEADER)
                .saturating_add(ALIGN - 1)
                & !(ALIGN - 1)
        }

        /// Formats an empty lane of `capacity` entries (a nonzero power of two).
        ///
        /// # Safety
        /// As [`Pool::init`](crate::pool::Pool::init): `base` valid for reads and writes
        /// of `len` bytes, aligned to [`ALIGN`], for as long as any handle on the lane
        /// exists; nobody else uses the memory during `init`.
        pub unsafe fn init(
            base: NonNull<u8>,
            len: usize,
            capacity: u32,
        ) -> Result<Lane, PoolError> {
            check_capacity(capacity)?;
            let needed = Lane::required_size(capacity);
            check_base(base, len, needed)?;
            // SAFETY: `needed <= len` and the memory is ours alone during init; zeroing it
            // makes every atomic we form below (and every entry) initialized.
            unsafe { core::ptr::write_bytes(base.as_ptr(), 0, needed) };
            // SAFETY: header offsets are within `HEADER <= needed`, aligned, initialized.
            unsafe {
                atomic_u32(base, OFF_VERSION).store(VERSION, Ordering::Relaxed);
                atomic_u32(base, OFF_CAPACITY).store(capacity, Ordering::Relaxed);
                atomic_u64(base, OFF_MAGIC).store(MAGIC, Ordering::Release);
            }
            Ok(Lane { base, capacity })
        }

        /// Attaches to a lane formatted by [`init`](Self::init) (possibly in another
        /// process, at another address). Checks the magic, the version, and that the
        /// capacity is a power of two whose entries fit in `len`.
        ///
        /// # Safety
        /// As [`Pool::attach`](crate::pool::Pool::attach).
        pub unsafe fn attach(base: NonNull<u8>, len: usize) -> Result<Lane, PoolError> {
            check_base(base, len, HEADER)?;
            // SAFETY: header offsets are within `HEADER <= len`, aligned, initialized.
            let (magic, version, capacity) = unsafe {
                (
                    atomic_u64(base, OFF_MAGIC).load(Ordering::Acquire),
                    atomic_u32(base, OFF_VERSION).load(Ordering::Relaxed),
                    atomic_u32(base, OFF_CAPACITY).load(Ordering::Relaxed),
                )
            };
            if magic != MAGIC {
                return Err(PoolError::BadMagic { found: magic });
            }
            if version != VERSION {
                return Err(PoolError::UnsupportedVersion { found: version });
            }
            if !capacity.is_power_of_two() {
                return Err(PoolError::Corrupt {
                    what: "lane capacity is not a power of two",
                });
            }
            let needed = Lane::required_size(capacity);
            if needed > len {
                return Err(PoolError::RegionTooSmall {
                    needed: needed as u64,
                    len,
                });
            }
            Ok(Lane { base, capacity })
        }

        fn cells(&self) -> LaneCells<'_> {
            // SAFETY: `init`/`attach` checked `required_size(capacity) <= len`, so the
            // head, tail and `2 * capacity` entry words lie in the region; all offsets
            // are multiples of 8 from an ALIGN-aligned base; the memory was zeroed by
            // `init` and is only ever written through atomics.
            unsafe {
                LaneCells {
                    head: atomic_u64(self.base, OFF_HEAD),
                    tail: atomic_u64(self.base, OFF_TAIL),
                    entries: core::slice::from_raw_parts(
                        self.base.as_ptr().add(HEADER).cast::<AtomicU64>(),
                        2 * self.capacity as usize,
                    ),
                }
            }
        }

        /// Producer side only. Writes the entry (relaxed stores), then publishes it by
        /// storing head with Release: a consumer that pops it also sees everything the
        /// producer wrote before `push` (e.g. the slot's bytes).
        ///
        /// [`LaneError::Full`] when `capacity` entries are waiting.
        pub fn push(&self, entry: [u64; 2]) -> Result<(), LaneError> {
            self.cells().push(entry)
        }

        /// Consumer side: takes the oldest entry, or `Ok(None)` if the lane is empty.
        /// Reads head with Acquire, the entry with relaxed loads, then advances tail with
        /// a CAS (AcqRel), which lets [`drop_oldest`](Self::drop_oldest) run on the
        /// producer side concurrently. [`LaneError::Corrupt`] if head - tail exceeds the
        /// capacity.
        pub fn pop(&self) -> Result<Option<[u64; 2]>, LaneError> {
            self.cells().pop()
        }

        /// Producer side, for the drop-oldest backpressure policy: removes and returns
        /// the oldest entry with the same CAS on tail as `pop`, so it races safely with
        /// the consumer (each entry goes to exactly one of them).
        pub fn drop_oldest(&self) -> Result<Option<[u64; 2]>, LaneError> {
            self.cells().drop_oldest()
        }

        /// Entries waiting (a snapshot; clamped to `0 ..= capacity`).
        pub fn len(&self) -> usize {
            self.cells().len() as usize
        }

        /// Whether no entry is waiting (a snapshot).
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// The number of entries the lane holds when full.
        pub fn capacity(&self) -> u32 {
            self.capacity
        }

        /// The raw head counter: entries ever pushed (for crash repair).
        pub fn head(&self) -> u64 {
            self.cells().head.load(Ordering::Acquire)
        }

        /// The raw tail counter: entries ever popped or dropped (for crash repair).
        pub fn tail(&self) -> u64 {
            self.cells().tail.load(Ordering::Acquire)
        }

        /// Sets `flag` bits in the lane's `closed` word (`fetch_or`, AcqRel) and returns
        /// the bits as they were before. The bits' meaning is the bus's.
        pub fn close(&self, flag: u32) -> u32 {
            // SAFETY: OFF_CLOSED is within the header, aligned, initialized.
            unsafe { atomic_u32(self.base, OFF_CLOSED) }.fetch_or(flag, Ordering::AcqRel)
        }

        /// Calls `f` with every entry between tail and head, oldest first, without
        /// taking them. Meaningful only while neither side operates on the lane (crash
        /// repair); a corrupt head/tail pair visits at most `capacity` entries.
        pub fn for_each_entry(&self, f: &mut dyn FnMut([u64; 2])) {
            let cells = self.cells();
            let tail = cells.tail.load(Ordering::Acquire);
            let head = cells.head.load(Ordering::Acquire);
            let n = head.wrapping_sub(tail).min(u64::from(self.capacity));
            for i in 0..n {
                f(cells.read(tail.wrapping_add(i)));
            }
        }

        /// The lane's `closed` bits (Acquire load).
        pub fn closed(&self) -> u32 {
            // SAFETY: as in `close`.
            unsafe { atomic_u32(self.base, OFF_CLOSED) }.load(Ordering::Acquire)
        }
    }
}
