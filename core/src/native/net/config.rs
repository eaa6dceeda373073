//! [`NodeConfig`]: everything a [`Node`](super::Node) needs to start.

use std::net::SocketAddr;
use std::string::String;
use std::vec::Vec;

use super::impair::Impairment;
use crate::membership::{Config, Meta, PlacementSpec};
use crate::ring::HashScheme;
use crate::wire::Keyring;

/// How to start a [`Node`](super::Node). Build it with [`NodeConfig::new`] and set the
/// public fields; every field has a sane default.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The member id, unique in the cluster and stable across restarts (a restarted
    /// member with the same id comes back with a higher incarnation). Default: the
    /// advertise address, as `ip:port`.
    pub id: Option<String>,
    /// The UDP (membership) and TCP (control, routed payloads) address to listen on.
    /// Port 0 picks a free port (read it back with [`Node::local_addr`](super::Node::local_addr)).
    pub bind: SocketAddr,
    /// The address other members reach this one at, when it differs from `bind` (behind
    /// NAT, or `bind` is `0.0.0.0`). Default: `bind` with the port actually bound.
    pub advertise: Option<SocketAddr>,
    /// Members to contact on start (any live member will do). Empty: start a new
    /// cluster and wait to be contacted.
    pub seeds: Vec<SocketAddr>,
    /// Role, weight and zone this member announces. Placement reads weight and zone.
    pub meta: Meta,
    /// The cluster label: datagrams of other labels are rejected. Default `"shoal"`.
    pub label: String,
    /// Keys to authenticate (and with `encrypt`, encrypt) every datagram. `None`: plain
    /// mode, suitable only for trusted networks.
    pub keyring: Option<Keyring>,
    /// Encrypt datagrams (needs a keyring).
    pub encrypt: bool,
    /// Protocol timings (probe, gossip, suspicion, anti-entropy); the LAN profile by
    /// default.
    pub protocol: Config,
    /// The layout kept in step with the live members. Default: an XXH3 ring with 160
    /// points per unit of weight.
    pub placement: PlacementSpec,
    /// Loss and delay injected into this node's outgoing datagrams, for tests of bad
    /// networks. Default: none.
    pub impair: Impairment,
}

impl NodeConfig {
    /// Defaults for a node listening on `bind`.
    pub fn new(bind: SocketAddr) -> NodeConfig {
        NodeConfig {
            id: None,
            bind,
            advertise: None,
            seeds: Vec::new(),
            meta: Meta::default(),
            label: "shoal".into(),
            keyring: None,
            encrypt: false,
            protocol: Config::default(),
            placement: PlacementSpec::Ring {
                scheme: HashScheme::Xxh3,
                vnodes: 160,
            },
            impair: Impairment::default(),
        }
    }
}
