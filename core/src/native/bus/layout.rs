//! Where everything lives inside a bus segment, and typed access to it.
//!
//! ```text
//! 0          Header (1 KiB reserved): magic, version, sizes, offsets, counters
//! procs      max_processes × ProcRecord (128 B): pid + start time, epoch, in-op flag
//! held       max_processes × held_per_process × 16 B: buffers each process holds
//! endpoints  max_endpoints × EndpointRecord (256 B): name, owner, policy, futex word
//! lanes      max_lanes × (LaneRecord 128 B + pool::Lane of lane_capacity entries)
//! pool       the buffer pool (crate::pool), to the end of the segment
//! ```
//!
//! Every field in shared memory is an atomic, so any bit pattern a peer leaves there is
//! a valid value to read; indexes read from shared memory are bounds-checked by the
//! accessors here before use. This file knows nothing of processes or messages.

use core::mem::size_of;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::config::BusConfig;
use super::error::BusError;
use crate::pool::{Lane, Pool, ALIGN};
use std::format;

/// "SHOALBUS", little-endian.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHOALBUS");
/// Format version of the segment layout.
pub(crate) const VERSION: u32 = 1;
/// `Header::ready` once the creator finished formatting.
pub(crate) const READY: u32 = 0x5ea1_0001;
/// Bit of `Header::users` set by the last user on its way out: nobody may attach.
pub(crate) const CLOSED: u32 = 1 << 31;
/// Bytes reserved for the header.
const HEADER_SPACE: usize = 1024;
/// Longest endpoint or topic name, in bytes.
pub(crate) const MAX_NAME: usize = 64;
/// Subscribers one topic can have.
pub(crate) const MAX_SUBSCRIBERS: usize = 16;

/// Record states shared by processes, endpoints and lanes.
pub(crate) const FREE: u32 = 0;
/// Being filled in by its claimer.
pub(crate) const CLAIMING: u32 = 1;
/// In use.
pub(crate) const LIVE: u32 = 2;

/// The segment header.
#[repr(C, align(64))]
pub(crate) struct Header {
    pub magic: AtomicU64,
    pub version: AtomicU32,
    pub ready: AtomicU32,
    /// Attached processes, plus [`CLOSED`].
    pub users: AtomicU32,
    /// Source of epochs for claimed records (never reused while the bus exists).
    pub epochs: AtomicU32,
    /// 0, or `(proc index + 1) | epoch << 32` of the process running crash repair.
    pub recovery: AtomicU64,
    pub max_processes: AtomicU32,
    pub max_endpoints: AtomicU32,
    pub max_lanes: AtomicU32,
    pub lane_capacity: AtomicU32,
    pub held_per_process: AtomicU32,
    _reserved: AtomicU32,
    /// 0, or the token of the process adding or removing an endpoint or lane.
    pub registry_lock: AtomicU64,
    pub total_len: AtomicU64,
    pub procs_off: AtomicU64,
    pub held_off: AtomicU64,
    pub endpoints_off: AtomicU64,
    pub lanes_off: AtomicU64,
    pub lane_stride: AtomicU64,
    pub pool_off: AtomicU64,
    pub pool_len: AtomicU64,
    /// Descriptors rejected by validation, all processes.
    pub corrupt: AtomicU64,
    /// Pool slots given back by crash repair.
    pub reclaimed: AtomicU64,
    /// Messages discarded by the drop-oldest policy.
    pub dropped: AtomicU64,
    /// Crash repairs run.
    pub repairs: AtomicU64,
    /// Ids of large-message segments (see `large.rs`).
    pub large_seq: AtomicU64,
}

/// One attached process. The first line is written on attach/detach; the second is the
/// owner's hot in-operation flag.
#[repr(C, align(64))]
pub(crate) struct ProcRecord {
    pub state: AtomicU32,
    pub epoch: AtomicU32,
    pub pid: AtomicU32,
    _r: AtomicU32,
    pub start_time: AtomicU64,
    _pad: [u8; 40],
    /// Nonzero while the owner is inside a bus operation (see `procs.rs`).
    pub in_op: AtomicU32,
    _pad2: [u8; 60],
}

