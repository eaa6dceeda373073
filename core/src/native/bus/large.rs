//! Messages larger than the pool's largest class: each one lives in a dedicated
//! shared-memory segment, so it is still written once and read in place.
//!
//! The segment is named after the bus and a sequence number from the bus header
//! (`<bus>.L<hex>`; a hash of the bus name replaces it when the name is long), starts
//! with a 64-byte header (magic, reference count, length) and holds the bytes after it.
//! The descriptor carries [`FLAG_LARGE`], the sequence number as its offset and the
//! length. The last reference to go unlinks the segment; crash repair counts large
//! references like pool ones and unlinks segments nobody holds.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::format;
use std::string::String;
use std::vec::Vec;

use super::error::BusError;
use super::shared::Shared;
use crate::native::shm::Segment;
use crate::pool::Descriptor;

/// Descriptor flag: the buffer is a dedicated segment, `offset` is its id.
pub(crate) const FLAG_LARGE: u8 = 2;
/// "SHOALBIG", little-endian.
const MAGIC: u64 = u64::from_le_bytes(*b"SHOALBIG");
/// Bytes before the message.
const DATA: usize = 64;

#[repr(C, align(64))]
struct Header {
    magic: AtomicU64,
    refs: AtomicU32,
    _r: AtomicU32,
    len: AtomicU64,
}

/// The name prefix of this bus's large segments (ends with `.L`).
pub(crate) fn prefix(bus: &str) -> String {
    if bus.len() <= 160 {
        format!("{bus}.L")
    } else {
        format!("{:016x}.L", xxhash_rust::xxh3::xxh3_64(bus.as_bytes()))
    }
}

/// The name of large-message segment `id` of bus `bus`.
fn segment_name(bus: &str, id: u64) -> String {
    format!("{}{id:x}", prefix(bus))
}

/// A mapped large-message segment.
pub(crate) struct LargeBuf {
    segment: Segment,
    pub id: u64,
}

impl LargeBuf {
    fn header(&self) -> &Header {
        // SAFETY: every LargeBuf's segment is at least DATA bytes (checked in
        // create/open) and page-aligned; the header is all atomics.
        unsafe { &*(self.segment.as_ptr().as_ptr() as *const Header) }
    }

    /// The message bytes.
    pub fn data(&self) -> NonNull<u8> {
        // SAFETY: DATA < segment length.
        unsafe { NonNull::new_unchecked(self.segment.as_ptr().as_ptr().add(DATA)) }
    }

    /// Creates a segment for `len` bytes with one reference.
    pub fn create(shared: &Shared, len: usize) -> Result<LargeBuf, BusError> {
        if len > u32::MAX as usize {
            return Err(BusError::InvalidConfig(format!(
                "a message of {len} bytes is larger than the 4 GiB a descriptor can carry"
            )));
        }
        let id = shared
            .view
            .header()
            .large_seq
            .fetch_add(1, Ordering::Relaxed);
        let name = segment_name(&shared.name, id);
        let segment = match Segment::create(&name, DATA + len) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Left over from an earlier bus of the same name.
                let _ = Segment::unlink(&name);
                Segment::create(&name, DATA + len)?
            }
            Err(e) => return Err(e.into()),
        };
        let buf = LargeBuf { segment, id };
        let h = buf.header();
        h.refs.store(1, Ordering::Relaxed);
        h.len.store(len as u64, Ordering::Relaxed);
        h.magic.store(MAGIC, Ordering::Release);
        Ok(buf)
    }

    /// Opens the segment a descriptor names and checks it holds `d.len` bytes and is
    /// referenced.
    pub fn open(shared: &Shared, d: &Descriptor) -> Result<LargeBuf, BusError> {
        let buf = Self::open_unchecked_refs(shared, d)?;
        if buf.header().refs.load(Ordering::Acquire) == 0 {
            return Err(BusError::Corrupt(
                "a large message's segment has no references",
            ));
        }
        Ok(buf)
    }

    fn open_unchecked_refs(shared: &Shared, d: &Descriptor) -> Result<LargeBuf, BusError> {
        let name = segment_name(&shared.name, d.offset);
        let segment = Segment::open(&name)
            .map_err(|_| BusError::Corrupt("a large message's segment is missing"))?;
        if segment.len() < DATA + d.len as usize {
            return Err(BusError::Corrupt("a large message's segment is too short"));
        }
        let buf = LargeBuf {
            segment,
            id: d.offset,
        };
        let h = buf.header();
        if h.magic.load(Ordering::Acquire) != MAGIC || h.len.load(Ordering::Relaxed) < d.len as u64
        {
            return Err(BusError::Corrupt(
                "a large message's segment header is wrong",
            ));
        }
        Ok(buf)
    }

    /// Adds `n` references (fan-out).
    pub fn retain(&self, n: u32) {
        self.header().refs.fetch_add(n, Ordering::AcqRel);
    }

    /// Drops one reference; the last one unlinks the segment.
    pub fn release(&self) {
        let h = self.header();
        let mut cur = h.refs.load(Ordering::Acquire);
        while cur > 0 {
            match h
                .refs
                .compare_exchange(cur, cur - 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if cur == 1 {
                        let _ = Segment::unlink(self.segment.name());
                    }
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Sets the reference count (crash repair).
    fn set_refs(&self, n: u32) {
        self.header().refs.store(n, Ordering::Release);
    }
}

/// Releases one reference named by a descriptor taken out of a lane (pool slot or
/// large segment).
pub(crate) fn release_descriptor(shared: &Shared, d: &Descriptor) {
    let ok = if d.flags & FLAG_LARGE != 0 {
        LargeBuf::open(shared, d).map(|b| b.release()).is_ok()
    } else {
        shared.pool.release(d).is_ok()
    };
    if !ok {
        shared.count_corrupt();
    }
}

/// The ids of this bus's large segments that exist now (Linux: listed in /dev/shm).
fn existing(shared: &Shared) -> Vec<u64> {
    let full = format!("shoal-{}", prefix(&shared.name));
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        u64::from_str_radix(name.strip_prefix(&full)?, 16).ok()
    })
    .collect()
}

/// Crash repair of large segments: `refs(id)` is the number of live references; a
/// segment with none is unlinked, the others get their count corrected. Returns how
/// many were unlinked.
pub(crate) fn repair(shared: &Shared, refs: &dyn Fn(u64) -> u32) -> u64 {
    let mut unlinked = 0;
    for id in existing(shared) {
        let name = segment_name(&shared.name, id);
        match refs(id) {
            0 => {
                if Segment::unlink(&name).is_ok() {
                    unlinked += 1;
                }
            }
            n => {
                let d = Descriptor {
                    offset: id,
                    len: 0,
                    generation: 0,
                    flags: FLAG_LARGE,
                };
                if let Ok(buf) = LargeBuf::open_unchecked_refs(shared, &d) {
                    buf.set_refs(n);
                }
            }
        }
    }
    unlinked
}

/// Unlinks every large segment of the bus (its last user is leaving).
pub(crate) fn remove_all(shared: &Shared) {
    for id in existing(shared) {
        let _ = Segment::unlink(&segment_name(&shared.name, id));
    }
}
