//! `PartitionTable`: the fixed-partition table every member computes identically
//! (the source's WatchDog-free table), plus the per-partition owner indices the
//! visualizer's grid draws.

use js_sys::{Array, Uint32Array};
use shoal_core::hash::sample_key;
use shoal_core::{NodeSpec, PartitionMode, TableConfig};
use wasm_bindgen::prelude::*;

use crate::args::{key_bytes, Options};
use crate::errors::{wrong_type, JsResult, Kind, OrThrow};
use crate::js::{object, record, strings};
use crate::ring::sample_count;

/// A fixed-partition table: `partitions` slots, each member claims
/// `point(id, v) mod partitions` for its vnodes, and each partition belongs to the
/// nearest claim at or before it. The same members give a bit-identical table in any
/// order.
#[wasm_bindgen]
pub struct PartitionTable {
    inner: shoal_core::PartitionTable,
}

/// A member: an id, or `{ id, weight }`.
fn member(m: JsValue) -> JsResult<NodeSpec> {
    if let Some(id) = m.as_string() {
        return Ok(NodeSpec::new(id));
    }
    let o = Options::new(m, "a member")?;
    let id = o
        .string("id")?
        .ok_or_else(|| wrong_type("a member", "an id or { id, weight }"))?;
    Ok(NodeSpec::new(id).weight(o.f64("weight")?.unwrap_or(1.0)))
}

