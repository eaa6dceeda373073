//! Node descriptions: what callers pass in ([`NodeSpec`]) and what a ring keeps ([`Node`]).

use alloc::string::String;

use crate::error::{Error, Result};

/// Largest vnode count one node may have (2^20).
pub const MAX_VNODES_PER_NODE: u32 = 1 << 20;

/// A node to add to a ring: its id plus optional weight, explicit vnode count and zone.
///
/// ```
/// use shoal_core::NodeSpec;
/// let spec = NodeSpec::new("query-engine").weight(1.25).zone("rack-a");
/// assert_eq!(spec.id, "query-engine");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// The node's id (any UTF-8 string; hashed as its bytes).
    pub id: String,
    /// Relative capacity; vnodes = round(weight · ring vnodes). Default 1.
    pub weight: f64,
    /// Explicit vnode count, overriding the weight-derived count (xxh3 scheme only).
    pub vnodes: Option<u32>,
    /// Failure domain used by distinct-zone replica lookups. `None` means the node is a
    /// zone of its own.
    pub zone: Option<String>,
}

impl NodeSpec {
    /// A node of weight 1 with no zone.
    pub fn new(id: impl Into<String>) -> Self {
        NodeSpec {
            id: id.into(),
            weight: 1.0,
            vnodes: None,
            zone: None,
        }
    }

    /// Sets the weight (relative capacity).
    pub fn weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// Sets an explicit vnode count, e.g. the source's 100/80/120/60 per agent type.
    pub fn vnodes(mut self, vnodes: u32) -> Self {
        self.vnodes = Some(vnodes);
        self
    }

    /// Sets the zone (failure domain).
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    pub(crate) fn check_weight(&self) -> Result<()> {
        if !self.weight.is_finite() || self.weight <= 0.0 {
            return Err(Error::InvalidWeight {
                id: self.id.clone(),
                weight: self.weight,
            });
        }
        if let Some(v) = self.vnodes {
            if v == 0 || v > MAX_VNODES_PER_NODE {
                return Err(Error::InvalidConfig(
                    "explicit vnode count must be between 1 and 2^20",
                ));
            }
        }
        Ok(())
    }
}

impl From<&str> for NodeSpec {
    fn from(id: &str) -> Self {
        NodeSpec::new(id)
    }
}

impl From<String> for NodeSpec {
    fn from(id: String) -> Self {
        NodeSpec::new(id)
    }
}

/// A node as held by a ring: its spec plus the vnode count the ring derived.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub(crate) spec: NodeSpec,
    pub(crate) vnode_count: u32,
    /// Index into the ring's zone table (nodes without a zone get a private zone).
    pub(crate) zone_index: u32,
}

impl Node {
    /// The node's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }
    /// The node's weight.
    pub fn weight(&self) -> f64 {
        self.spec.weight
    }
    /// The number of vnodes the node has on the ring (for ketama: vnodes, 4 points each).
    pub fn vnodes(&self) -> u32 {
        self.vnode_count
    }
    /// The node's zone, if it was given one.
    pub fn zone(&self) -> Option<&str> {
        self.spec.zone.as_deref()
    }
    /// The spec the node was added with.
    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }
}

/// Vnodes for a weight: `max(1, round(weight · per_unit))`, or the explicit count.
pub(crate) fn node_vnodes(spec: &NodeSpec, per_unit: u32) -> Result<u32> {
    if let Some(v) = spec.vnodes {
        return Ok(v);
    }
    let v = libm::round(spec.weight * f64::from(per_unit));
    if v > f64::from(MAX_VNODES_PER_NODE) {
        return Err(Error::InvalidWeight {
            id: spec.id.clone(),
            weight: spec.weight,
        });
    }
    Ok((v as u32).max(1))
}
