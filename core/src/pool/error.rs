//! The pool's one error type.
//!
//! Every fallible pool operation returns [`PoolError`]. A call that returns an error has
//! not changed the region (the one exception is documented on
//! [`PoolError::Corrupt`]: an allocation that finds a corrupt slot on a free list leaves
//! that slot off the list, for [`Pool::sweep`](super::Pool::sweep) to repair).

use core::fmt;

/// Errors returned by [`Pool`](super::Pool), [`Lane`](super::Lane) setup and
/// [`PoolConfig::validate`](super::PoolConfig::validate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// A [`PoolConfig`](super::PoolConfig) (or a lane capacity) is out of range; the
    /// message says which rule it breaks. Nothing was written.
    InvalidConfig {
        /// The rule that was broken.
        what: &'static str,
    },
    /// The region is shorter than the layout needs. Nothing was written.
    RegionTooSmall {
        /// Bytes the layout needs.
        needed: u64,
        /// Bytes the region has.
        len: usize,
    },
    /// The region base is not aligned to [`ALIGN`](super::ALIGN). Nothing was written.
    BaseMisaligned {
        /// The base address.
        addr: usize,
    },
    /// The region does not start with the pool (or lane) magic: it was never formatted,
    /// or it is something else.
    BadMagic {
        /// The first eight bytes found, as a little-endian `u64`.
        found: u64,
    },
    /// The region was formatted by an incompatible version of this layout.
    UnsupportedVersion {
        /// The version found in the header.
        found: u32,
    },
    /// Shared metadata is inconsistent (a header field, a free-list link, a slot state);
    /// the message says what. Reported, never trusted: no out-of-bounds access follows.
    /// If `alloc` pops a slot whose state is not free, it returns this and leaves the
    /// slot off its free list (`sweep` puts it back).
    Corrupt {
        /// What was found to be inconsistent.
        what: &'static str,
    },
    /// `alloc(len)` with `len` larger than the largest class. Nothing changed.
    TooLarge {
        /// The requested length.
        len: usize,
        /// The largest slot size of the pool.
        max: u32,
    },
    /// Every class that could hold `len` bytes has no free slot. Nothing changed.
    Exhausted {
        /// The requested length.
        len: usize,
    },
    /// A descriptor's offset is not inside the slot area of any class (it may point into
    /// the header or metadata, or past the end). Nothing changed.
    OutOfBounds {
        /// The offending offset.
        offset: u64,
    },
    /// A descriptor's offset lies in a class's slot area but not at a slot start.
    /// Nothing changed.
    Misaligned {
        /// The offending offset.
        offset: u64,
        /// The slot size of the class the offset falls in.
        slot_size: u32,
    },
    /// A descriptor's length exceeds the capacity of its slot. Nothing changed.
    TooLong {
        /// The descriptor's length.
        len: u32,
        /// The slot's capacity.
        capacity: u32,
    },
    /// A descriptor's generation is not the slot's current one: the slot was released
    /// (and perhaps reused) since the descriptor was made. Nothing changed.
    StaleGeneration {
        /// The descriptor's offset.
        offset: u64,
        /// The generation the descriptor carries.
        generation: u32,
        /// The slot's current generation.
        current: u32,
    },
    /// The descriptor names a slot that is free (refcount 0). Nothing changed.
    NotAllocated {
        /// The descriptor's offset.
        offset: u64,
    },
    /// `retain` would overflow the 32-bit refcount. Nothing changed.
    RefcountOverflow {
        /// The descriptor's offset.
        offset: u64,
        /// The refcount before the call.
        refcount: u32,
        /// The references that were to be added.
        add: u32,
    },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PoolError::InvalidConfig { what } => write!(f, "invalid pool configuration: {what}"),
            PoolError::RegionTooSmall { needed, len } => {
                write!(
                    f,
                    "region of {len} bytes is too small: the layout needs {needed}"
                )
            }
            PoolError::BaseMisaligned { addr } => write!(
                f,
                "region base {addr:#x} is not aligned to {} bytes",
                super::ALIGN
            ),
            PoolError::BadMagic { found } => {
                write!(
                    f,
                    "region has magic {found:#018x}, not a shoal pool or lane"
                )
            }
            PoolError::UnsupportedVersion { found } => {
                write!(f, "region layout version {found} is not supported")
            }
            PoolError::Corrupt { what } => write!(f, "corrupt pool metadata: {what}"),
            PoolError::TooLarge { len, max } => write!(
                f,
                "allocation of {len} bytes exceeds the largest slot size ({max} bytes)"
            ),
            PoolError::Exhausted { len } => {
                write!(
                    f,
                    "no free slot can hold {len} bytes: the pool is exhausted"
                )
            }
            PoolError::OutOfBounds { offset } => {
                write!(f, "descriptor offset {offset} is not inside any slot area")
            }
            PoolError::Misaligned { offset, slot_size } => write!(
                f,
                "descriptor offset {offset} is not aligned to a {slot_size}-byte slot"
            ),
            PoolError::TooLong { len, capacity } => write!(
                f,
                "descriptor length {len} exceeds the slot capacity of {capacity} bytes"
            ),
            PoolError::StaleGeneration {
                offset,
                generation,
                current,
            } => write!(
                f,
                "descriptor for offset {offset} has generation {generation}, \
                 but the slot is at generation {current} (stale descriptor)"
            ),
            PoolError::NotAllocated { offset } => {
                write!(f, "descriptor offset {offset} names a free slot")
            }
            PoolError::RefcountOverflow {
                offset,
                refcount,
                add,
            } => write!(
                f,
                "adding {add} references to the slot at offset {offset} \
                 (refcount {refcount}) would overflow"
            ),
        }
    }
}

impl core::error::Error for PoolError {}
