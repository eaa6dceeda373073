//! [`Loan`]: a pool buffer this process writes into before sending it.

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use std::sync::Arc;

use super::error::BusError;
use super::shared::Shared;
use crate::pool::Slot;

/// A buffer borrowed from the bus's shared pool. Write the message in place (it derefs
/// to `&mut [u8]` of the requested length), then hand it to
/// [`Sender::send`](super::Sender::send): the receiver reads these very bytes, nothing
/// is copied. Dropping an unsent loan gives the buffer back.
pub struct Loan {
    pub(crate) shared: Arc<Shared>,
    pub(crate) slot: Slot,
    pub(crate) ptr: NonNull<u8>,
    pub(crate) len: usize,
    /// Entry in this process's held table; `u32::MAX` once ownership moved on.
    pub(crate) held: u32,
}

// SAFETY: the loan exclusively owns its slot until sent; the pointer stays valid while
// `shared` keeps the mapping alive. Nothing in it is tied to a thread.
unsafe impl Send for Loan {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for Loan {}

impl Loan {
    pub(crate) fn new(shared: &Arc<Shared>, len: usize) -> Result<Loan, BusError> {
        let _op = shared.enter();
        let held = shared.held.reserve(&shared.view)?;
        let slot = match shared.pool.alloc(len) {
            Ok(slot) => slot,
            Err(e) => {
                shared.held.remove(&shared.view, held);
                return Err(e.into());
            }
        };
        shared
            .held
            .fill(&shared.view, held, slot.descriptor(len as u32, 0).encode());
        let ptr = shared.pool.slot_ptr(&slot);
        Ok(Loan {
            shared: shared.clone(),
            slot,
            ptr,
            len,
            held,
        })
    }

    /// Bytes this loan's slot can hold (at least the requested length).
    pub fn capacity(&self) -> usize {
        self.slot.capacity as usize
    }

    /// Changes the message length (at most [`Loan::capacity`]); bytes beyond the old
    /// length are whatever the slot held before.
    pub fn set_len(&mut self, len: usize) -> Result<(), BusError> {
        if len > self.capacity() {
            return Err(BusError::Pool(crate::pool::PoolError::TooLarge {
                len,
                max: self.slot.capacity,
            }));
        }
        self.len = len;
        Ok(())
    }

    /// The buffer's offset inside the pool (what the receiver's descriptor names).
    pub fn offset(&self) -> u64 {
        self.slot.offset
    }
}

impl Deref for Loan {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len <= capacity` bytes at `ptr` lie in the slot this loan owns.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for Loan {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and the loan is the slot's only user until sent.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl core::fmt::Debug for Loan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Loan")
            .field("offset", &self.slot.offset)
            .field("len", &self.len)
            .finish()
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        if self.held == u32::MAX {
            return;
        }
        let shared = &self.shared;
        let _op = shared.enter();
        shared.held.remove(&shared.view, self.held);
        if shared
            .pool
            .release(&self.slot.descriptor(self.len as u32, 0))
            .is_err()
        {
            shared.count_corrupt();
        }
    }
}
