//! Size-class buffer pool over one byte region addressed by offsets, and SPSC lanes.
//!
//! The pool owns the *format* of a region and the lock-free algorithms over it: the
//! region may be a heap buffer (tests) or a shared-memory segment mapped at different
//! addresses in different processes, so nothing in it is a pointer. All shared state
//! (header, free-list heads, per-slot metadata) lives in the region; a [`Pool`] is a
//! process-local handle (base, length, a validated copy of the class table). The pool
//! must not allocate on the hot path (`alloc`, `release`, lane `push`/`pop`), keep
//! global counters, touch the OS, or trust anything it reads from the region.
//!
//! # Region layout
//!
//! ```text
//! offset 0      header (192 bytes): magic "SHOALPL\x01" u64 | version u32 | class count
//!               u32 | total size u64 | reserved u64 | 16 x (slot size u32, count u32)
//! 192           free-list head of class 0   (one 64-byte line per class: AtomicU64
//! 256           free-list head of class 1    = tag << 32 | (top index + 1))
//! ...
//! meta(c)       count(c) x 16 bytes per class, rounded up to 64:
//!               state AtomicU64 (generation << 32 | refcount) | link AtomicU32
//!               (next index + 1) | requested length AtomicU32
//! ...
//! slots(0)      count(0) x slot_size(0) bytes, then the slots of class 1, ...
//! total         (a multiple of ALIGN = 64)
//! ```
//!
//! Every offset follows from the class table alone (see `layout`), so a peer cannot
//! move anything by editing offsets; attach recomputes them and checks they fit.
//!
//! # Invariants
//!
//! * A slot is free iff its refcount is 0. A free slot is on its class's free list at
//!   most once; an allocated slot is on no list. (A process that dies mid-operation can
//!   leave a free slot on no list; [`Pool::sweep`] restores the invariant.)
//! * Every state transition is one CAS on the state word that checks the generation:
//!   claim (g, 0) → (g, 1); retain (g, r) → (g, r + n) for r > 0; release
//!   (g, r) → (g, r − 1), and (g, 1) → (g + 1, 0) for the last reference, which is then
//!   pushed. A descriptor is valid only while its generation is the slot's and the
//!   refcount is positive, so a stale descriptor can never touch a reused slot.
//! * The free-list head's tag changes on every successful CAS (ABA guard).
//! * Memory ordering: the CAS that frees a slot is Release and the claim is Acquire, so
//!   everything the previous holders did with the bytes happens before the next
//!   holder's accesses. A lane `push` is a Release store of head and `pop` an Acquire
//!   load, so what the producer wrote into a slot before pushing its descriptor is
//!   visible to the consumer that pops it.
//! * Anything read from the region (header, heads, links, states, lane counters) is
//!   validated before it is used as an index; inconsistency is an error
//!   ([`PoolError::Corrupt`] or a more specific one), never an out-of-bounds access or a
//!   panic.
//!
//! The algorithms (`freelist`, `slot`, the lane's cells) are written against the atomics
//! of `sync`, so under `cfg(loom)` they are model-checked; the region-backed [`Pool`] and
//! [`Lane`] exist only without `cfg(loom)`.
#![allow(unsafe_code)]
#![cfg_attr(loom, allow(dead_code, unused_imports))]

mod config;
mod descriptor;
mod error;
mod freelist;
mod lane;
#[cfg(not(loom))]
mod layout;
#[cfg(not(loom))]
mod region;
mod slot;
mod stats;
#[cfg(not(loom))]
mod sweep;
mod sync;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

pub use config::{ClassConfig, PoolConfig};
pub use descriptor::Descriptor;
pub use error::PoolError;
#[cfg(not(loom))]
pub use lane::Lane;
pub use lane::LaneError;
#[cfg(not(loom))]
pub use region::{Pool, Slot};
pub use stats::{ClassStats, PoolStats};
#[cfg(not(loom))]
pub use sweep::SweepReport;

/// Maximum number of size classes in a pool.
pub const MAX_CLASSES: usize = 16;

/// Alignment of every region base and every slot (one cache line).
pub const ALIGN: usize = 64;
