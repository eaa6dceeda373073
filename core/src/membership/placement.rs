//! Placement that follows membership: a [`Ring`] or [`PartitionTable`] rebuilt from
//! the live members and their metadata, with its digest carried in every packet.
//!
//! Live members (alive or suspect: a suspect still owns its keys until it is declared
//! failed) with a weight above zero are placed; `Meta::weight` is the node weight and
//! `Meta::zone` its failure domain. Every member that has the same view builds the
//! same layout, so the layout digest doubles as a cheap check that members agree: the
//! follower hands it to [`Membership::set_placement_digest`], and packets from members
//! whose membership digest equals ours but whose placement digest differs are counted
//! in [`Stats::placement_mismatches`](super::Stats::placement_mismatches) — the same
//! members, placed differently (mismatched settings).

use alloc::vec::Vec;

use super::engine::Membership;
use super::member::Member;
use crate::hash::mix64;
use crate::partition::{PartitionTable, TableConfig};
use crate::ring::{HashScheme, NodeSpec, Ring};
use crate::Result;
use xxhash_rust::xxh3::xxh3_64;

/// Which layout to keep.
#[derive(Debug, Clone, PartialEq)]
pub enum PlacementSpec {
    /// A consistent-hash ring: `vnodes` points per unit of weight.
    Ring {
        /// Point scheme.
        scheme: HashScheme,
        /// Points per unit of weight (a member of weight 100 gets `100 · vnodes`).
        vnodes: u32,
    },
    /// A fixed-partition table.
    Table(TableConfig),
}

impl PlacementSpec {
    /// The layout from its option values, with the defaults of a standalone `Ring` /
    /// `PartitionTable` so a node and an application's own ring place keys alike:
    /// `kind` `"ring"` (`hash` `"xxh3"`/`"ketama"`, `vnodes` default
    /// [`HashScheme::default_vnodes`]) or `"table"` (`partitions`, `vnodes` default
    /// [`TableConfig::default`]'s, `mode` `"classic"`/`"balanced"`).
    pub fn parse(
        kind: &str,
        vnodes: Option<u32>,
        hash: &str,
        partitions: u32,
        mode: &str,
    ) -> Result<PlacementSpec> {
        match kind {
            "ring" => {
                let scheme = HashScheme::parse(hash)?;
                Ok(PlacementSpec::Ring {
                    scheme,
                    vnodes: vnodes.unwrap_or(scheme.default_vnodes()),
                })
            }
            "table" => Ok(PlacementSpec::Table(TableConfig {
                partitions,
                vnodes: vnodes.unwrap_or(TableConfig::default().vnodes),
                mode: crate::partition::PartitionMode::parse(mode)?,
            })),
            _ => Err(crate::Error::InvalidConfig(
                "placement must be \"ring\" or \"table\"",
            )),
        }
    }
}

/// The current layout.
#[derive(Debug, Clone)]
pub enum Layout {
    /// See [`PlacementSpec::Ring`].
    Ring(Ring),
    /// See [`PlacementSpec::Table`].
    Table(PartitionTable),
}

/// Keeps a layout in step with a [`Membership`]'s live members.
#[derive(Debug, Clone)]
pub struct PlacementFollower {
    spec: PlacementSpec,
    layout: Layout,
    inputs: u64,
    rebuilds: u64,
}

fn spec_of(m: &Member) -> Option<NodeSpec> {
    let meta = m.meta();
    if !m.status().is_live() || meta.weight == 0 {
        return None;
    }
    let mut s = NodeSpec::new(m.id()).weight(f64::from(meta.weight));
    if let Some(z) = &meta.zone {
        s = s.zone(z.clone());
    }
    Some(s)
}

impl PlacementFollower {
    /// An empty layout of the given kind (errors if the spec is invalid).
    pub fn new(spec: PlacementSpec) -> Result<PlacementFollower> {
        let layout = Self::build(&spec, Vec::new())?;
        Ok(PlacementFollower {
            spec,
            layout,
            inputs: 0,
            rebuilds: 0,
        })
    }

    fn build(spec: &PlacementSpec, nodes: Vec<NodeSpec>) -> Result<Layout> {
        Ok(match spec {
            PlacementSpec::Ring { scheme, vnodes } => {
                Layout::Ring(Ring::from_nodes(*scheme, *vnodes, nodes)?)
            }
            PlacementSpec::Table(cfg) => Layout::Table(PartitionTable::new(*cfg, nodes)?),
        })
    }

    /// Rebuilds the layout if the placed members (ids, weights, zones) changed since
    /// the last call, and gives its digest to `membership`. Returns whether it
    /// changed. Call it after handling events; it walks the member list (O(N)).
    pub fn sync(&mut self, membership: &mut Membership) -> Result<bool> {
        let mut nodes = Vec::new();
        let mut inputs = 0x706c_6163_656d_656eu64;
        membership.table().for_each(|m| {
            if let Some(s) = spec_of(m) {
                let zone = s.zone.as_deref().unwrap_or("");
                let h = xxh3_64(m.id().as_bytes())
                    ^ mix64(u64::from(m.meta().weight))
                    ^ mix64(xxh3_64(zone.as_bytes()).rotate_left(17));
                inputs = mix64(inputs ^ h);
                nodes.push(s);
            }
        });
        let changed = inputs != self.inputs;
        if changed {
            self.layout = Self::build(&self.spec, nodes)?;
            self.inputs = inputs;
            self.rebuilds += 1;
        }
        membership.set_placement_digest(self.digest());
        Ok(changed)
    }

    /// The layout's digest (ring layout digest or table digest).
    pub fn digest(&self) -> u64 {
        match &self.layout {
            Layout::Ring(r) => r.layout_digest(),
            Layout::Table(t) => t.digest(),
        }
    }

