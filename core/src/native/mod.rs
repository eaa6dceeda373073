//! Native extras (feature `std`, Linux): POSIX shared-memory segments and the zero-copy
//! bus between processes on one host.
//!
//! Everything that touches the OS lives here; the algorithms it runs over shared memory
//! (the pool's free lists, the lanes) are in [`crate::pool`] and know nothing of the OS.
#![allow(unsafe_code)]

pub mod bus;
pub mod net;
pub mod router;
pub mod shm;
