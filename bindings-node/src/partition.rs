//! `PartitionTable`: the fixed-partition table every member computes identically.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::{NodeSpec, PartitionMode, TableConfig, TableSnapshot};

use crate::args::string_arg;
use crate::errors::{Kind, OrThrow};
use crate::keys::{key_bytes, u64_of, Key};

/// A member of a table: its id and, optionally, its weight (default 1).
#[napi(object)]
pub struct MemberSpec {
    /// The member's id.
    pub id: String,
    /// Its relative capacity (claims = round(weight × vnodes)).
    pub weight: Option<f64>,
}

/// Options of `new PartitionTable(members, options)`.
#[napi(object)]
#[derive(Default)]
pub struct TableOptions {
    /// Partition count (default 4096).
    pub partitions: Option<u32>,
    /// Claims per unit of weight (default 10).
    pub vnodes: Option<u32>,
    /// `"classic"` (default; the source's scheme) or `"balanced"` (peak/mean near
    /// ⌈P/n⌉/(P/n), near-minimal movement).
    pub mode: Option<String>,
}

/// One partition whose owner differs between two tables (`null`: no owner).
#[napi(object)]
pub struct PartitionChange {
    /// The partition.
    pub partition: u32,
    /// Its owner in the first table.
    pub from: Option<String>,
    /// Its owner in the second table.
    pub to: Option<String>,
}

/// Balance and collision figures of a table.
#[napi(object)]
pub struct TableStats {
    /// Partition count.
    pub partitions: u32,
    /// Partitions owned per member id.
    pub counts: HashMap<String, u32>,
    /// Mean partitions per member.
    pub mean: f64,
    /// Population variance of the counts.
    pub variance: f64,
    /// Standard deviation of the counts.
    pub stddev: f64,
    /// Coefficient of variation (stddev / mean).
    pub cv: f64,
    /// Largest count / mean.
    pub peak_to_mean: f64,
    /// The best achievable peak / mean for equal weights, ⌈P/n⌉ / (P/n).
    pub ideal_peak_to_mean: f64,
    /// Total claims.
    pub claims: f64,
    /// Claims that landed on an already-claimed partition (measured).
    pub collisions: f64,
    /// Predicted probability of at least one collision, 1 − (N/(N−x))^(N−x+½)/e^x.
    pub collision_probability: f64,
}

/// A fixed-partition routing table: `partitions` partitions, each owned by the member
/// whose claim is the nearest at or before it. Any join order gives the same table.
#[napi]
pub struct PartitionTable {
    inner: shoal_core::PartitionTable,
}

impl PartitionTable {
    /// The core table, for the router's placement.
    pub fn core(&self) -> &shoal_core::PartitionTable {
        &self.inner
    }
}

fn spec(m: Either<String, MemberSpec>) -> NodeSpec {
    match m {
        Either::A(id) => NodeSpec::new(id),
        Either::B(m) => NodeSpec::new(m.id).weight(m.weight.unwrap_or(1.0)),
    }
}

