//! The router's remote transport: the node's TCP transport, or none (a router built
//! from a ring or table reaches only the members on this host).

use std::fmt;
use std::sync::Arc;

use shoal_core::native::net::{NetError, TcpTransport};
use shoal_core::router::Deliver;

/// TCP to the owners' nodes, or nothing.
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
