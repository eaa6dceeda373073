//! `shoal bench …`: side-by-side benchmarks, each against its anchor measured in the
//! same run.
//!
//! * [`ring`] — placement lookups and builds against other consistent-hashing crates.
//! * [`bus`] — the shared-memory bus against a Unix domain socket between two pinned
//!   processes (round trips, one-way throughput), and the pool's alloc + free cost.
//! * [`cluster`] — `shoal agent` processes on loopback: time to full view, failure
//!   detection after `kill -9`, false failures.
//! * [`route`] — routed messages between two hosts (network namespaces) against a
//!   plain TCP echo of the same size.

pub mod bus;
pub mod cluster;
pub mod machine;
pub mod ring;
pub mod route;
