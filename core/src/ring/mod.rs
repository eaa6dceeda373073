//! The consistent-hash ring: weighted vnodes on a 64-bit circle.
//!
//! This module owns the node set and the sorted point layout. Lookups go through a
//! prefix index (`index.rs`), never a tree walk. It does no I/O and allocates only when
//! the node set changes or a caller asks for an owned result.
//!
//! ```
//! use shoal_core::{NodeSpec, Ring};
//!
//! let mut ring = Ring::new(); // xxh3, 160 vnodes per unit of weight
//! ring.add("a").unwrap();
//! ring.add(NodeSpec::new("b").weight(2.0)).unwrap();
//! let owner = ring.locate(b"user:42").unwrap();
//! assert!(owner == "a" || owner == "b");
//! assert_eq!(ring.locate_n(b"user:42", 2).len(), 2);
//! ```

mod bounded;
mod diff;
mod index;
mod node;
mod replicas;
mod reweight;
mod snapshot;

pub use bounded::BoundedLoad;
pub use diff::{MigrationPlan, RangeMove};
pub(crate) use node::node_vnodes;
pub use node::{Node, NodeSpec, MAX_VNODES_PER_NODE};
pub use replicas::ZonePolicy;
pub use snapshot::{NodeSnapshot, RingSnapshot, RING_SNAPSHOT_VERSION};

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::hash::{self, ketama};
use index::PrefixIndex;

/// The hash scheme a ring uses to place vnodes and keys. See [`crate::hash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum HashScheme {
    /// XXH3-64 keys and vnode points (shoal's own, pinned scheme).
    #[default]
    Xxh3,
    /// MD5 points laid out as libketama / uhashring / npm hashring.
    Ketama,
}

impl HashScheme {
    /// The scheme's name as used in snapshots, vectors and bindings.
    pub fn name(self) -> &'static str {
        match self {
            HashScheme::Xxh3 => "xxh3",
            HashScheme::Ketama => "ketama",
        }
    }

    /// The default points per unit of weight: [`DEFAULT_VNODES`] for xxh3, 40 per
    /// server for ketama (libketama's layout, 4 points each).
    pub fn default_vnodes(self) -> u32 {
        match self {
            HashScheme::Xxh3 => DEFAULT_VNODES,
            HashScheme::Ketama => 40,
        }
    }

    /// Parses `"xxh3"` or `"ketama"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "xxh3" => Ok(HashScheme::Xxh3),
            "ketama" => Ok(HashScheme::Ketama),
            _ => Err(Error::InvalidConfig(
                "hash scheme must be \"xxh3\" or \"ketama\"",
            )),
        }
    }
}

/// Default vnodes per unit of weight for the xxh3 scheme.
pub const DEFAULT_VNODES: u32 = 160;

/// Largest total number of points a ring may hold (2^31 − 1).
pub const MAX_POINTS: usize = (1 << 31) - 1;

/// A consistent-hash ring of weighted nodes.
///
/// Nodes are kept sorted by id and points sorted by (position, id), so two rings with
/// the same nodes are identical whatever order the nodes were added in.
#[derive(Debug, Clone)]
pub struct Ring {
    scheme: HashScheme,
    vnodes: u32,
    nodes: Vec<Node>,
    zone_count: u32,
    points: Vec<u64>,
    owners: Vec<u32>,
    index: PrefixIndex,
}

impl Default for Ring {
    fn default() -> Self {
        Ring::new()
    }
}

impl Ring {
    /// An empty xxh3 ring with 160 vnodes per unit of weight.
    pub fn new() -> Self {
        Ring::with_scheme(HashScheme::Xxh3, DEFAULT_VNODES).expect("default config is valid")
    }

    /// An empty ring with the given scheme and vnodes per unit of weight (ketama: vnodes
    /// per server before weighting, 40 in libketama).
    pub fn with_scheme(scheme: HashScheme, vnodes: u32) -> Result<Self> {
        if vnodes == 0 || vnodes > MAX_VNODES_PER_NODE {
            return Err(Error::InvalidConfig("vnodes must be between 1 and 2^20"));
        }
        Ok(Ring {
            scheme,
            vnodes,
            nodes: Vec::new(),
            zone_count: 0,
            points: Vec::new(),
            owners: Vec::new(),
            index: PrefixIndex::default(),
        })
    }

    /// An empty ketama ring with libketama's 40 vnodes per server.
    pub fn ketama() -> Self {
        Ring::with_scheme(HashScheme::Ketama, ketama::DEFAULT_VNODES).expect("valid")
    }

