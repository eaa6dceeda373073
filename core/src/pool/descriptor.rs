//! The descriptor: what travels through lanes instead of the bytes themselves.
//!
//! A descriptor is plain data and trusts nothing; decoding never fails, and whether a
//! descriptor names a live slot is [`Pool::validate`](super::Pool::validate)'s question.

/// Bits of `word0` that hold the offset.
const OFFSET_MASK: u64 = (1 << 56) - 1;

/// A reference to `len` bytes at `offset` from a pool region's base, valid while the slot
/// there is at `generation` (and allocated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// Offset of the slot from the pool region's base (below 2^56).
    pub offset: u64,
    /// Bytes of payload in the slot.
    pub len: u32,
    /// The slot's generation when the descriptor was made.
    pub generation: u32,
    /// Eight bits for the bus; the pool ignores them.
    pub flags: u8,
}

impl Descriptor {
    /// Packs the descriptor into two words (the lane entry format):
    /// `word0 = offset | (flags as u64) << 56`, `word1 = len | (generation as u64) << 32`.
    ///
    /// Offsets are below 2^56 in any real region; higher bits of `offset` are dropped.
    pub fn encode(&self) -> [u64; 2] {
        [
            (self.offset & OFFSET_MASK) | (u64::from(self.flags) << 56),
            u64::from(self.len) | (u64::from(self.generation) << 32),
        ]
    }

    /// Unpacks two words; never fails (any two words are some descriptor).
    pub fn decode(words: [u64; 2]) -> Descriptor {
        Descriptor {
            offset: words[0] & OFFSET_MASK,
            flags: (words[0] >> 56) as u8,
            len: words[1] as u32,
            generation: (words[1] >> 32) as u32,
        }
    }
}