#[wasm_bindgen]
impl PartitionTable {
    /// A table of `members` (ids or `{ id, weight }`). `options`: `partitions`
    /// (default 4096), `vnodes` per member (default 10), `mode` `"classic"` (default)
    /// or `"balanced"`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(
            unchecked_optional_param_type = "Array<string | { id: string; weight?: number }>"
        )]
        members: Option<JsValue>,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ partitions?: number; vnodes?: number; mode?: 'classic' | 'balanced' }"
        )]
        options: Option<JsValue>,
    ) -> JsResult<PartitionTable> {
        let o = Options::new(options.unwrap_or(JsValue::UNDEFINED), "options")?;
        let members = members.unwrap_or(JsValue::UNDEFINED);
        let config = TableConfig {
            partitions: o.u32("partitions")?.unwrap_or(4096),
            vnodes: o.u32("vnodes")?.unwrap_or(10),
            mode: PartitionMode::parse(o.string("mode")?.as_deref().unwrap_or("classic"))
                .or_throw()?,
        };
        let specs = if members.is_undefined() || members.is_null() {
            Vec::new()
        } else if Array::is_array(&members) {
            Array::from(&members)
                .iter()
                .map(member)
                .collect::<JsResult<Vec<_>>>()?
        } else {
            return Err(wrong_type("members", "an array"));
        };
        let inner = shoal_core::PartitionTable::new(config, specs).or_throw()?;
        Ok(PartitionTable { inner })
    }

    /// Partition count.
    #[wasm_bindgen(getter)]
    pub fn partitions(&self) -> u32 {
        self.inner.partitions()
    }

    /// Vnodes (claims) per unit of weight.
    #[wasm_bindgen(getter)]
    pub fn vnodes(&self) -> u32 {
        self.inner.config().vnodes
    }

    /// `"classic"` or `"balanced"`.
    #[wasm_bindgen(getter)]
    pub fn mode(&self) -> String {
        self.inner.config().mode.name().into()
    }

    /// Member ids; the index of an id here is its member index.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn members(&self) -> Array {
        strings(self.inner.members().iter().map(|m| m.id.as_str()))
    }

    /// How many members.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.inner.members().len() as u32
    }

    /// Whether a member with this id is in the table.
    pub fn has(&self, id: &str) -> bool {
        self.inner.index_of(id).is_some()
    }

    /// Adds a member (weight default 1).
    pub fn add(&mut self, id: String, weight: Option<f64>) -> JsResult<()> {
        self.inner
            .add(NodeSpec::new(id).weight(weight.unwrap_or(1.0)))
            .or_throw()
    }

    /// Removes a member.
    pub fn remove(&mut self, id: &str) -> JsResult<()> {
        self.inner.remove(id).or_throw()
    }

    /// The partition a key falls in.
    #[wasm_bindgen(js_name = partitionOf)]
    pub fn partition_of(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<u32> {
        Ok(self.inner.partition_of(key_bytes(&key)?))
    }

    /// The owner of a partition (`null` when the table is empty; `RangeError` past
    /// the last partition).
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn owner(&self, partition: u32) -> JsResult<JsValue> {
        Ok(self
            .inner
            .owner(partition)
            .or_throw()?
            .map_or(JsValue::NULL, JsValue::from_str))
    }

    /// The owner of a key (`null` when the table is empty).
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn locate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<JsValue> {
        Ok(self
            .inner
            .locate(key_bytes(&key)?)
            .map_or(JsValue::NULL, JsValue::from_str))
    }

    /// The owner of every partition (`null` when the table is empty).
    #[wasm_bindgen(unchecked_return_type = "Array<string | null>")]
    pub fn owners(&self) -> Array {
        let members = self.inner.members();
        self.inner
            .owners()
            .iter()
            .map(|&i| {
                members
                    .get(i as usize)
                    .map_or(JsValue::NULL, |m| JsValue::from_str(&m.id))
            })
            .collect()
    }

    /// The owner's member index of every partition (for drawing the grid).
    #[wasm_bindgen(js_name = ownerIndices)]
    pub fn owner_indices(&self) -> Uint32Array {
        Uint32Array::from(self.inner.owners())
    }

    /// Member indices owning `sampleKey(0..count)`.
    #[wasm_bindgen(js_name = sampleOwners)]
    pub fn sample_owners(&self, count: u32) -> JsResult<Uint32Array> {
        if self.inner.members().is_empty() {
            return Err(Kind::Empty.error("the table has no members"));
        }
        let count = sample_count(count)?;
        let owners = self.inner.owners();
        let out: Vec<u32> = (0..u64::from(count))
            .map(|i| owners[self.inner.partition_of(sample_key(i)) as usize])
            .collect();
        Ok(Uint32Array::from(&out[..]))
    }

    /// A 64-bit digest: members with equal tables have equal digests.
    pub fn digest(&self) -> u64 {
        self.inner.digest()
    }

    /// Balance and collision statistics: `{ partitions, counts (by id), mean,
    /// variance, stddev, cv, peakToMean, idealPeakToMean, claims, collisions,
    /// collisionProbability }`.
    #[wasm_bindgen(
        unchecked_return_type = "{ partitions: number; counts: Record<string, number>; mean: number; variance: number; stddev: number; cv: number; peakToMean: number; idealPeakToMean: number; claims: number; collisions: number; collisionProbability: number }"
    )]
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        let counts = record(
            self.inner
                .members()
                .iter()
                .zip(&s.counts)
                .map(|(m, &c)| (m.id.as_str(), f64::from(c))),
        );
        object(&[
            ("partitions", s.partitions.into()),
            ("counts", counts),
            ("mean", s.mean.into()),
            ("variance", s.variance.into()),
            ("stddev", s.stddev.into()),
            ("cv", s.cv.into()),
            ("peakToMean", s.peak_to_mean.into()),
            ("idealPeakToMean", s.ideal_peak_to_mean.into()),
            ("claims", (s.claims as f64).into()),
            ("collisions", (s.collisions as f64).into()),
            ("collisionProbability", s.collision_probability.into()),
        ])
    }

    /// `PartitionTable(partitions=…, vnodes=…, mode=…, members=…)`.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        let c = self.inner.config();
        format!(
            "PartitionTable(partitions={}, vnodes={}, mode={}, members={})",
            c.partitions,
            c.vnodes,
            c.mode.name(),
            self.inner.members().len()
        )
    }
}
