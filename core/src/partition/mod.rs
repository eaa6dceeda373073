//! The fixed-partition table: `P` partitions, each owned by one member, computed by every
//! member from the member set alone (no coordinator, no dependence on join order).
//!
//! Each member claims partitions `vnode_point(id, v) mod P` for its vnodes; a partition
//! belongs to the nearest claim at or before it (circularly). When two vnodes claim the
//! same partition the smaller 64-bit point wins, then the smaller id. The `balanced` mode
//! instead matches partitions to members with exact quotas (`⌈P/n⌉` at most for equal
//! weights) by a stable matching on per-pair scores, again a function of the member set
//! only. This module owns the table; it does no I/O.
//!
//! ```
//! use shoal_core::{PartitionMode, PartitionTable, TableConfig};
//!
//! let config = TableConfig { partitions: 4096, vnodes: 10, mode: PartitionMode::Classic };
//! let a = PartitionTable::new(config, ["n1", "n2", "n3"]).unwrap();
//! let b = PartitionTable::new(config, ["n3", "n1", "n2"]).unwrap();
//! assert_eq!(a.digest(), b.digest()); // any join order, same table
//! let p = a.partition_of(b"order:17");
//! assert_eq!(a.owner(p).unwrap(), a.locate(b"order:17"));
//! ```

mod build;
mod snapshot;
mod stats;

pub use snapshot::{TableSnapshot, TABLE_SNAPSHOT_VERSION};
pub use stats::{collision_probability, TableStats};

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::hash;
use crate::ring::NodeSpec;

/// How partitions are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PartitionMode {
    /// The source's scheme: nearest claim at or before each partition.
    #[default]
    Classic,
    /// Exact quotas (`⌊P·wᵢ/W⌋` or one more) filled by a stable matching on per-pair
    /// scores: peak/mean is the best possible, movement stays near the minimum.
    Balanced,
}

impl PartitionMode {
    /// `"classic"` or `"balanced"`.
    pub fn name(self) -> &'static str {
        match self {
            PartitionMode::Classic => "classic",
            PartitionMode::Balanced => "balanced",
        }
    }

    /// Parses `"classic"` or `"balanced"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "classic" => Ok(PartitionMode::Classic),
            "balanced" => Ok(PartitionMode::Balanced),
            _ => Err(Error::InvalidConfig(
                "partition mode must be \"classic\" or \"balanced\"",
            )),
        }
    }
}

/// Table parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Number of partitions `P` (1 ..= 2^24). Default 4096.
    pub partitions: u32,
    /// Vnodes (claims) per unit of weight. Default 10 (the source's sweet spot).
    pub vnodes: u32,
    /// Assignment mode. Default classic.
    pub mode: PartitionMode,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            partitions: 4096,
            vnodes: 10,
            mode: PartitionMode::Classic,
        }
    }
}

/// Largest partition count a table accepts.
pub const MAX_PARTITIONS: u32 = 1 << 24;

/// Sentinel owner for partitions of an empty table.
const NONE: u32 = u32::MAX;

/// One partition whose owner differs between two tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMove<'a> {
    /// The partition.
    pub partition: u32,
    /// Owner in the table `diff` was called on (`None` if it has no members).
    pub from: Option<&'a str>,
    /// Owner in the other table.
    pub to: Option<&'a str>,
}

/// A fixed-partition routing table.
#[derive(Debug, Clone)]
pub struct PartitionTable {
    config: TableConfig,
    members: Vec<NodeSpec>,
    vnode_counts: Vec<u32>,
    owners: Vec<u32>,
    claims: u64,
    collisions: u64,
    digest: u64,
}