#[napi]
impl PartitionTable {
    /// The table for `members` (ids, or `{ id, weight }` objects).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        members: Option<Vec<Either<String, MemberSpec>>>,
        options: Option<TableOptions>,
    ) -> Result<Self> {
        let o = options.unwrap_or_default();
        let config = TableConfig {
            partitions: o.partitions.unwrap_or(4096),
            vnodes: o.vnodes.unwrap_or(10),
            mode: PartitionMode::parse(o.mode.as_deref().unwrap_or("classic")).or_throw(&env)?,
        };
        let specs: Vec<NodeSpec> = members.unwrap_or_default().into_iter().map(spec).collect();
        let inner = shoal_core::PartitionTable::new(config, specs).or_throw(&env)?;
        Ok(PartitionTable { inner })
    }

    /// Partition count.
    #[napi(getter)]
    pub fn partitions(&self) -> u32 {
        self.inner.partitions()
    }

    /// Claims per unit of weight.
    #[napi(getter)]
    pub fn vnodes(&self) -> u32 {
        self.inner.config().vnodes
    }

    /// `"classic"` or `"balanced"`.
    #[napi(getter)]
    pub fn mode(&self) -> &'static str {
        self.inner.config().mode.name()
    }

    /// Member ids, sorted.
    #[napi(getter)]
    pub fn members(&self) -> Vec<String> {
        self.inner.members().iter().map(|m| m.id.clone()).collect()
    }

    /// Number of members.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.members().len() as u32
    }

    /// Whether a member with this id is in the table.
    #[napi]
    pub fn has(&self, id: String) -> bool {
        self.inner.index_of(&id).is_some()
    }

    /// Adds a member; the table is rebuilt (`RangeError` for a duplicate id or a bad
    /// weight, the table unchanged).
    #[napi]
    pub fn add(&mut self, env: Env, id: String, weight: Option<f64>) -> Result<()> {
        self.inner
            .add(NodeSpec::new(id).weight(weight.unwrap_or(1.0)))
            .or_throw(&env)
    }

    /// Removes a member (`RangeError` `ERR_SHOAL_UNKNOWN_NODE` if absent).
    #[napi]
    pub fn remove(&mut self, env: Env, id: String) -> Result<()> {
        self.inner.remove(&id).or_throw(&env)
    }

    /// The partition a key falls in.
    #[napi]
    pub fn partition_of(&self, key: Key) -> u32 {
        self.inner.partition_of(key_bytes(&key))
    }

    /// The owner of partition `p`, or `null` if the table has no members
    /// (`RangeError` if `p` is not below `partitions`).
    #[napi]
    pub fn owner(&self, env: Env, p: u32) -> Result<Option<&str>> {
        self.inner.owner(p).or_throw(&env)
    }

    /// The owner of `key`, or `null` if the table has no members.
    #[napi]
    pub fn locate(&self, key: Key) -> Option<&str> {
        self.inner.locate(key_bytes(&key))
    }

    /// The owner of a key hash (`keyHash(key)`), or `null` if empty.
    #[napi]
    pub fn locate_hash(&self, env: Env, hash: BigInt) -> Result<Option<&str>> {
        let h = u64_of(&hash, "hash").or_throw(&env)?;
        Ok(self.inner.locate_hash(h))
    }

    /// The owner of every partition (`null` when the table is empty).
    #[napi]
    pub fn owners(&self) -> Vec<Option<&str>> {
        let members = self.inner.members();
        self.inner
            .owners()
            .iter()
            .map(|&i| members.get(i as usize).map(|m| m.id.as_str()))
            .collect()
    }

    /// A 64-bit digest: members with equal tables have equal digests.
    #[napi]
    pub fn digest(&self) -> BigInt {
        BigInt::from(self.inner.digest())
    }

    /// Partitions whose owner differs in `other` (`RangeError` if the partition counts
    /// differ).
    #[napi]
    pub fn diff(&self, env: Env, other: &PartitionTable) -> Result<Vec<PartitionChange>> {
        let moves = self.inner.diff(&other.inner).or_throw(&env)?;
        Ok(moves
            .into_iter()
            .map(|m| PartitionChange {
                partition: m.partition,
                from: m.from.map(String::from),
                to: m.to.map(String::from),
            })
            .collect())
    }

    /// Balance and collision statistics.
    #[napi]
    pub fn stats(&self) -> TableStats {
        let s = self.inner.stats();
        TableStats {
            partitions: s.partitions,
            counts: self
                .inner
                .members()
                .iter()
                .zip(&s.counts)
                .map(|(m, &c)| (m.id.clone(), c))
                .collect(),
            mean: s.mean,
            variance: s.variance,
            stddev: s.stddev,
            cv: s.cv,
            peak_to_mean: s.peak_to_mean,
            ideal_peak_to_mean: s.ideal_peak_to_mean,
            claims: s.claims as f64,
            collisions: s.collisions as f64,
            collision_probability: s.collision_probability,
        }
    }

    /// The table as versioned JSON; see `fromSnapshot`.
    #[napi]
    pub fn snapshot(&self) -> String {
        // A snapshot is plain data: serializing it cannot fail.
        serde_json::to_string(&self.inner.snapshot()).unwrap_or_default()
    }

    /// Rebuilds a table from `snapshot()` output; the digest is checked (`Error`
    /// `ERR_SHOAL_SNAPSHOT` if it does not decode or match).
    #[napi(factory, ts_args_type = "snapshot: string")]
    pub fn from_snapshot(env: Env, snapshot: Unknown<'_>) -> Result<PartitionTable> {
        let snapshot = string_arg(&env, snapshot, "snapshot").or_throw(&env)?;
        let s: TableSnapshot = serde_json::from_str(&snapshot)
            .map_err(|e| Kind::Snapshot.fail(format!("table snapshot does not decode: {e}")))
            .or_throw(&env)?;
        let inner = shoal_core::PartitionTable::from_snapshot(&s).or_throw(&env)?;
        Ok(PartitionTable { inner })
    }

    /// `PartitionTable(partitions=…, vnodes=…, mode=…, members=…)`.
    #[napi]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        format!(
            "PartitionTable(partitions={}, vnodes={}, mode={}, members={})",
            self.inner.partitions(),
            self.inner.config().vnodes,
            self.mode(),
            self.inner.members().len()
        )
    }
}
