//! The one error type of the placement layer.
//!
//! Every fallible operation returns [`Error`]; no operation in this crate panics on bad
//! input. Each variant documents whether the structure was changed (it never is: a
//! failed call leaves the ring or table exactly as it was).

use alloc::string::String;
use core::fmt;

/// Errors returned by rings, partition tables and the other placement algorithms.
///
/// A call that returns an error has not modified the structure it was called on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A node (or member) with this id is already present.
    DuplicateNode(String),
    /// No node (or member) with this id is present.
    UnknownNode(String),
    /// A weight was NaN, infinite, zero or negative, or yields too many vnodes.
    InvalidWeight {
        /// The node the weight was given for.
        id: String,
        /// The offending weight.
        weight: f64,
    },
    /// A configuration value is out of range (the message says which and why).
    InvalidConfig(&'static str),
    /// The operation needs at least one node, and the structure has none.
    Empty,
    /// Bounded-load lookup: every node is at its capacity.
    NoCapacity {
        /// The mean per-node capacity that every node has reached.
        capacity: u64,
    },
    /// A slice argument does not have one entry per node.
    LengthMismatch {
        /// The length that was expected (the number of nodes).
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// Two structures cannot be compared (different hash scheme or partition count).
    Incompatible(&'static str),
    /// A partition index is not below the table's partition count.
    PartitionOutOfRange {
        /// The index asked for.
        partition: u32,
        /// The table's partition count.
        partitions: u32,
    },
    /// A snapshot has a format version this build does not understand.
    UnsupportedVersion(u32),
    /// A snapshot decoded but does not describe a valid structure (the message says why).
    CorruptSnapshot(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DuplicateNode(id) => write!(f, "node {id:?} is already present"),
            Error::UnknownNode(id) => write!(f, "no node {id:?} is present"),
            Error::InvalidWeight { id, weight } => write!(
                f,
                "weight {weight} for node {id:?} is invalid: it must be finite, greater than 0, and give at most 2^20 vnodes"
            ),
            Error::InvalidConfig(what) => write!(f, "invalid configuration: {what}"),
            Error::Empty => write!(f, "there are no nodes to place on"),
            Error::NoCapacity { capacity } => write!(
                f,
                "every node has reached its bounded-load capacity (about {capacity} keys per node)"
            ),
            Error::LengthMismatch { expected, got } => {
                write!(f, "expected one entry per node ({expected}), got {got}")
            }
            Error::Incompatible(why) => write!(f, "structures cannot be compared: {why}"),
            Error::PartitionOutOfRange {
                partition,
                partitions,
            } => write!(
                f,
                "partition {partition} is out of range (the table has {partitions})"
            ),
            Error::UnsupportedVersion(v) => {
                write!(f, "snapshot format version {v} is not supported (this build reads version 1)")
            }
            Error::CorruptSnapshot(why) => write!(f, "snapshot is invalid: {why}"),
        }
    }
}

impl core::error::Error for Error {}

/// The kind of an [`Error`], for bindings that map errors onto their language's own
/// error types (Python `KeyError`/`ValueError`, JavaScript `RangeError`/`Error`) and
/// stable codes: one classification instead of one per binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is out of range or otherwise unusable (duplicate id, bad weight,
    /// bad configuration, mismatched lengths, incompatible structures, bad partition).
    InvalidArgument,
    /// No node or member with that id.
    UnknownNode,
    /// Nothing to place on.
    Empty,
    /// Bounded-load lookup: every node is at capacity.
    NoCapacity,
    /// A snapshot that cannot be read.
    Snapshot,
}

impl Error {
    /// This error's [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownNode(_) => ErrorKind::UnknownNode,
            Error::Empty => ErrorKind::Empty,
            Error::NoCapacity { .. } => ErrorKind::NoCapacity,
            Error::UnsupportedVersion(_) | Error::CorruptSnapshot(_) => ErrorKind::Snapshot,
            Error::DuplicateNode(_)
            | Error::InvalidWeight { .. }
            | Error::InvalidConfig(_)
            | Error::LengthMismatch { .. }
            | Error::Incompatible(_)
            | Error::PartitionOutOfRange { .. } => ErrorKind::InvalidArgument,
        }
    }
}

/// Shorthand for `Result<T, shoal_core::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;
