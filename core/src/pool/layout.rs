//! Where everything lives in a pool region: the header format, the offsets that follow
//! from a class table, and the header check on attach.
//!
//! Offsets are computed from the class table alone (with checked arithmetic), never read
//! from the region, so a hostile header can at worst describe a table whose computed
//! size does not fit — which attach rejects.

use super::config::{validate_classes, ClassConfig};
use super::{PoolError, ALIGN, MAX_CLASSES};

/// `b"SHOALPL\x01"` read as a little-endian `u64`: the first word of a pool region.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHOALPL\x01");
/// Layout version written by `init` and required by `attach`.
pub(crate) const VERSION: u32 = 1;
/// Bytes reserved for the header (three cache lines).
pub(crate) const HEADER_SIZE: usize = 192;
/// Bytes of metadata per slot (state word, free-list link, requested length).
pub(crate) const META_SIZE: u64 = 16;

/// Header field offsets (bytes from the region base).
pub(crate) mod field {
    /// `u64` magic.
    pub(crate) const MAGIC: usize = 0;
    /// `u32` layout version.
    pub(crate) const VERSION: usize = 8;
    /// `u32` number of classes.
    pub(crate) const CLASS_COUNT: usize = 12;
    /// `u64` total size of the layout in bytes.
    pub(crate) const TOTAL: usize = 16;
    /// `MAX_CLASSES` entries of (`u32` slot size, `u32` count).
    pub(crate) const CLASSES: usize = 32;
}

/// Where one class's pieces live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClassLayout {
    /// Bytes per slot (a power of two).
    pub(crate) slot_size: u32,
    /// log2 of `slot_size`.
    pub(crate) shift: u32,
    /// Number of slots.
    pub(crate) count: u32,
    /// Offset of the free-list head (its own cache line).
    pub(crate) head: usize,
    /// Offset of the first `SlotMeta`.
    pub(crate) meta: usize,
    /// Offset of the first slot.
    pub(crate) slots: usize,
    /// Offset one past the last slot.
    pub(crate) slots_end: usize,
}

/// The whole region's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Per class; entries past `class_count` are zero.
    pub(crate) classes: [ClassLayout; MAX_CLASSES],
    /// Number of classes.
    pub(crate) class_count: usize,
    /// Offset where the metadata ends and the slots begin.
    pub(crate) meta_end: usize,
    /// Total bytes (a multiple of `ALIGN`).
    pub(crate) total: usize,
}

fn round_up(n: u64) -> Option<u64> {
    let align = ALIGN as u64;
    n.checked_add(align - 1).map(|n| n & !(align - 1))
}

impl Layout {
    /// The layout of a valid class table: header, one head line per class, each class's
    /// metadata (rounded up to `ALIGN`), then each class's slots.
    pub(crate) fn compute(classes: &[ClassConfig]) -> Result<Layout, PoolError> {
        validate_classes(classes.iter().copied())?;
        let too_large = PoolError::InvalidConfig {
            what: "the pool is larger than this address space",
        };
        let n = classes.len() as u64;
        let heads = HEADER_SIZE as u64;
        let mut meta = heads + n * ALIGN as u64;
        let mut meta_offsets = [0u64; MAX_CLASSES];
        for (i, class) in classes.iter().enumerate() {
            meta_offsets[i] = meta;
            meta = round_up(meta + u64::from(class.count) * META_SIZE).ok_or(too_large)?;
        }
        let meta_end = meta;
        let mut slots = meta_end;
        let mut layout = Layout {
            classes: [ClassLayout::default(); MAX_CLASSES],
            class_count: classes.len(),
            meta_end: 0,
            total: 0,
        };
        let to_usize = |v: u64| usize::try_from(v).map_err(|_| too_large);
        for (i, class) in classes.iter().enumerate() {
            let bytes = u64::from(class.count) * u64::from(class.slot_size);
            let end = slots.checked_add(bytes).ok_or(too_large)?;
            layout.classes[i] = ClassLayout {
                slot_size: class.slot_size,
                shift: class.slot_size.trailing_zeros(),
                count: class.count,
                head: to_usize(heads + i as u64 * ALIGN as u64)?,
                meta: to_usize(meta_offsets[i])?,
                slots: to_usize(slots)?,
                slots_end: to_usize(end)?,
            };
            slots = end;
        }
        layout.meta_end = to_usize(meta_end)?;
        layout.total = to_usize(slots)?;
        Ok(layout)
    }

    /// The layouts of the classes in use.
    pub(crate) fn classes(&self) -> &[ClassLayout] {
        &self.classes[..self.class_count]
    }
}

/// Header fields as read from a region (by atomic loads; see `region`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawHeader {
    /// First word.
    pub(crate) magic: u64,
    /// Layout version.
    pub(crate) version: u32,
    /// Number of classes claimed.
    pub(crate) class_count: u32,
    /// Total bytes claimed.
    pub(crate) total: u64,
    /// All `MAX_CLASSES` (slot size, count) pairs.
    pub(crate) classes: [(u32, u32); MAX_CLASSES],
}

/// Checks a header read from a region of `len` bytes and returns the layout it
/// describes. Errors name what is wrong; nothing here can index out of range.
pub(crate) fn check_header(header: &RawHeader, len: usize) -> Result<Layout, PoolError> {
    if header.magic != MAGIC {
        return Err(PoolError::BadMagic {
            found: header.magic,
        });
    }
    if header.version != VERSION {
        return Err(PoolError::UnsupportedVersion {
            found: header.version,
        });
    }
    let count = header.class_count as usize;
    if count == 0 || count > MAX_CLASSES {
        return Err(PoolError::Corrupt {
            what: "header class count is 0 or above MAX_CLASSES",
        });
    }
    let mut classes = [ClassConfig {
        slot_size: 0,
        count: 0,
    }; MAX_CLASSES];
    for (class, &(slot_size, count)) in classes.iter_mut().zip(&header.classes) {
        *class = ClassConfig { slot_size, count };
    }
    let layout = Layout::compute(&classes[..count]).map_err(|e| match e {
        PoolError::InvalidConfig { what } => PoolError::Corrupt { what },
        other => other,
    })?;
    if layout.total as u64 != header.total {
        return Err(PoolError::Corrupt {
            what: "header total size does not match its class table",
        });
    }
    if layout.total > len {
        return Err(PoolError::RegionTooSmall {
            needed: layout.total as u64,
            len,
        });
    }
    Ok(layout)
}
