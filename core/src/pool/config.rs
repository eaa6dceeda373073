//! Size-class tables: what a pool is asked to hold, and the rules a table must obey.
//!
//! A config only describes classes; it owns no memory. The byte layout that follows
//! from it is [`layout`](super::layout)'s job.

use alloc::vec::Vec;

use super::{PoolError, MAX_CLASSES};

/// One size class: `count` slots of `slot_size` bytes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassConfig {
    /// Bytes per slot: a power of two, at least [`ALIGN`](super::ALIGN) (64).
    pub slot_size: u32,
    /// Number of slots: at least 1, below 2^31.
    pub count: u32,
}

/// The size classes of a pool, smallest first.
///
/// Rules ([`validate`](Self::validate)): 1 ..= [`MAX_CLASSES`] classes; every slot size
/// a power of two of at least 64 bytes; slot sizes strictly increasing; every count in
/// 1 .. 2^31.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// The classes, in strictly increasing slot-size order.
    pub classes: Vec<ClassConfig>,
}

/// Slot counts of [`PoolConfig::standard`], one per power of two from 64 B to 1 MiB.
const STANDARD_COUNTS: [u32; 15] = [
    16384, 8192, 8192, 4096, 4096, // small: 64 B ..= 1 KiB
    2048, 1024, 512, 256, 128, 64, // medium: 2 KiB ..= 64 KiB
    48, 24, 12, 11, // large: 128 KiB ..= 1 MiB
];

impl PoolConfig {
    /// The standard table: 15 power-of-two classes from 64 B to 1 MiB, in three tiers.
    ///
    /// | tier   | slot sizes        | counts                          | slot bytes |
    /// |--------|-------------------|---------------------------------|------------|
    /// | small  | 64 B ..= 1 KiB    | 16384, 8192, 8192, 4096, 4096   | 10 MiB     |
    /// | medium | 2 KiB ..= 64 KiB  | 2048, 1024, 512, 256, 128, 64   | 24 MiB     |
    /// | large  | 128 KiB ..= 1 MiB | 48, 24, 12, 11                  | 29 MiB     |
    ///
    /// 63 MiB of slots for 45 087 slots; with 16 bytes of metadata per slot, the free-list
    /// heads and the header the region is 66 782 848 bytes (about 63.7 MiB). Payloads
    /// larger than 1 MiB are not the pool's job (the bus gives them a dedicated segment).
    pub fn standard() -> Self {
        Self::powers_of_two(|i| STANDARD_COUNTS[i])
    }

    /// The standard classes with tiny counts, for tests: 8 slots per class up to 64 KiB,
    /// 2 per class above (about 4.8 MiB in all).
    pub fn small() -> Self {
        Self::powers_of_two(|i| if i <= 10 { 8 } else { 2 })
    }

    fn powers_of_two(count: impl Fn(usize) -> u32) -> Self {
        let classes = (0..STANDARD_COUNTS.len())
            .map(|i| ClassConfig {
                slot_size: 64 << i,
                count: count(i),
            })
            .collect();
        PoolConfig { classes }
    }

    /// Checks the rules in the type's documentation. A config that passes can still be
    /// too large for the address space; [`Pool::required_size`](super::Pool::required_size)
    /// reports that.
    pub fn validate(&self) -> Result<(), PoolError> {
        validate_classes(self.classes.iter().copied())
    }
}

impl Default for PoolConfig {
    /// [`PoolConfig::standard`].
    fn default() -> Self {
        Self::standard()
    }
}

/// The class-table rules, shared by [`PoolConfig::validate`] and the header check on
/// attach (which reads the table out of shared memory).
pub(crate) fn validate_classes(
    classes: impl ExactSizeIterator<Item = ClassConfig>,
) -> Result<(), PoolError> {
    let invalid = |what| Err(PoolError::InvalidConfig { what });
    if classes.len() == 0 {
        return invalid("a pool needs at least one size class");
    }
    if classes.len() > MAX_CLASSES {
        return invalid("a pool has at most 16 size classes");
    }
    let mut previous = 0u32;
    for class in classes {
        if !class.slot_size.is_power_of_two() || (class.slot_size as usize) < super::ALIGN {
            return invalid("slot sizes must be powers of two of at least 64 bytes");
        }
        if class.slot_size <= previous {
            return invalid("slot sizes must be strictly increasing");
        }
        if class.count == 0 || class.count >= 1 << 31 {
            return invalid("slot counts must be at least 1 and below 2^31");
        }
        previous = class.slot_size;
    }
    Ok(())
}
