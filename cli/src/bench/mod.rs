//! `shoal bench …`: side-by-side benchmarks, each against its anchor measured in the
//! same run.
//!
//! * [`ring`] — placement lookups and builds against other consistent-hashing crates.
//! * [`bus`] — the shared-memory bus against a Unix domain socket between two pinned
//!   processes (round trips, one-way throughput), and the pool's alloc + free cost.

pub mod bus;
pub mod ring;
