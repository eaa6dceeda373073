//! The zero-copy bus between processes on one host.
//!
//! A bus is one POSIX shared-memory segment (see [`layout`](self) docs in `layout.rs`)
//! holding a buffer [`pool`](crate::pool), named endpoints, and lanes: single-producer
//! single-consumer rings of descriptors, one per [`Sender`], so many producers in many
//! processes reach one [`Receiver`] without contending. A message is written once, in
//! place, into a [`Loan`]; sending moves a 16-byte descriptor; the receiver reads the
//! same bytes through a [`Message`] (which converts to `bytes::Bytes` without copying).
//!
//! Safety against peers: every descriptor, index and counter read from shared memory is
//! validated before use; a bad one is an error and a count in [`BusStats::corrupt`],
//! never an out-of-bounds access or a panic. Safety against crashes: every attached
//! process is recorded with its pid and start time, and what a dead process held is
//! given back by crash repair (on attach, on demand with [`Bus::reclaim`], and every
//! 100 ms from parked waits); the segment's name is unlinked by the last user to leave.
//!
//! What this module must not do: interpret message contents, or block anywhere except
//! in the documented blocking calls.
//!
//! # Example
//!
//! ```
//! use shoal_core::native::bus::{Bus, BusConfig, EndpointConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let name = format!("doc-{}", std::process::id());
//! let bus = Bus::create(&name, &BusConfig::small())?;
//! // Usually in another process: `Bus::open(&name)?`.
//! let mut inbox = bus.endpoint("inbox", EndpointConfig::default())?;
//! let mut to_inbox = bus.sender("inbox")?;
//!
//! let mut loan = to_inbox.loan(5)?;
//! loan.copy_from_slice(b"hello");
//! let at = loan.offset();
//! to_inbox.send(loan)?;
//!
//! let message = inbox.recv()?;
//! assert_eq!(&message[..], b"hello");
//! assert_eq!(message.offset(), at); // the very same bytes, not a copy
//! # Ok(())
//! # }
//! ```

mod batch;
mod compress;
mod config;
mod error;
mod flusher;
mod held;
mod large;
mod layout;
mod loan;
mod procs;
mod publisher;
mod receiver;
mod registry;
mod repair;
mod sender;
mod shared;
mod signal;

use core::sync::atomic::Ordering;
use std::sync::Arc;

pub use config::{Backpressure, BusConfig, EndpointConfig, WaitStrategy};
pub use error::BusError;
pub use loan::Loan;
pub use publisher::Publisher;
pub use receiver::{Message, Receiver};
pub use repair::ReclaimReport;
pub use sender::{SendError, Sender, DEFAULT_BATCH_DELAY};

use crate::pool::PoolStats;
use layout::LIVE;
use shared::Shared;

/// A handle on a named bus; cheap to clone, usable from any thread. The process stays
/// attached until the last handle, sender, receiver, loan and message is dropped; the
/// last process to leave removes the segment's name.
///
/// Handles belong to the process that made them: a child created by `fork` must open
/// the bus again with [`Bus::open`] and leave inherited handles alone (they are recorded
/// as the parent's, and the batch flusher thread does not exist in the child).
#[derive(Clone)]
pub struct Bus {
    shared: Arc<Shared>,
}

/// Counters and occupancy of a bus.
#[derive(Clone, Debug)]
pub struct BusStats {
    /// The pool: utilization, per-class occupancy, fragmentation.
    pub pool: PoolStats,
    /// Attached processes (live or not yet repaired).
    pub processes: u32,
    /// Live endpoints.
    pub endpoints: u32,
    /// Live lanes.
    pub lanes: u32,
    /// Descriptors or counters from shared memory that failed validation.
    pub corrupt: u64,
    /// Pool slots given back by crash repair.
    pub reclaimed: u64,
    /// Messages discarded by the drop-oldest policy.
    pub dropped: u64,
    /// Crash repairs run.
    pub repairs: u64,
}

impl Bus {
    /// Creates the bus `name` (1–200 bytes of `[A-Za-z0-9._-]`, not starting with `.`),
    /// sized by `cfg`. Fails with [`BusError::AlreadyExists`] if a bus of that name has a
    /// live user; one whose users all died is replaced.
    pub fn create(name: &str, cfg: &BusConfig) -> Result<Bus, BusError> {
        Ok(Bus {
            shared: Shared::create(name, cfg)?,
        })
    }

    /// Opens the existing bus `name` ([`BusError::NotFound`] if there is none) and
    /// repairs what dead processes left behind.
    pub fn open(name: &str) -> Result<Bus, BusError> {
        Ok(Bus {
            shared: Shared::open(name)?,
        })
    }

    /// The bus's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Becomes the consumer of endpoint `name` (1–64 bytes of `[A-Za-z0-9._/:-]`).
    /// One live consumer per name: [`BusError::EndpointTaken`] otherwise. The
    /// endpoint's backpressure policy applies to every sender.
    pub fn endpoint(&self, name: &str, cfg: EndpointConfig) -> Result<Receiver, BusError> {
        Receiver::new(&self.shared, name, cfg)
    }

    /// A sender to endpoint `name`, with a lane of its own.
    pub fn sender(&self, name: &str) -> Result<Sender, BusError> {
        Sender::new(&self.shared, name)
    }

    /// Subscribes to topic `name` (created if needed): the returned receiver gets every
    /// message published to the topic from now on. The endpoint config's backpressure
    /// policy applies to this subscriber's lanes.
    pub fn subscribe(&self, topic: &str, cfg: EndpointConfig) -> Result<Receiver, BusError> {
        Receiver::subscribe(&self.shared, topic, cfg)
    }

    /// A publisher to topic `name` (created if needed).
    pub fn publisher(&self, topic: &str) -> Result<Publisher, BusError> {
        Publisher::new(&self.shared, topic)
    }

    /// Borrows a buffer of `len` bytes from the pool.
    pub fn loan(&self, len: usize) -> Result<Loan, BusError> {
        Loan::new(&self.shared, len)
    }

    /// Runs crash repair now if any attached process has died.
    pub fn reclaim(&self) -> Result<ReclaimReport, BusError> {
        self.shared.repair()
    }

    /// Occupancy and counters.
    pub fn stats(&self) -> BusStats {
        let view = &self.shared.view;
        let h = view.header();
        let live = |state: Option<u32>| u32::from(state == Some(LIVE));
        BusStats {
            pool: self.shared.pool.stats(),
            processes: (0..view.layout.max_processes)
                .map(|i| live(view.proc(i).map(|r| r.state.load(Ordering::Relaxed))))
                .sum(),
            endpoints: (0..view.layout.max_endpoints)
                .map(|i| live(view.endpoint(i).map(|r| r.state.load(Ordering::Relaxed))))
                .sum(),
            lanes: (0..view.layout.max_lanes)
                .map(|i| live(view.lane_record(i).map(|r| r.state.load(Ordering::Relaxed))))
                .sum(),
            corrupt: h.corrupt.load(Ordering::Relaxed),
            reclaimed: h.reclaimed.load(Ordering::Relaxed),
            dropped: h.dropped.load(Ordering::Relaxed),
            repairs: h.repairs.load(Ordering::Relaxed),
        }
    }
}

impl core::fmt::Debug for Bus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Bus")
            .field("name", &self.shared.name)
            .field("process", &self.shared.me.index)
            .finish()
    }
}
