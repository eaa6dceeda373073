//! [`Loan`]: a buffer this process writes into before sending it.

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use std::sync::Arc;

use super::error::BusError;
use super::large::{LargeBuf, FLAG_LARGE};
use super::shared::Shared;
use crate::pool::{Descriptor, PoolError, Slot};

/// Where a loan's bytes live.
pub(crate) enum Buf {
    /// A pool slot.
    Slot(Slot),
    /// A dedicated segment (larger than the pool's largest class).
    Large(LargeBuf),
}

/// A buffer borrowed from the bus's shared memory. Write the message in place (it
/// derefs to `&mut [u8]` of the requested length), then hand it to
/// [`Sender::send`](super::Sender::send): the receiver reads these very bytes, nothing
/// is copied. Messages up to the pool's largest class (1 MiB by default) use a pool
/// slot; larger ones get a dedicated segment. Dropping an unsent loan gives the buffer
/// back.
pub struct Loan {
    pub(crate) shared: Arc<Shared>,
    pub(crate) buf: Buf,
    pub(crate) ptr: NonNull<u8>,
    pub(crate) len: usize,
    /// Entry in this process's held table; `u32::MAX` once ownership moved on.
    pub(crate) held: u32,
}

// SAFETY: the loan exclusively owns its buffer until sent; the pointer stays valid while
// `shared` (and, for large loans, the segment in `buf`) keeps the mapping alive.
unsafe impl Send for Loan {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for Loan {}

impl Loan {
    pub(crate) fn new(shared: &Arc<Shared>, len: usize) -> Result<Loan, BusError> {
        let classes = shared.pool.class_count();
        let largest = classes
            .checked_sub(1)
            .and_then(|c| shared.pool.slot_size(c as u8))
            .unwrap_or(0);
        let _op = shared.enter();
        let held = shared.held.reserve(&shared.view)?;
        let made = if len > largest as usize {
            LargeBuf::create(shared, len).map(|b| (b.data(), Buf::Large(b)))
        } else {
            shared
                .pool
                .alloc(len)
                .map(|slot| (shared.pool.slot_ptr(&slot), Buf::Slot(slot)))
                .map_err(BusError::from)
        };
        let (ptr, buf) = match made {
            Ok(x) => x,
            Err(e) => {
                shared.held.remove(&shared.view, held);
                return Err(e);
            }
        };
        let loan = Loan {
            shared: shared.clone(),
            buf,
            ptr,
            len,
            held,
        };
        shared
            .held
            .fill(&shared.view, held, loan.descriptor(0).encode());
        Ok(loan)
    }

    /// The descriptor that names this loan's bytes.
    pub(crate) fn descriptor(&self, flags: u8) -> Descriptor {
        match &self.buf {
            Buf::Slot(slot) => slot.descriptor(self.len as u32, flags),
            Buf::Large(b) => Descriptor {
                offset: b.id,
                len: self.len as u32,
                generation: 0,
                flags: flags | FLAG_LARGE,
            },
        }
    }

    /// Adds `n` references to the buffer (fan-out).
    pub(crate) fn retain(&self, n: u32) -> Result<(), BusError> {
        match &self.buf {
            Buf::Slot(_) => Ok(self.shared.pool.retain(&self.descriptor(0), n)?),
            Buf::Large(b) => {
                b.retain(n);
                Ok(())
            }
        }
    }

    /// Drops one reference to the buffer.
    pub(crate) fn release_one(&self) {
        match &self.buf {
            Buf::Slot(_) => {
                if self.shared.pool.release(&self.descriptor(0)).is_err() {
                    self.shared.count_corrupt();
                }
            }
            Buf::Large(b) => b.release(),
        }
    }

    /// Bytes this loan's buffer can hold (at least the requested length).
    pub fn capacity(&self) -> usize {
        match &self.buf {
            Buf::Slot(slot) => slot.capacity as usize,
            Buf::Large(_) => self.len,
        }
    }

    /// Changes the message length (at most [`Loan::capacity`]); bytes beyond the old
    /// length are whatever the buffer held before.
    pub fn set_len(&mut self, len: usize) -> Result<(), BusError> {
        if len > self.capacity() {
            return Err(BusError::Pool(PoolError::TooLarge {
                len,
                max: self.capacity() as u32,
            }));
        }
        self.len = len;
        Ok(())
    }

    /// Where the bytes are: the offset inside the pool, or for a message larger than
    /// the largest class, the id of its dedicated segment. The receiver's
    /// [`Message::offset`](super::Message::offset) is the same number.
    pub fn offset(&self) -> u64 {
        match &self.buf {
            Buf::Slot(slot) => slot.offset,
            Buf::Large(b) => b.id,
        }
    }
}

impl Deref for Loan {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len <= capacity` bytes at `ptr` lie in the buffer this loan owns.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for Loan {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and the loan is the buffer's only user until sent.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl core::fmt::Debug for Loan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Loan")
            .field("offset", &self.offset())
            .field("len", &self.len)
            .field("large", &matches!(self.buf, Buf::Large(_)))
            .finish()
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        if self.held == u32::MAX {
            return;
        }
        let shared = self.shared.clone();
        let _op = shared.enter();
        shared.held.remove(&shared.view, self.held);
        self.release_one();
    }
}
