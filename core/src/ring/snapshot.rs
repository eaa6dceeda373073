//! Versioned snapshots of a ring: the inputs (scheme, vnodes, nodes), from which the
//! layout is re-derived deterministically. With the `serde` feature they serialize to
//! any serde format; the field names and meanings of version 1 are frozen.

use alloc::string::String;
use alloc::vec::Vec;

use super::{HashScheme, NodeSpec, Ring};
use crate::error::{Error, Result};

/// The snapshot format version this build writes and reads.
pub const RING_SNAPSHOT_VERSION: u32 = 1;

/// A serializable description of a ring.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RingSnapshot {
    /// Format version ([`RING_SNAPSHOT_VERSION`]).
    pub version: u32,
    /// Hash scheme.
    pub hash: HashScheme,
    /// Vnodes per unit of weight.
    pub vnodes: u32,
    /// Nodes sorted by id.
    pub nodes: Vec<NodeSnapshot>,
    /// Checksum of the layout: XXH3-64 over the sorted points and owner ids. Checked on
    /// restore so a snapshot never silently yields a different placement.
    pub layout_digest: u64,
}

/// One node in a [`RingSnapshot`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeSnapshot {
    /// Node id.
    pub id: String,
    /// Weight.
    pub weight: f64,
    /// Explicit vnode count, if one was given.
    #[cfg_attr(feature = "serde", serde(default))]
    pub vnodes: Option<u32>,
    /// Zone, if any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub zone: Option<String>,
}

impl Ring {
    /// A snapshot of this ring.
    pub fn snapshot(&self) -> RingSnapshot {
        RingSnapshot {
            version: RING_SNAPSHOT_VERSION,
            hash: self.scheme,
            vnodes: self.vnodes,
            nodes: self
                .nodes
                .iter()
                .map(|n| NodeSnapshot {
                    id: n.spec.id.clone(),
                    weight: n.spec.weight,
                    vnodes: n.spec.vnodes,
                    zone: n.spec.zone.clone(),
                })
                .collect(),
            layout_digest: self.layout_digest(),
        }
    }

    /// Rebuilds a ring from a snapshot, checking its version and layout digest.
    pub fn from_snapshot(snapshot: &RingSnapshot) -> Result<Ring> {
        if snapshot.version != RING_SNAPSHOT_VERSION {
            return Err(Error::UnsupportedVersion(snapshot.version));
        }
        let specs = snapshot.nodes.iter().map(|n| NodeSpec {
            id: n.id.clone(),
            weight: n.weight,
            vnodes: n.vnodes,
            zone: n.zone.clone(),
        });
        let ring = Ring::from_nodes(snapshot.hash, snapshot.vnodes, specs)?;
        if ring.layout_digest() != snapshot.layout_digest {
            return Err(Error::CorruptSnapshot(
                "layout digest does not match the nodes (written by an incompatible hash scheme?)",
            ));
        }
        Ok(ring)
    }

    /// XXH3-64 over the point layout and owner ids: equal for rings that place every key
    /// identically.
    pub fn layout_digest(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        h.update(b"shoal.ring.v1");
        h.update(&[self.scheme as u8]);
        for n in &self.nodes {
            h.update(&(n.id().len() as u64).to_le_bytes());
            h.update(n.id().as_bytes());
        }
        for (p, o) in self.points.iter().zip(&self.owners) {
            h.update(&p.to_le_bytes());
            h.update(&o.to_le_bytes());
        }
        h.digest()
    }
}
