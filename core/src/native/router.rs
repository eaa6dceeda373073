//! [`BusTransport`]: the router's local transport over the shared-memory bus.
//!
//! A member `id` that runs on this host consumes the bus endpoint named `prefix + id`;
//! delivering to it writes the payload once into a pool buffer and sends it down this
//! transport's lane to that endpoint (the routing key is not transmitted). Senders are
//! created on first use and kept.

use std::collections::HashMap;
use std::format;
use std::string::String;

use super::bus::{Bus, BusError, Sender};
use crate::router::Deliver;

/// Delivers routed payloads to bus endpoints named after their owners.
pub struct BusTransport {
    bus: Bus,
    prefix: String,
    senders: HashMap<String, Sender>,
}

impl BusTransport {
    /// Endpoint of member `id` is `id` itself.
    pub fn new(bus: Bus) -> Self {
        Self::with_prefix(bus, "")
    }

    /// Endpoint of member `id` is `prefix + id` (e.g. `"agent/"`).
    pub fn with_prefix(bus: Bus, prefix: &str) -> Self {
        BusTransport {
            bus,
            prefix: prefix.into(),
            senders: HashMap::new(),
        }
    }

    /// The endpoint name for member `id`.
    pub fn endpoint_of(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }
}

impl Deliver for BusTransport {
    type Error = BusError;

    fn deliver(&mut self, owner: &str, _key: &[u8], payload: &[u8]) -> Result<(), BusError> {
        if !self.senders.contains_key(owner) {
            let sender = self.bus.sender(&self.endpoint_of(owner))?;
            self.senders.insert(owner.into(), sender);
        }
        let Some(sender) = self.senders.get_mut(owner) else {
            return Err(BusError::NoSuchEndpoint(owner.into()));
        };
        let result = sender.send_copy(payload);
        if let Err(BusError::EndpointGone(_)) = result {
            // The member left this host; the next delivery looks it up again.
            self.senders.remove(owner);
        }
        result
    }
}

impl core::fmt::Debug for BusTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BusTransport")
            .field("bus", &self.bus.name())
            .field("prefix", &self.prefix)
            .field("senders", &self.senders.len())
            .finish()
    }
}
