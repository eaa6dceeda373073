//! CPU affinity: pin the calling thread to one CPU, and count the CPUs it may use.
//!
//! Busy-polling consumers and producers of the bus run best on a CPU of their own; this
//! file only sets and reads affinity and chooses no CPU for anyone.

use alloc::format;
use std::io;

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

/// Restricts the calling thread to CPU number `cpu` (0-based). Threads it spawns later
/// inherit the restriction.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] if `cpu` is beyond what an affinity mask can name
/// ([`CpuSet::MAX_CPU`]), or the OS error if the CPU does not exist, is offline or is
/// outside this process's allowed set (`EINVAL`).
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= CpuSet::MAX_CPU {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot pin thread to cpu {cpu}: an affinity mask names cpus 0 to {}",
                CpuSet::MAX_CPU - 1
            ),
        ));
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set).map_err(|e| {
        let e = io::Error::from(e);
        io::Error::new(
            e.kind(),
            format!("cannot pin thread to cpu {cpu} (missing, offline or not allowed): {e}"),
        )
    })
}

/// How many CPUs the calling thread may run on (its affinity mask), at least 1. Falls
/// back to [`std::thread::available_parallelism`] if the mask cannot be read.
pub fn available_cpus() -> usize {
    match sched_getaffinity(None) {
        Ok(set) => usize::try_from(set.count()).unwrap_or(1).max(1),
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}