    /// Builds a ring from many nodes at once (one sort instead of one merge per node).
    pub fn from_nodes<I, N>(scheme: HashScheme, vnodes: u32, nodes: I) -> Result<Self>
    where
        I: IntoIterator<Item = N>,
        N: Into<NodeSpec>,
    {
        let mut ring = Ring::with_scheme(scheme, vnodes)?;
        ring.extend(nodes)?;
        Ok(ring)
    }

    /// The ring's hash scheme.
    pub fn scheme(&self) -> HashScheme {
        self.scheme
    }

    /// Vnodes per unit of weight.
    pub fn vnodes_per_weight(&self) -> u32 {
        self.vnodes
    }

    /// The nodes, sorted by id. Indices into this slice are the "node indices" used by
    /// the `*_index` and batch methods; they change when nodes are added or removed.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the ring has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Total number of points on the ring.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// The sorted ring positions and, for each, the index of its owner.
    pub fn points(&self) -> (&[u64], &[u32]) {
        (&self.points, &self.owners)
    }

    /// Index of the node with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.find(id).ok()
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.index_of(id).map(|i| &self.nodes[i])
    }

    /// The ring position of a key under this ring's scheme (xxh3: [`hash::key_hash`];
    /// ketama: [`ketama::key_position`]).
    #[inline]
    pub fn key_position(&self, key: &[u8]) -> u64 {
        match self.scheme {
            HashScheme::Xxh3 => hash::key_hash(key),
            HashScheme::Ketama => ketama::key_position(key),
        }
    }

    /// The owner of a key, or `None` when the ring is empty.
    #[inline]
    pub fn locate(&self, key: impl AsRef<[u8]>) -> Option<&str> {
        self.locate_hash(self.key_position(key.as_ref()))
    }

    /// The owner of a ring position (a key hash from [`Ring::key_position`]).
    #[inline]
    pub fn locate_hash(&self, position: u64) -> Option<&str> {
        self.locate_index(position)
            .map(|i| self.nodes[i as usize].id())
    }

    /// The index (into [`Ring::nodes`]) of the owner of a ring position.
    #[inline]
    pub fn locate_index(&self, position: u64) -> Option<u32> {
        if self.points.is_empty() {
            return None;
        }
        Some(self.index.owner(&self.points, &self.owners, position))
    }

    /// The owners of many keys, in order. Fails only when the ring is empty.
    pub fn locate_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<&str>> {
        if self.points.is_empty() {
            return Err(Error::Empty);
        }
        Ok(keys
            .iter()
            .map(|k| {
                let p = self
                    .index
                    .position(&self.points, self.key_position(k.as_ref()));
                self.nodes[self.owners[p] as usize].id()
            })
            .collect())
    }

    /// Batch lookup of ring positions into node indices; `out` must be as long as
    /// `positions`. Fails when the ring is empty or the lengths differ.
    pub fn locate_many_hashes(&self, positions: &[u64], out: &mut [u32]) -> Result<()> {
        if self.points.is_empty() {
            return Err(Error::Empty);
        }
        if out.len() != positions.len() {
            return Err(Error::LengthMismatch {
                expected: positions.len(),
                got: out.len(),
            });
        }
        for (o, &h) in out.iter_mut().zip(positions) {
            *o = self.index.owner(&self.points, &self.owners, h);
        }
        Ok(())
    }

    /// Adds a node. Fails (leaving the ring unchanged) on a duplicate id or bad weight.
    pub fn add(&mut self, node: impl Into<NodeSpec>) -> Result<()> {
        let spec = node.into();
        spec.check_weight()?;
        let at = match self.find(&spec.id) {
            Ok(_) => return Err(Error::DuplicateNode(spec.id)),
            Err(at) => at,
        };
        match self.scheme {
            HashScheme::Xxh3 => {
                let count = node::node_vnodes(&spec, self.vnodes)?;
                self.check_total(self.points.len() + count as usize)?;
                // Shift owner indices at or after the insertion slot, then merge.
                for o in &mut self.owners {
                    if *o >= at as u32 {
                        *o += 1;
                    }
                }
                let mut fresh = xxh3_points(&spec.id, count);
                fresh.sort_unstable();
                self.nodes.insert(
                    at,
                    Node {
                        spec,
                        vnode_count: count,
                        zone_index: 0,
                    },
                );
                self.merge_points(&fresh, at as u32);
                self.finish();
            }
            HashScheme::Ketama => {
                let mut specs: Vec<NodeSpec> = self.nodes.iter().map(|n| n.spec.clone()).collect();
                specs.insert(at, spec);
                self.rebuild(specs)?;
            }
        }
        Ok(())
    }

    /// Adds many nodes with a single rebuild. All-or-nothing: on error nothing is added.
    pub fn extend<I, N>(&mut self, nodes: I) -> Result<()>
    where
        I: IntoIterator<Item = N>,
        N: Into<NodeSpec>,
    {
        let mut specs: Vec<NodeSpec> = self.nodes.iter().map(|n| n.spec.clone()).collect();
        for n in nodes {
            let spec = n.into();
            spec.check_weight()?;
            specs.push(spec);
        }
        specs.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = specs.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(Error::DuplicateNode(w[0].id.clone()));
        }
        self.rebuild(specs)
    }

    /// Removes a node; its keys move to the nodes that follow its points.
    pub fn remove(&mut self, id: &str) -> Result<Node> {
        let at = self
            .find(id)
            .map_err(|_| Error::UnknownNode(String::from(id)))?;
        match self.scheme {
            HashScheme::Xxh3 => {
                let removed = self.nodes.remove(at);
                self.drop_points_of(at as u32, true);
                self.finish();
                Ok(removed)
            }
            HashScheme::Ketama => {
                let mut specs: Vec<NodeSpec> = self.nodes.iter().map(|n| n.spec.clone()).collect();
                specs.remove(at);
                let removed = self.nodes[at].clone();
                self.rebuild(specs)?;
                Ok(removed)
            }
        }
    }

    /// Changes a node's weight (and with it its vnode count). With xxh3, raising the
    /// weight only adds points and lowering it only removes points.
    pub fn set_weight(&mut self, id: &str, weight: f64) -> Result<()> {
        let at = self
            .find(id)
            .map_err(|_| Error::UnknownNode(String::from(id)))?;
        let mut spec = self.nodes[at].spec.clone();
        spec.weight = weight;
        spec.vnodes = None;
        spec.check_weight()?;
        match self.scheme {
            HashScheme::Xxh3 => {
                let count = node::node_vnodes(&spec, self.vnodes)?;
                let old = self.nodes[at].vnode_count as usize;
                self.check_total(self.points.len() - old + count as usize)?;
                self.drop_points_of(at as u32, false);
                let mut fresh = xxh3_points(&spec.id, count);
                fresh.sort_unstable();
                self.nodes[at].spec = spec;
                self.nodes[at].vnode_count = count;
                self.merge_points(&fresh, at as u32);
                self.finish();
                Ok(())
            }
            HashScheme::Ketama => {
                let mut specs: Vec<NodeSpec> = self.nodes.iter().map(|n| n.spec.clone()).collect();
                specs[at] = spec;
                self.rebuild(specs)
            }
        }
    }

    /// The exact fraction of the hash space each node owns (sums to 1), by node index.
    pub fn ownership(&self) -> Vec<f64> {
        let mut share = alloc::vec![0f64; self.nodes.len()];
        let n = self.points.len();
        if n == 0 {
            return share;
        }
        const SPACE: f64 = 18_446_744_073_709_551_616.0; // 2^64
        for j in 0..n {
            let prev = if j == 0 {
                self.points[n - 1]
            } else {
                self.points[j - 1]
            };
            let len = self.points[j].wrapping_sub(prev);
            // A single point owns the whole circle.
            let len = if n == 1 { SPACE } else { len as f64 };
            share[self.owners[j] as usize] += len / SPACE;
        }
        share
    }

    fn find(&self, id: &str) -> core::result::Result<usize, usize> {
        self.nodes.binary_search_by(|n| n.spec.id.as_str().cmp(id))
    }

    fn check_total(&self, total: usize) -> Result<()> {
        if total > MAX_POINTS {
            return Err(Error::InvalidConfig("a ring holds at most 2^31 - 1 points"));
        }
        Ok(())
    }

    /// Rebuilds every point from `specs` (sorted by id, unique). On error `self` is
    /// unchanged.
    fn rebuild(&mut self, specs: Vec<NodeSpec>) -> Result<()> {
        let counts: Vec<u32> = match self.scheme {
            HashScheme::Xxh3 => specs
                .iter()
                .map(|s| node::node_vnodes(s, self.vnodes))
                .collect::<Result<_>>()?,
            HashScheme::Ketama => {
                let sum: f64 = specs.iter().map(|s| s.weight).sum();
                specs
                    .iter()
                    .map(|s| ketama::vnodes_for(self.vnodes, specs.len(), s.weight, sum))
                    .collect()
            }
        };
        let per_vnode = match self.scheme {
            HashScheme::Xxh3 => 1,
            HashScheme::Ketama => ketama::POINTS_PER_VNODE as usize,
        };
        let total: usize = counts.iter().map(|&c| c as usize * per_vnode).sum();
        self.check_total(total)?;
        let (points, owners, index) = match self.scheme {
            HashScheme::Xxh3 => {
                let seeds: Vec<(u64, u32)> = specs
                    .iter()
                    .zip(&counts)
                    .map(|(s, &c)| (hash::node_hash(s.id.as_bytes()), c))
                    .collect();
                PrefixIndex::sort_and_build_with(total, || {
                    seeds.iter().enumerate().flat_map(|(i, &(seed, count))| {
                        (0..count).map(move |v| (hash::vnode_point_of(seed, v), i as u32))
                    })
                })
            }
            HashScheme::Ketama => {
                let mut entries: Vec<(u64, u32)> = Vec::with_capacity(total);
                for (i, (spec, &count)) in specs.iter().zip(&counts).enumerate() {
                    for w in 0..count {
                        for p in ketama::vnode_points(&spec.id, w) {
                            entries.push((ketama::point_position(p), i as u32));
                        }
                    }
                }
                PrefixIndex::sort_and_build_with(total, || entries.iter().copied())
            }
        };
        self.points = points;
        self.owners = owners;
        self.index = index;
        self.nodes = specs
            .into_iter()
            .zip(counts)
            .map(|(spec, vnode_count)| Node {
                spec,
                vnode_count,
                zone_index: 0,
            })
            .collect();
        self.number_zones();
        Ok(())
    }

    /// Merges sorted `fresh` points owned by `owner` into the layout.
    fn merge_points(&mut self, fresh: &[u64], owner: u32) {
        let n = self.points.len() + fresh.len();
        let mut points = Vec::with_capacity(n);
        let mut owners = Vec::with_capacity(n);
        let (mut i, mut j) = (0, 0);
        while i < self.points.len() || j < fresh.len() {
            let take_old = j == fresh.len()
                || (i < self.points.len() && (self.points[i], self.owners[i]) < (fresh[j], owner));
            if take_old {
                points.push(self.points[i]);
                owners.push(self.owners[i]);
                i += 1;
            } else {
                points.push(fresh[j]);
                owners.push(owner);
                j += 1;
            }
        }
        self.points = points;
        self.owners = owners;
    }

    /// Drops every point of `owner`; when `shift`, renumbers owners above it.
    fn drop_points_of(&mut self, owner: u32, shift: bool) {
        let mut w = 0;
        for r in 0..self.points.len() {
            let o = self.owners[r];
            if o == owner {
                continue;
            }
            self.points[w] = self.points[r];
            self.owners[w] = if shift && o > owner { o - 1 } else { o };
            w += 1;
        }
        self.points.truncate(w);
        self.owners.truncate(w);
    }

    /// Recomputes derived state after a change: zone numbering and the prefix index.
    fn finish(&mut self) {
        self.number_zones();
        self.index = PrefixIndex::build(&self.points, &self.owners);
    }

    /// Numbers zones: named zones first (sorted), then one private zone per zoneless node.
    fn number_zones(&mut self) {
        let mut zones: Vec<&str> = self.nodes.iter().filter_map(|n| n.zone()).collect();
        zones.sort_unstable();
        zones.dedup();
        let named = zones.len() as u32;
        let mut private = named;
        let zone_of: Vec<u32> = self
            .nodes
            .iter()
            .map(|n| match n.zone() {
                Some(z) => zones.binary_search(&z).unwrap_or(0) as u32,
                None => {
                    private += 1;
                    private - 1
                }
            })
            .collect();
        for (n, z) in self.nodes.iter_mut().zip(zone_of) {
            n.zone_index = z;
        }
        self.zone_count = private;
    }
}

/// The xxh3 points of a node's vnodes `0..count`.
fn xxh3_points(id: &str, count: u32) -> Vec<u64> {
    let seed = hash::node_hash(id.as_bytes());
    (0..count).map(|v| hash::vnode_point_of(seed, v)).collect()
}
