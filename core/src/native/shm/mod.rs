//! The OS primitives under the bus: POSIX shared-memory segments and what processes
//! sharing them need from the kernel.
//!
//! It owns:
//!
//! * **mapping** — [`Segment`]: create (mode 0600, whole pages, zero-filled), open, map
//!   read-write and shared, unlink by name;
//! * **naming** — [`validate_name`] / [`os_name`]: which names users may give
//!   (`[A-Za-z0-9._-]`, 1 to [`MAX_NAME_LEN`] bytes, not starting with `.`) and the POSIX
//!   name each maps to (`/shoal-<name>`);
//! * **process identity** — [`ProcessId`]: pid + start time, robust to pid reuse, and
//!   whether the process is still alive (zombies count as dead);
//! * **futex** — [`wait`] / [`wake`]: sleeping on a 32-bit word in shared memory, across
//!   mappings and processes;
//! * **cpu** — [`pin_current_thread`] / [`available_cpus`]: thread affinity;
//! * **page size** — [`page_size`].
//!
//! It must not:
//!
//! * decide **when a segment is unlinked** — dropping a [`Segment`] only unmaps it; the
//!   bus decides when no process uses a name any more and calls [`Segment::unlink`];
//! * know **what is inside a segment** — no headers, offsets or layouts here; those are
//!   the pool's and the bus's;
//! * hold policy of any kind (retries, spinning, CPU choice): callers decide.
//!
//! Linux only (uses `/dev/shm`, `/proc` and futexes).

mod cpu;
mod futex;
mod name;
mod page;
mod process;
mod segment;

pub use cpu::{available_cpus, pin_current_thread};
pub use futex::{wait, wake, WaitOutcome};
pub use name::{os_name, validate_name, MAX_NAME_LEN, OS_PREFIX};
pub use page::page_size;
pub use process::ProcessId;
pub use segment::Segment;