    /// The current layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The ring, if this follower keeps one.
    pub fn ring(&self) -> Option<&Ring> {
        match &self.layout {
            Layout::Ring(r) => Some(r),
            Layout::Table(_) => None,
        }
    }

    /// The partition table, if this follower keeps one.
    pub fn table(&self) -> Option<&PartitionTable> {
        match &self.layout {
            Layout::Table(t) => Some(t),
            Layout::Ring(_) => None,
        }
    }

    /// The owner of `key` (`None` while no member is placed).
    pub fn locate(&self, key: impl AsRef<[u8]>) -> Option<&str> {
        match &self.layout {
            Layout::Ring(r) => r.locate(key),
            Layout::Table(t) => t.locate(key),
        }
    }

    /// How many times the layout was rebuilt.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    fn placement(&self) -> &dyn crate::placement::Placement {
        match &self.layout {
            Layout::Ring(r) => r,
            Layout::Table(t) => t,
        }
    }
}

/// The follower places keys as its current layout does, so a
/// [`Router`](crate::router::Router) can route by it.
impl crate::placement::Placement for PlacementFollower {
    fn algorithm(&self) -> &'static str {
        self.placement().algorithm()
    }
    fn node_count(&self) -> usize {
        self.placement().node_count()
    }
    fn key_position(&self, key: &[u8]) -> u64 {
        self.placement().key_position(key)
    }
    fn locate_hash(&self, position: u64) -> Option<&str> {
        self.placement().locate_hash(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::{Config, MemberTable, Meta, Status};
    use crate::partition::PartitionMode;
    use crate::time::Instant;
    use crate::wire::{Codec, CodecConfig};
    use alloc::format;
    use alloc::string::String;

    #[test]
    fn spec_parse_uses_the_standalone_defaults() {
        let ring = PlacementSpec::parse("ring", None, "ketama", 0, "classic").unwrap();
        assert_eq!(
            ring,
            PlacementSpec::Ring {
                scheme: HashScheme::Ketama,
                vnodes: 40
            }
        );
        let table = PlacementSpec::parse("table", Some(7), "xxh3", 256, "balanced").unwrap();
        assert_eq!(
            table,
            PlacementSpec::Table(TableConfig {
                partitions: 256,
                vnodes: 7,
                mode: PartitionMode::Balanced
            })
        );
        assert!(PlacementSpec::parse("tree", None, "xxh3", 0, "classic").is_err());
        assert!(PlacementSpec::parse("ring", None, "md4", 0, "classic").is_err());
        assert!(PlacementSpec::parse("table", None, "xxh3", 64, "wobbly").is_err());
    }

    fn member(i: u32, weight: u32, status: Status) -> Member {
        let meta = Meta {
            role: String::from("agent"),
            weight,
            zone: Some(format!("z{}", i % 2)),
        };
        Member::new(&format!("m{i}"), "10.0.0.1:1".parse().unwrap(), meta)
            .with_version(0, 0, status)
    }

    fn membership(table: MemberTable) -> Membership {
        let codec = Codec::new(CodecConfig::new("t"), 1).unwrap();
        let me = member(0, 100, Status::Alive);
        Membership::new(Config::default(), me, codec, 7, table, Instant::ZERO).unwrap()
    }

    #[test]
    fn places_live_weighted_members_and_follows_changes() {
        let mut t = MemberTable::new();
        t.insert(member(1, 80, Status::Alive));
        t.insert(member(2, 120, Status::Suspect));
        t.insert(member(3, 60, Status::Dead));
        t.insert(member(4, 0, Status::Alive));
        let mut m = membership(t);
        let spec = PlacementSpec::Ring {
            scheme: HashScheme::Xxh3,
            vnodes: 1,
        };
        let mut f = PlacementFollower::new(spec).unwrap();
        assert!(f.sync(&mut m).unwrap());
        let ring = f.ring().unwrap();
        let ids: Vec<&str> = ring.nodes().iter().map(|n| n.spec.id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        for id in ["m0", "m1", "m2"] {
            assert!(ids.contains(&id), "{id} placed");
        }
        assert_eq!(ring.point_count(), 100 + 80 + 120);
        assert_eq!(m.placement_digest, f.digest());
        // Nothing changed: no rebuild.
        assert!(!f.sync(&mut m).unwrap());
        assert_eq!(f.rebuilds(), 1);
        // A weight change rebuilds.
        m.update_meta(
            Instant::ZERO,
            Meta {
                role: String::from("agent"),
                weight: 50,
                zone: None,
            },
        );
        assert!(f.sync(&mut m).unwrap());
        assert_eq!(f.ring().unwrap().point_count(), 50 + 80 + 120);
    }

    #[test]
    fn tables_agree_across_members_with_the_same_view() {
        let mut t = MemberTable::new();
        for i in 1..20 {
            t.insert(member(i, 1 + i % 3, Status::Alive));
        }
        let cfg = TableConfig {
            partitions: 256,
            vnodes: 10,
            mode: PartitionMode::Balanced,
        };
        let mut a = membership(t.clone());
        let mut b = membership(t);
        let mut fa = PlacementFollower::new(PlacementSpec::Table(cfg)).unwrap();
        let mut fb = PlacementFollower::new(PlacementSpec::Table(cfg)).unwrap();
        fa.sync(&mut a).unwrap();
        fb.sync(&mut b).unwrap();
        assert_eq!(fa.digest(), fb.digest());
        assert_eq!(fa.locate("key-1"), fb.locate("key-1"));
        assert!(fa.locate("key-1").is_some());
    }
}
