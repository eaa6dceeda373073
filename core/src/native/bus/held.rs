//! The held table: every buffer this process holds (unsent loans, received messages)
//! is written into its row of shared memory, so crash repair can count references that
//! live processes still own.
//!
//! Entries are two words (an encoded descriptor); word 0 is never 0 for a real
//! descriptor because no slot starts at offset 0 of the pool, so 0 marks a free entry.
//! Only the owning process writes its row; repair reads it while the owner is outside
//! any operation.

use core::sync::atomic::{AtomicU32, Ordering};

use super::error::BusError;
use super::layout::View;

/// Word 0 of a reserved entry (not a valid descriptor: its offset is beyond any pool).
pub(crate) const RESERVED: u64 = u64::MAX;

/// This process's row of the held table.
pub(crate) struct HeldRow {
    index: u32,
    capacity: u32,
    /// Where the next search for a free entry starts.
    hint: AtomicU32,
}

impl HeldRow {
    pub fn new(view: &View, index: u32) -> HeldRow {
        HeldRow {
            index,
            capacity: view.layout.held_per_process,
            hint: AtomicU32::new(0),
        }
    }

    /// Records `words`; returns the entry index to pass to [`HeldRow::remove`].
    pub fn insert(&self, view: &View, words: [u64; 2]) -> Result<u32, BusError> {
        debug_assert!(words[0] != 0);
        let start = self.hint.load(Ordering::Relaxed);
        for k in 0..self.capacity {
            let j = (start + k) % self.capacity;
            let Some(entry) = view.held(self.index, j) else {
                break;
            };
            if entry[0].load(Ordering::Relaxed) == 0
                && entry[0]
                    .compare_exchange(0, words[0], Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                entry[1].store(words[1], Ordering::Release);
                self.hint.store((j + 1) % self.capacity, Ordering::Relaxed);
                return Ok(j);
            }
        }
        Err(BusError::Capacity(
            "buffers held by this process (BusConfig::held_per_process)",
        ))
    }

    /// Reserves an entry before taking a buffer out of a lane, so that a buffer once
    /// taken always has a place to be recorded. Repair ignores reserved entries.
    pub fn reserve(&self, view: &View) -> Result<u32, BusError> {
        self.insert(view, [RESERVED, 0])
    }

    /// Fills a reserved entry.
    pub fn fill(&self, view: &View, j: u32, words: [u64; 2]) {
        if let Some(entry) = view.held(self.index, j) {
            entry[1].store(words[1], Ordering::Relaxed);
            entry[0].store(words[0], Ordering::Release);
        }
    }

    /// Frees entry `j`.
    pub fn remove(&self, view: &View, j: u32) {
        if let Some(entry) = view.held(self.index, j) {
            entry[1].store(0, Ordering::Relaxed);
            entry[0].store(0, Ordering::Release);
            self.hint.store(j, Ordering::Relaxed);
        }
    }
}