/// A named consumer queue or topic.
#[repr(C, align(64))]
pub(crate) struct EndpointRecord {
    pub state: AtomicU32,
    pub epoch: AtomicU32,
    pub owner_proc: AtomicU32,
    pub owner_epoch: AtomicU32,
    /// 0 = queue, 1 = topic.
    pub kind: AtomicU32,
    /// `Backpressure` as u32.
    pub policy: AtomicU32,
    pub name_len: AtomicU32,
    /// Bumped whenever a lane to this endpoint appears (consumers rescan) or a topic's
    /// subscriber list changes (publishers rescan).
    pub version: AtomicU32,
    _pad: [u8; 32],
    pub name: [AtomicU64; MAX_NAME / 8],
    /// Futex word: bumped by a producer that saw `waiters` set.
    pub notify: AtomicU32,
    /// Nonzero while the consumer is parked (or about to park).
    pub waiters: AtomicU32,
    _pad2: [u8; 56],
    /// Topic subscribers: `(endpoint index + 1) | (endpoint epoch << 16)`, 0 = empty.
    pub subscribers: [AtomicU32; MAX_SUBSCRIBERS],
}

/// Who a lane connects; followed in memory by a `pool::Lane`.
#[repr(C, align(64))]
pub(crate) struct LaneRecord {
    pub state: AtomicU32,
    pub epoch: AtomicU32,
    pub producer_proc: AtomicU32,
    pub producer_epoch: AtomicU32,
    pub consumer: AtomicU32,
    pub consumer_epoch: AtomicU32,
    _pad: [u8; 40],
    /// Futex word: bumped by the consumer after it made room while `sender_waiting`.
    pub space: AtomicU32,
    pub sender_waiting: AtomicU32,
    _pad2: [u8; 56],
}

const _: () = assert!(size_of::<Header>() <= HEADER_SPACE);
const _: () = assert!(size_of::<ProcRecord>() == 128);
const _: () = assert!(size_of::<EndpointRecord>() == 256);
const _: () = assert!(size_of::<LaneRecord>() == 128);

/// Offsets and counts of one bus segment, computed from a config (create) or read and
/// checked from a header (open).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub max_processes: u32,
    pub max_endpoints: u32,
    pub max_lanes: u32,
    pub lane_capacity: u32,
    pub held_per_process: u32,
    pub procs_off: usize,
    pub held_off: usize,
    pub endpoints_off: usize,
    pub lanes_off: usize,
    pub lane_stride: usize,
    pub pool_off: usize,
    pub pool_len: usize,
    pub total_len: usize,
}

fn align_up(x: usize, a: usize) -> Option<usize> {
    Some(x.checked_add(a - 1)? & !(a - 1))
}

fn config_error(what: &str) -> BusError {
    BusError::InvalidConfig(what.into())
}

impl Layout {
    /// The layout a config produces, or which value is out of range.
    pub fn for_config(cfg: &BusConfig) -> Result<Layout, BusError> {
        let check = |v: u32, lo: u32, hi: u32, name: &str| {
            if v < lo || v > hi {
                Err(BusError::InvalidConfig(format!(
                    "{name} is {v}, must be between {lo} and {hi}"
                )))
            } else {
                Ok(())
            }
        };
        check(cfg.max_processes, 1, 4096, "max_processes")?;
        check(cfg.max_endpoints, 1, 65_535, "max_endpoints")?;
        check(cfg.max_lanes, 1, 1 << 20, "max_lanes")?;
        check(cfg.lane_capacity, 2, 1 << 20, "lane_capacity")?;
        check(cfg.held_per_process, 1, 1 << 20, "held_per_process")?;
        if !cfg.lane_capacity.is_power_of_two() {
            return Err(config_error("lane_capacity must be a power of two"));
        }
        let pool_len = Pool::required_size(&cfg.pool)?;
        Self::compute(
            cfg.max_processes,
            cfg.max_endpoints,
            cfg.max_lanes,
            cfg.lane_capacity,
            cfg.held_per_process,
            pool_len,
        )
        .ok_or_else(|| config_error("the bus would not fit in the address space"))
    }

    fn compute(
        procs: u32,
        endpoints: u32,
        lanes: u32,
        lane_capacity: u32,
        held: u32,
        pool_len: usize,
    ) -> Option<Layout> {
        let procs_off = HEADER_SPACE;
        let held_off =
            procs_off.checked_add((procs as usize).checked_mul(size_of::<ProcRecord>())?)?;
        let held_bytes = (procs as usize)
            .checked_mul(held as usize)?
            .checked_mul(16)?;
        let endpoints_off = align_up(held_off.checked_add(held_bytes)?, ALIGN)?;
        let lanes_off = endpoints_off
            .checked_add((endpoints as usize).checked_mul(size_of::<EndpointRecord>())?)?;
        let lane_stride = align_up(
            size_of::<LaneRecord>() + Lane::required_size(lane_capacity),
            ALIGN,
        )?;
        let pool_off = align_up(
            lanes_off.checked_add((lanes as usize).checked_mul(lane_stride)?)?,
            4096,
        )?;
        let total_len = align_up(pool_off.checked_add(pool_len)?, 4096)?;
        Some(Layout {
            max_processes: procs,
            max_endpoints: endpoints,
            max_lanes: lanes,
            lane_capacity,
            held_per_process: held,
            procs_off,
            held_off,
            endpoints_off,
            lanes_off,
            lane_stride,
            pool_off,
            pool_len,
            total_len,
        })
    }

