//! The router: "send this keyed payload to whoever owns the key".
//!
//! [`Router::route`] asks a [`Placement`] for the key's owner, then hands the payload to
//! the local transport when the owner runs on this host (in `native`, its bus endpoint)
//! or to the remote transport otherwise (TCP between hosts, in the networked-agents
//! layer). Both are the one narrow trait [`Deliver`], so tests plug in
//! [`MemoryTransport`] for either side.
//!
//! Sans-IO like the rest of the core: the router owns no sockets or threads; it only
//! decides and delegates.
//!
//! ```
//! use shoal_core::router::{Destination, MemoryTransport, Router};
//! use shoal_core::Ring;
//!
//! let mut ring = Ring::new();
//! ring.add("a").unwrap();
//! ring.add("b").unwrap();
//! let mut router = Router::new(MemoryTransport::new(), MemoryTransport::new());
//! router.add_local("a");
//! let to = router.route(&ring, b"order-17", b"payload").unwrap();
//! let owner = match &to { Destination::Local(o) | Destination::Remote(o) => o.clone() };
//! assert_eq!(Some(owner.as_str()), ring.locate(b"order-17"));
//! match to {
//!     Destination::Local(o) => assert_eq!(router.local_mut().take(&o).len(), 1),
//!     Destination::Remote(o) => assert_eq!(router.remote_mut().take(&o).len(), 1),
//! }
//! ```

mod memory;
mod route_placement;

use alloc::collections::BTreeSet;
use alloc::string::String;
use core::fmt;

pub use memory::{Delivery, MemoryTransport, Refused};
pub use route_placement::RoutePlacement;

use crate::placement::Placement;

/// Something that can hand a payload to a named member: a bus endpoint, a TCP
/// connection, an in-memory queue.
pub trait Deliver {
    /// Why a delivery failed.
    type Error: fmt::Debug + fmt::Display;

    /// Delivers `payload` (routed by `key`) to `owner`. On error nothing was delivered.
    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), Self::Error>;
}

/// Where a payload went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// To the owner's endpoint on this host.
    Local(String),
    /// To the owner on another host.
    Remote(String),
}

impl Destination {
    /// The owner, and whether it is on this host.
    pub fn into_parts(self) -> (String, bool) {
        match self {
            Destination::Local(owner) => (owner, true),
            Destination::Remote(owner) => (owner, false),
        }
    }
}

/// A failed route. Nothing was delivered.
#[derive(Debug)]
pub enum RouteError<L, R> {
    /// The placement has no nodes.
    NoOwner,
    /// The local transport failed.
    Local {
        /// The key's owner.
        owner: String,
        /// The transport's error.
        error: L,
    },
    /// The remote transport failed.
    Remote {
        /// The key's owner.
        owner: String,
        /// The transport's error.
        error: R,
    },
}

impl<L: fmt::Display, R: fmt::Display> fmt::Display for RouteError<L, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::NoOwner => f.write_str("no owner: the placement has no nodes"),
            RouteError::Local { owner, error } => {
                write!(f, "delivery to local owner {owner:?} failed: {error}")
            }
            RouteError::Remote { owner, error } => {
                write!(f, "delivery to remote owner {owner:?} failed: {error}")
            }
        }
    }
}

impl<L: fmt::Debug + fmt::Display, R: fmt::Debug + fmt::Display> core::error::Error
    for RouteError<L, R>
{
}

/// Counts of routed payloads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Delivered to owners on this host.
    pub local: u64,
    /// Delivered to owners elsewhere.
    pub remote: u64,
    /// Failed (no owner or a transport error).
    pub failed: u64,
}

/// Routes keyed payloads to their owners through a local and a remote transport.
pub struct Router<L, R> {
    local_members: BTreeSet<String>,
    local: L,
    remote: R,
    stats: RouterStats,
}

impl<L: Deliver, R: Deliver> Router<L, R> {
    /// A router with no local members (everything goes to `remote` until
    /// [`Router::add_local`]).
    pub fn new(local: L, remote: R) -> Self {
        Router {
            local_members: BTreeSet::new(),
            local,
            remote,
            stats: RouterStats::default(),
        }
    }

    /// Declares that member `id` runs on this host (its payloads go to `local`).
    pub fn add_local(&mut self, id: &str) {
        self.local_members.insert(id.into());
    }

    /// Declares that member `id` no longer runs on this host.
    pub fn remove_local(&mut self, id: &str) -> bool {
        self.local_members.remove(id)
    }

    /// Whether `id` is a local member.
    pub fn is_local(&self, id: &str) -> bool {
        self.local_members.contains(id)
    }

    /// Where `key` would go, without sending anything.
    pub fn destination<P: Placement + ?Sized>(
        &self,
        placement: &P,
        key: &[u8],
    ) -> Option<Destination> {
        let owner = placement.locate(key)?;
        Some(if self.is_local(owner) {
            Destination::Local(owner.into())
        } else {
            Destination::Remote(owner.into())
        })
    }

    /// Sends `payload` to the owner of `key` under `placement`.
    pub fn route<P: Placement + ?Sized>(
        &mut self,
        placement: &P,
        key: &[u8],
        payload: &[u8],
    ) -> Result<Destination, RouteError<L::Error, R::Error>> {
        let Some(to) = self.destination(placement, key) else {
            self.stats.failed += 1;
            return Err(RouteError::NoOwner);
        };
        let result = match &to {
            Destination::Local(owner) => {
                self.local
                    .deliver(owner, key, payload)
                    .map_err(|error| RouteError::Local {
                        owner: owner.clone(),
                        error,
                    })
            }
            Destination::Remote(owner) => {
                self.remote
                    .deliver(owner, key, payload)
                    .map_err(|error| RouteError::Remote {
                        owner: owner.clone(),
                        error,
                    })
            }
        };
        match (&result, &to) {
            (Err(_), _) => self.stats.failed += 1,
            (Ok(()), Destination::Local(_)) => self.stats.local += 1,
            (Ok(()), Destination::Remote(_)) => self.stats.remote += 1,
        }
        result.map(|()| to)
    }

    /// Counts so far.
    pub fn stats(&self) -> RouterStats {
        self.stats
    }

    /// The local transport.
    pub fn local_mut(&mut self) -> &mut L {
        &mut self.local
    }

    /// The remote transport.
    pub fn remote_mut(&mut self) -> &mut R {
        &mut self.remote
    }
}
