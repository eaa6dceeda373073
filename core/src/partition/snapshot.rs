//! Versioned snapshots of a partition table: config and members, plus the digest that
//! the rebuilt table must reproduce.

use alloc::vec::Vec;

use super::{PartitionMode, PartitionTable, TableConfig};
use crate::error::{Error, Result};
use crate::ring::{NodeSnapshot, NodeSpec};

/// The snapshot format version this build writes and reads.
pub const TABLE_SNAPSHOT_VERSION: u32 = 1;

/// A serializable description of a partition table.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TableSnapshot {
    /// Format version ([`TABLE_SNAPSHOT_VERSION`]).
    pub version: u32,
    /// Partition count.
    pub partitions: u32,
    /// Vnodes per unit of weight.
    pub vnodes: u32,
    /// Assignment mode.
    pub mode: PartitionMode,
    /// Members sorted by id.
    pub members: Vec<NodeSnapshot>,
    /// The table's [`PartitionTable::digest`], checked on restore.
    pub digest: u64,
}

impl PartitionTable {
    /// A snapshot of this table.
    pub fn snapshot(&self) -> TableSnapshot {
        TableSnapshot {
            version: TABLE_SNAPSHOT_VERSION,
            partitions: self.config.partitions,
            vnodes: self.config.vnodes,
            mode: self.config.mode,
            members: self
                .members
                .iter()
                .map(|m| NodeSnapshot {
                    id: m.id.clone(),
                    weight: m.weight,
                    vnodes: m.vnodes,
                    zone: m.zone.clone(),
                })
                .collect(),
            digest: self.digest,
        }
    }

    /// Rebuilds a table from a snapshot, checking version and digest.
    pub fn from_snapshot(s: &TableSnapshot) -> Result<PartitionTable> {
        if s.version != TABLE_SNAPSHOT_VERSION {
            return Err(Error::UnsupportedVersion(s.version));
        }
        let config = TableConfig {
            partitions: s.partitions,
            vnodes: s.vnodes,
            mode: s.mode,
        };
        let members = s.members.iter().map(|m| NodeSpec {
            id: m.id.clone(),
            weight: m.weight,
            vnodes: m.vnodes,
            zone: m.zone.clone(),
        });
        let t = PartitionTable::new(config, members)?;
        if t.digest != s.digest {
            return Err(Error::CorruptSnapshot(
                "table digest does not match the members (written by an incompatible version?)",
            ));
        }
        Ok(t)
    }
}