    /// A layout that only covers the header, for reading the real one.
    pub fn provisional(len: usize) -> Layout {
        Layout {
            max_processes: 0,
            max_endpoints: 0,
            max_lanes: 0,
            lane_capacity: 0,
            held_per_process: 0,
            procs_off: HEADER_SPACE,
            held_off: HEADER_SPACE,
            endpoints_off: HEADER_SPACE,
            lanes_off: HEADER_SPACE,
            lane_stride: 0,
            pool_off: HEADER_SPACE,
            pool_len: 0,
            total_len: len.min(HEADER_SPACE),
        }
    }

    /// Writes the layout into a fresh header (not yet marked ready).
    pub fn write(&self, h: &Header) {
        let r = Ordering::Relaxed;
        h.magic.store(MAGIC, r);
        h.version.store(VERSION, r);
        h.max_processes.store(self.max_processes, r);
        h.max_endpoints.store(self.max_endpoints, r);
        h.max_lanes.store(self.max_lanes, r);
        h.lane_capacity.store(self.lane_capacity, r);
        h.held_per_process.store(self.held_per_process, r);
        h.total_len.store(self.total_len as u64, r);
        h.procs_off.store(self.procs_off as u64, r);
        h.held_off.store(self.held_off as u64, r);
        h.endpoints_off.store(self.endpoints_off as u64, r);
        h.lanes_off.store(self.lanes_off as u64, r);
        h.lane_stride.store(self.lane_stride as u64, r);
        h.pool_off.store(self.pool_off as u64, r);
        h.pool_len.store(self.pool_len as u64, r);
    }

    /// Reads a header written by another process and checks that it describes a layout
    /// this build would have produced and that fits in `len` bytes.
    pub fn read(h: &Header, len: usize) -> Result<Layout, BusError> {
        let r = Ordering::Acquire;
        if h.magic.load(r) != MAGIC {
            return Err(BusError::Incompatible("not a shoal bus (bad magic)".into()));
        }
        let version = h.version.load(r);
        if version != VERSION {
            return Err(BusError::Incompatible(format!(
                "bus format version {version}, this build speaks {VERSION}"
            )));
        }
        let pool_len =
            usize::try_from(h.pool_len.load(r)).map_err(|_| BusError::Corrupt("pool length"))?;
        let layout = Self::compute(
            h.max_processes.load(r),
            h.max_endpoints.load(r),
            h.max_lanes.load(r),
            h.lane_capacity.load(r),
            h.held_per_process.load(r),
            pool_len,
        )
        .ok_or(BusError::Corrupt("header sizes overflow"))?;
        let same = layout.procs_off as u64 == h.procs_off.load(r)
            && layout.held_off as u64 == h.held_off.load(r)
            && layout.endpoints_off as u64 == h.endpoints_off.load(r)
            && layout.lanes_off as u64 == h.lanes_off.load(r)
            && layout.lane_stride as u64 == h.lane_stride.load(r)
            && layout.pool_off as u64 == h.pool_off.load(r)
            && layout.total_len as u64 == h.total_len.load(r);
        if !same || layout.total_len > len || !layout.lane_capacity.is_power_of_two() {
            return Err(BusError::Corrupt("header offsets do not match its sizes"));
        }
        Ok(layout)
    }
}

/// Typed, bounds-checked access to the records of one mapped segment.
///
/// Holds a raw base pointer; the owner (`Shared` in `attach.rs`) keeps the mapping
/// alive for as long as any `View` copy exists.
#[derive(Clone, Copy)]
pub(crate) struct View {
    base: NonNull<u8>,
    pub layout: Layout,
}

// SAFETY: a View only hands out shared references to atomics inside a mapping that its
// owner keeps alive; atomics are Sync.
unsafe impl Send for View {}
// SAFETY: as above.
unsafe impl Sync for View {}

impl View {
    /// # Safety
    /// `base` must point to a live mapping of at least `layout.total_len` bytes, aligned
    /// to 4096, that outlives every copy of the View.
    pub unsafe fn new(base: NonNull<u8>, layout: Layout) -> View {
        View { base, layout }
    }

    /// # Safety
    /// `off + size_of::<T>() <= total_len`, `off` aligned for `T`, and `T` made only of
    /// atomics and padding (valid for every bit pattern, shared access only).
    unsafe fn at<T>(&self, off: usize) -> &T {
        // SAFETY: the caller checked bounds and alignment; T is valid for any bits.
        unsafe { &*(self.base.as_ptr().add(off) as *const T) }
    }

