//! The router's transports in a native process: [`BusTransport`], local delivery over
//! the shared-memory bus, and [`Remote`], optional TCP to other hosts.
//!
//! A member `id` that runs on this host consumes the bus endpoint named `prefix + id`;
//! delivering to it writes the payload once into a pool buffer and sends it down this
//! transport's lane to that endpoint (the routing key is not transmitted). Senders are
//! created on first use and kept.

use std::collections::HashMap;
use std::fmt;
use std::format;
use std::string::String;
use std::sync::Arc;

use super::bus::{Bus, BusError, Sender};
use super::net::{NetError, TcpTransport};
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

/// The router's remote transport: TCP to the owners' nodes ([`TcpTransport`]), or
/// nothing (a router built from a ring or table reaches only the members on this host).
pub struct Remote(pub Option<Arc<TcpTransport>>);

/// Why a remote delivery failed.
#[derive(Debug)]
pub enum RemoteError {
    /// The TCP transport refused the payload.
    Net(NetError),
    /// This router has no node, so it reaches no other host.
    NoNode,
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Net(e) => e.fmt(f),
            RemoteError::NoNode => f.write_str("this router has no node to reach other hosts"),
        }
    }
}

impl Deliver for Remote {
    type Error = RemoteError;

    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), RemoteError> {
        match &self.0 {
            Some(t) => t
                .send_to(owner, key, payload)
                .map(|_| ())
                .map_err(RemoteError::Net),
            None => Err(RemoteError::NoNode),
        }
    }
}
