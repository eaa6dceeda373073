//! The atomics the pool's algorithms are written against.
//!
//! Under `cfg(loom)` these are loom's model-checked atomics, so the free-list, slot-state
//! and lane algorithms can be explored exhaustively over heap-allocated cells; otherwise
//! they are `core::sync::atomic`, which the region-backed [`Pool`](super::Pool) and
//! [`Lane`](super::Lane) cast into the shared byte region. Nothing else lives here: the
//! algorithms must import their atomics from this module and nowhere else.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