    /// The header.
    pub fn header(&self) -> &Header {
        // SAFETY: the header is at offset 0, inside every valid mapping.
        unsafe { self.at(0) }
    }

    /// Process record `i`, if `i` is in range.
    pub fn proc(&self, i: u32) -> Option<&ProcRecord> {
        if i >= self.layout.max_processes {
            return None;
        }
        // SAFETY: index checked against the layout, records are 128-byte aligned.
        Some(unsafe { self.at(self.layout.procs_off + i as usize * size_of::<ProcRecord>()) })
    }

    /// Held-table entry `j` of process `i` (two words), if both are in range.
    pub fn held(&self, i: u32, j: u32) -> Option<&[AtomicU64; 2]> {
        if i >= self.layout.max_processes || j >= self.layout.held_per_process {
            return None;
        }
        let idx = i as usize * self.layout.held_per_process as usize + j as usize;
        // SAFETY: indexes checked; entries are 16-byte aligned within the held area.
        Some(unsafe { self.at(self.layout.held_off + idx * 16) })
    }

    /// Endpoint record `i`, if in range.
    pub fn endpoint(&self, i: u32) -> Option<&EndpointRecord> {
        if i >= self.layout.max_endpoints {
            return None;
        }
        // SAFETY: index checked, 256-byte records after a 64-aligned offset.
        Some(unsafe {
            self.at(self.layout.endpoints_off + i as usize * size_of::<EndpointRecord>())
        })
    }

    /// Lane record `i`, if in range.
    pub fn lane_record(&self, i: u32) -> Option<&LaneRecord> {
        if i >= self.layout.max_lanes {
            return None;
        }
        // SAFETY: index checked; the stride is a multiple of 64.
        Some(unsafe { self.at(self.layout.lanes_off + i as usize * self.layout.lane_stride) })
    }

    /// Base and length of the ring of lane `i` (just after its record).
    pub fn lane_region(&self, i: u32) -> Option<(NonNull<u8>, usize)> {
        if i >= self.layout.max_lanes {
            return None;
        }
        let off =
            self.layout.lanes_off + i as usize * self.layout.lane_stride + size_of::<LaneRecord>();
        // SAFETY: in bounds by the layout computation.
        let ptr = unsafe { NonNull::new_unchecked(self.base.as_ptr().add(off)) };
        Some((ptr, self.layout.lane_stride - size_of::<LaneRecord>()))
    }

    /// Base and length of the pool region.
    pub fn pool_region(&self) -> (NonNull<u8>, usize) {
        // SAFETY: in bounds by the layout computation.
        let ptr = unsafe { NonNull::new_unchecked(self.base.as_ptr().add(self.layout.pool_off)) };
        (ptr, self.layout.pool_len)
    }
}

/// Claims a record whose `state` is [`FREE`] (moving it to [`CLAIMING`]) and draws a
/// fresh epoch for it; `None` if someone else has it.
pub(crate) fn claim(view: &View, state: &AtomicU32) -> Option<u32> {
    state
        .compare_exchange(FREE, CLAIMING, Ordering::AcqRel, Ordering::Relaxed)
        .ok()?;
    Some(
        view.header()
            .epochs
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1),
    )
}

/// The name bytes stored in an endpoint record (a corrupt length is clamped).
pub(crate) fn load_name(rec: &EndpointRecord) -> ([u8; MAX_NAME], usize) {
    let len = (rec.name_len.load(Ordering::Relaxed) as usize).min(MAX_NAME);
    let mut buf = [0u8; MAX_NAME];
    for (i, w) in rec.name.iter().enumerate() {
        buf[i * 8..i * 8 + 8].copy_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    (buf, len)
}

/// Writes `name` into an endpoint record's name words.
pub(crate) fn store_name(rec: &EndpointRecord, name: &[u8]) {
    let mut buf = [0u8; MAX_NAME];
    buf[..name.len()].copy_from_slice(name);
    for (i, w) in rec.name.iter().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&buf[i * 8..i * 8 + 8]);
        w.store(u64::from_le_bytes(word), Ordering::Relaxed);
    }
    rec.name_len.store(name.len() as u32, Ordering::Relaxed);
}

/// Whether an endpoint record's name equals `name` (a corrupt length never matches).
pub(crate) fn name_is(rec: &EndpointRecord, name: &[u8]) -> bool {
    let (buf, len) = load_name(rec);
    rec.name_len.load(Ordering::Relaxed) as usize == name.len() && &buf[..len] == name
}
