//! [`MemoryTransport`]: an in-memory [`Deliver`] for tests and examples.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::Deliver;

/// One delivery: the routing key and the payload.
pub type Delivery = (Vec<u8>, Vec<u8>);

/// Delivered payloads kept in per-owner queues, in order.
#[derive(Clone, Debug, Default)]
pub struct MemoryTransport {
    queues: BTreeMap<String, VecDeque<Delivery>>,
    refuse: Option<String>,
}

/// The error of a [`MemoryTransport`] told to refuse an owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "owner {:?} refused the delivery", self.0)
    }
}

impl MemoryTransport {
    /// An empty transport.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes deliveries to `owner` fail (to test error paths); `None` accepts all.
    pub fn refuse(&mut self, owner: Option<&str>) {
        self.refuse = owner.map(String::from);
    }

    /// Takes everything delivered to `owner` so far: `(key, payload)` pairs, in order.
    pub fn take(&mut self, owner: &str) -> Vec<Delivery> {
        self.queues.remove(owner).map(Vec::from).unwrap_or_default()
    }

    /// Number of payloads waiting for `owner`.
    pub fn pending(&self, owner: &str) -> usize {
        self.queues.get(owner).map_or(0, VecDeque::len)
    }
}

impl Deliver for MemoryTransport {
    type Error = Refused;

    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), Refused> {
        if self.refuse.as_deref() == Some(owner) {
            return Err(Refused(owner.into()));
        }
        self.queues
            .entry(owner.into())
            .or_default()
            .push_back((key.to_vec(), payload.to_vec()));
        Ok(())
    }
}