impl PartitionTable {
    /// Builds the table for a member set. Members may be given in any order.
    pub fn new<I, N>(config: TableConfig, members: I) -> Result<Self>
    where
        I: IntoIterator<Item = N>,
        N: Into<NodeSpec>,
    {
        if config.partitions == 0 || config.partitions > MAX_PARTITIONS {
            return Err(Error::InvalidConfig(
                "partitions must be between 1 and 2^24",
            ));
        }
        if config.vnodes == 0 || config.vnodes > crate::ring::MAX_VNODES_PER_NODE {
            return Err(Error::InvalidConfig("vnodes must be between 1 and 2^20"));
        }
        let mut specs: Vec<NodeSpec> = Vec::new();
        for m in members {
            let spec = m.into();
            spec.check_weight()?;
            specs.push(spec);
        }
        specs.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = specs.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(Error::DuplicateNode(w[0].id.clone()));
        }
        Self::build(config, specs)
    }

    /// An empty table (every partition unowned).
    pub fn empty(config: TableConfig) -> Result<Self> {
        Self::new(config, core::iter::empty::<NodeSpec>())
    }

    /// The table's parameters.
    pub fn config(&self) -> TableConfig {
        self.config
    }

    /// Number of partitions.
    pub fn partitions(&self) -> u32 {
        self.config.partitions
    }

    /// The members, sorted by id (indices into this slice are member indices).
    pub fn members(&self) -> &[NodeSpec] {
        &self.members
    }

    /// Returns a new table with one more member.
    pub fn with_member(&self, member: impl Into<NodeSpec>) -> Result<Self> {
        let spec = member.into();
        if self.index_of(&spec.id).is_some() {
            return Err(Error::DuplicateNode(spec.id));
        }
        Self::new(self.config, self.members.iter().cloned().chain([spec]))
    }

    /// Returns a new table without a member.
    pub fn without_member(&self, id: &str) -> Result<Self> {
        let at = self
            .index_of(id)
            .ok_or_else(|| Error::UnknownNode(id.into()))?;
        let mut specs = self.members.clone();
        specs.remove(at);
        Self::build(self.config, specs)
    }

    /// Adds a member in place.
    pub fn add(&mut self, member: impl Into<NodeSpec>) -> Result<()> {
        *self = self.with_member(member)?;
        Ok(())
    }

    /// Removes a member in place.
    pub fn remove(&mut self, id: &str) -> Result<()> {
        *self = self.without_member(id)?;
        Ok(())
    }

    /// Index of a member by id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.members
            .binary_search_by(|m| m.id.as_str().cmp(id))
            .ok()
    }

    /// The partition a key falls in: `(xxh3(key) · P) >> 64`.
    #[inline]
    pub fn partition_of(&self, key: impl AsRef<[u8]>) -> u32 {
        hash::partition_of_hash(hash::key_hash(key.as_ref()), self.config.partitions)
    }

    /// The partition of a key hash.
    #[inline]
    pub fn partition_of_hash(&self, hash: u64) -> u32 {
        hash::partition_of_hash(hash, self.config.partitions)
    }

    /// The owner of a partition: `Ok(None)` when the table has no members, an error when
    /// `partition >= P`.
    pub fn owner(&self, partition: u32) -> Result<Option<&str>> {
        match self.owners.get(partition as usize) {
            None => Err(Error::PartitionOutOfRange {
                partition,
                partitions: self.config.partitions,
            }),
            Some(&NONE) => Ok(None),
            Some(&o) => Ok(Some(self.members[o as usize].id.as_str())),
        }
    }

    /// The owner of a key (`None` when the table has no members).
    #[inline]
    pub fn locate(&self, key: impl AsRef<[u8]>) -> Option<&str> {
        self.locate_hash(hash::key_hash(key.as_ref()))
    }

    /// The owner of a key hash.
    #[inline]
    pub fn locate_hash(&self, hash: u64) -> Option<&str> {
        let o = self.owners[self.partition_of_hash(hash) as usize];
        self.members.get(o as usize).map(|m| m.id.as_str())
    }

    /// Owner member index of every partition (`u32::MAX` when unowned).
    pub fn owners(&self) -> &[u32] {
        &self.owners
    }

    /// A 64-bit digest of the table (config, member ids, owners): members compare it over
    /// gossip to detect divergent views cheaply.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Partitions whose owner differs from `other` (same partition count required).
    pub fn diff<'a>(&'a self, other: &'a PartitionTable) -> Result<Vec<PartitionMove<'a>>> {
        if self.config.partitions != other.config.partitions {
            return Err(Error::Incompatible(
                "tables have different partition counts",
            ));
        }
        let name = |t: &'a PartitionTable, o: u32| t.members.get(o as usize).map(|m| m.id.as_str());
        Ok((0..self.config.partitions)
            .filter_map(|p| {
                let from = name(self, self.owners[p as usize]);
                let to = name(other, other.owners[p as usize]);
                (from != to).then_some(PartitionMove {
                    partition: p,
                    from,
                    to,
                })
            })
            .collect())
    }

    fn build(config: TableConfig, members: Vec<NodeSpec>) -> Result<Self> {
        let vnode_counts = members
            .iter()
            .map(|m| crate::ring::node_vnodes(m, config.vnodes))
            .collect::<Result<Vec<u32>>>()?;
        let classic = build::classic(config.partitions, &members, &vnode_counts);
        let owners = match config.mode {
            PartitionMode::Classic => classic.owners,
            PartitionMode::Balanced => build::balanced(config.partitions, &members),
        };
        let digest = digest_of(&config, &members, &owners);
        Ok(PartitionTable {
            config,
            members,
            vnode_counts,
            owners,
            claims: classic.claims,
            collisions: classic.collisions,
            digest,
        })
    }
}

fn digest_of(config: &TableConfig, members: &[NodeSpec], owners: &[u32]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    h.update(b"shoal.ptable.v1");
    h.update(&config.partitions.to_le_bytes());
    h.update(&config.vnodes.to_le_bytes());
    h.update(&[config.mode as u8]);
    h.update(&(members.len() as u64).to_le_bytes());
    for m in members {
        h.update(&(m.id.len() as u64).to_le_bytes());
        h.update(m.id.as_bytes());
    }
    for o in owners {
        h.update(&o.to_le_bytes());
    }
    h.digest()
}

impl crate::placement::Placement for PartitionTable {
    fn algorithm(&self) -> &'static str {
        match self.config.mode {
            PartitionMode::Classic => "partition-classic",
            PartitionMode::Balanced => "partition-balanced",
        }
    }
    fn node_count(&self) -> usize {
        self.members.len()
    }
    fn locate_hash(&self, position: u64) -> Option<&str> {
        PartitionTable::locate_hash(self, position)
    }
}
