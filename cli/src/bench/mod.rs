//! `shoal bench …`: side-by-side benchmarks, each against its anchor measured in the
//! same run.
//!
//! * [`ring`] — placement lookups and builds against other consistent-hashing crates.

pub mod ring;
