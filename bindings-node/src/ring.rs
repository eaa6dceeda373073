//! `Ring`: the weighted consistent-hash ring, with batch lookup over arrays of keys
//! or `BigUint64Array`s of key hashes.

use std::cell::Cell;
use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::ring::HashScheme;
use shoal_core::{NodeSpec, RingSnapshot, ZonePolicy};

use crate::args::string_arg;
use crate::errors::{invalid, Kind, OrThrow, Outcome};
use crate::keys::{key_bytes, u64_of, Key};

/// Per-node numbers: an object by node id (missing ids count 0) or an array in
/// `ring.nodes` order.
#[napi]
pub type PerNode = Either<Vec<f64>, HashMap<String, f64>>;

/// Options of `Ring.add`.
#[napi(object)]
#[derive(Default)]
pub struct AddOptions {
    /// Relative capacity (points = round(weight × vnodes)); default 1.
    pub weight: Option<f64>,
    /// An explicit point count instead of the weight (xxh3 only), e.g. the source's
    /// 100/80/120/60 per agent type.
    pub vnodes: Option<u32>,
    /// Failure domain, for distinct-zone replicas.
    pub zone: Option<String>,
}

/// One node of a ring.
#[napi(object)]
pub struct NodeInfo {
    /// The node's id.
    pub id: String,
    /// Its relative capacity.
    pub weight: f64,
    /// Its vnodes (ketama: groups of four points).
    pub vnodes: u32,
    /// How many points it has on the ring.
    pub points: u32,
    /// Its failure domain, if any.
    pub zone: Option<String>,
}

/// One hash range that changes owner: positions `h` with `start < h <= end`
/// (wrapping past 2^64 − 1 when `start >= end`) move from `from` to `to`.
#[napi(object)]
pub struct RangeMove {
    /// Exclusive start of the range.
    pub start: BigInt,
    /// Inclusive end of the range.
    pub end: BigInt,
    /// The owner in the first ring.
    pub from: String,
    /// The owner in the second ring.
    pub to: String,
}

/// The hash ranges that change owner between two rings (`ring.diff(other)`).
#[napi]
pub struct MigrationPlan {
    moves: Vec<(u64, u64, String, String)>,
    fraction: f64,
}

#[napi]
impl MigrationPlan {
    /// The moved ranges in ring order.
    #[napi(getter)]
    pub fn moves(&self) -> Vec<RangeMove> {
        self.moves
            .iter()
            .map(|m| RangeMove {
                start: BigInt::from(m.0),
                end: BigInt::from(m.1),
                from: m.2.clone(),
                to: m.3.clone(),
            })
            .collect()
    }

    /// Fraction of the hash space (so, in expectation, of keys) that moves.
    #[napi(getter)]
    pub fn fraction_moved(&self) -> f64 {
        self.fraction
    }

    /// Fraction of the hash space moving from `fromNode` to `toNode` (omitted or
    /// `null`: any node).
    #[napi]
    pub fn fraction_between(&self, from_node: Option<String>, to_node: Option<String>) -> f64 {
        const SPACE: f64 = 18_446_744_073_709_551_616.0;
        self.moves
            .iter()
            .filter(|m| {
                from_node.as_ref().is_none_or(|f| *f == m.2)
                    && to_node.as_ref().is_none_or(|t| *t == m.3)
            })
            .map(|m| match m.1.wrapping_sub(m.0) {
                0 => 1.0,
                len => len as f64 / SPACE,
            })
            .sum()
    }

    /// How many ranges move.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.moves.len() as u32
    }
}

/// A consistent-hash ring of weighted nodes: `locate(key)` names the node that owns a
/// key, and adding or removing a node moves only the keys it gains or loses.
#[napi]
pub struct Ring {
    inner: shoal_core::Ring,
    /// Bumped by every change, so `index.js` knows when its cached `nodes` is stale.
    generation: u32,
    /// This ring's handle for the raw lookup calls, once JavaScript asked for it.
    handle: Cell<Option<u32>>,
}

impl Drop for Ring {
    fn drop(&mut self) {
        if let Some(h) = self.handle.get() {
            crate::fast::slots::unregister(h);
        }
    }
}

impl Ring {
    fn wrap(inner: shoal_core::Ring) -> Ring {
        Ring {
            inner,
            generation: 0,
            handle: Cell::new(None),
        }
    }

    /// The core ring, for the router's placement.
    pub fn core(&self) -> &shoal_core::Ring {
        &self.inner
    }

    /// The core ring for a change: bumps the generation.
    fn core_mut(&mut self) -> &mut shoal_core::Ring {
        self.generation = self.generation.wrapping_add(1);
        &mut self.inner
    }

    /// How many changes the ring has seen (wrapping); see [`crate::fast`].
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn nonempty(&self) -> Outcome<()> {
        if self.inner.is_empty() {
            return Err(Kind::Empty.fail("the ring has no nodes"));
        }
        Ok(())
    }

    /// Per-node values in node order from an array or an object by id.
    fn per_node(&self, values: &PerNode, what: &str) -> Outcome<Vec<f64>> {
        match values {
            Either::A(list) => {
                if list.len() != self.inner.len() {
                    return Err(invalid(format!(
                        "{what}: {} values for {} nodes",
                        list.len(),
                        self.inner.len()
                    )));
                }
                Ok(list.clone())
            }
            Either::B(map) => {
                let mut out = vec![0.0; self.inner.len()];
                for (id, &v) in map {
                    let i = self.inner.index_of(id).ok_or_else(|| {
                        Kind::UnknownNode.fail(format!("{what}: no node {id:?} on the ring"))
                    })?;
                    out[i] = v;
                }
                Ok(out)
            }
        }
    }

    fn by_node(&self, values: Vec<f64>) -> HashMap<String, f64> {
        self.inner
            .nodes()
            .iter()
            .map(|n| n.id().to_string())
            .zip(values)
            .collect()
    }
}

#[napi]
impl Ring {
    /// An empty ring. `vnodes`: points per unit of weight (xxh3; default 160) or per
    /// server before weighting (ketama; libketama uses 40). `hash`: `"xxh3"` (default)
    /// or `"ketama"` (assigns keys exactly as libketama / uhashring / npm hashring).
    #[napi(constructor)]
    pub fn new(env: Env, vnodes: Option<u32>, hash: Option<String>) -> Result<Self> {
        let scheme = HashScheme::parse(hash.as_deref().unwrap_or("xxh3")).or_throw(&env)?;
        let vnodes = vnodes.unwrap_or(scheme.default_vnodes());
        let inner = shoal_core::Ring::with_scheme(scheme, vnodes).or_throw(&env)?;
        Ok(Ring::wrap(inner))
    }

    /// The hash scheme, `"xxh3"` or `"ketama"`.
    #[napi(getter)]
    pub fn hash(&self) -> &'static str {
        self.inner.scheme().name()
    }

    /// Points per unit of weight.
    #[napi(getter)]
    pub fn vnodes(&self) -> u32 {
        self.inner.vnodes_per_weight()
    }

    /// The node ids, sorted (the order node indices refer to).
    #[napi(getter)]
    pub fn nodes(&self) -> Vec<String> {
        self.inner
            .nodes()
            .iter()
            .map(|n| n.id().to_string())
            .collect()
    }

    /// This ring's handle for the raw lookup calls of `index.js` (internal).
    #[napi(js_name = "_handle", skip_typescript)]
    pub fn handle(&self) -> u32 {
        if let Some(h) = self.handle.get() {
            return h;
        }
        // `&self` here is the boxed ring napi-rs wrapped: its address is final.
        let h = crate::fast::slots::register(self);
        self.handle.set(Some(h));
        h
    }

    /// The ring's change counter, paired with a cached `nodes` in `index.js` (internal).
    #[napi(js_name = "_generation", skip_typescript)]
    pub fn js_generation(&self) -> u32 {
        self.generation
    }

    /// Number of nodes.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Total number of points on the ring.
    #[napi(getter)]
    pub fn point_count(&self) -> u32 {
        self.inner.point_count() as u32
    }

    /// Adds a node (`RangeError` `ERR_SHOAL_INVALID_ARGUMENT` for a duplicate id or a
    /// bad weight; the ring is then unchanged).
    #[napi]
    pub fn add(&mut self, env: Env, id: String, options: Option<AddOptions>) -> Result<()> {
        let o = options.unwrap_or_default();
        let spec = NodeSpec {
            id,
            weight: o.weight.unwrap_or(1.0),
            vnodes: o.vnodes,
            zone: o.zone,
        };
        self.core_mut().add(spec).or_throw(&env)
    }

    /// Removes a node (`RangeError` `ERR_SHOAL_UNKNOWN_NODE` if there is none).
    #[napi]
    pub fn remove(&mut self, env: Env, id: String) -> Result<()> {
        self.core_mut().remove(&id).map(drop).or_throw(&env)
    }

    /// Changes a node's weight (its points are recomputed; only its keys move).
    #[napi]
    pub fn set_weight(&mut self, env: Env, id: String, weight: f64) -> Result<()> {
        self.core_mut().set_weight(&id, weight).or_throw(&env)
    }

    /// Whether a node with this id is on the ring.
    #[napi]
    pub fn has(&self, id: String) -> bool {
        self.inner.index_of(&id).is_some()
    }

    /// The node with this id (`RangeError` `ERR_SHOAL_UNKNOWN_NODE` if there is none).
    #[napi]
    pub fn node(&self, env: Env, id: String) -> Result<NodeInfo> {
        let n = self
            .inner
            .node(&id)
            .ok_or_else(|| Kind::UnknownNode.fail(format!("no node {id:?} on the ring")))
            .or_throw(&env)?;
        Ok(NodeInfo {
            id: n.id().into(),
            weight: n.weight(),
            vnodes: n.vnodes(),
            points: match self.inner.scheme() {
                HashScheme::Xxh3 => n.vnodes(),
                HashScheme::Ketama => n.vnodes() * 4,
            },
            zone: n.zone().map(Into::into),
        })
    }

    /// The ring position of a key (its hash under this ring's scheme).
    #[napi]
    pub fn key_hash(&self, key: Key) -> BigInt {
        BigInt::from(self.inner.key_position(key_bytes(&key)))
    }

    /// The owner of `key`, or `null` when the ring is empty.
    #[napi]
    pub fn locate(&self, key: Key) -> Option<&str> {
        self.inner.locate(key_bytes(&key))
    }

    /// The owner of a ring position (a `keyHash`), or `null` when the ring is empty.
    #[napi]
    pub fn locate_hash(&self, env: Env, position: BigInt) -> Result<Option<&str>> {
        let p = u64_of(&position, "position").or_throw(&env)?;
        Ok(self.inner.locate_hash(p))
    }

    /// Up to `n` distinct owners of `key`, primary first; with `distinctZones`, also in
    /// distinct zones (fewer when there are fewer nodes or zones).
    #[napi]
    pub fn locate_n(&self, key: Key, n: u32, distinct_zones: Option<bool>) -> Vec<&str> {
        let policy = if distinct_zones.unwrap_or(false) {
            ZonePolicy::Distinct
        } else {
            ZonePolicy::Any
        };
        self.inner
            .locate_n_with(key_bytes(&key), n as usize, policy)
    }

    /// Owners of many keys at once: an array of keys gives an array of owner ids; a
    /// `BigUint64Array` of key hashes gives a `Uint32Array` of indices into
    /// `ring.nodes`. `Error` `ERR_SHOAL_EMPTY` if the ring is empty.
    #[napi(ts_return_type = "Array<string> | Uint32Array")]
    pub fn locate_many(
        &self,
        env: Env,
        keys: Either<BigUint64Array, Vec<Key>>,
    ) -> Result<Either<Vec<&str>, Uint32Array>> {
        self.nonempty().or_throw(&env)?;
        match keys {
            Either::A(hashes) => {
                let mut out = vec![0u32; hashes.len()];
                self.inner
                    .locate_many_hashes(&hashes, &mut out)
                    .or_throw(&env)?;
                Ok(Either::B(Uint32Array::new(out)))
            }
            Either::B(keys) => Ok(Either::A(
                keys.iter()
                    .map(|k| {
                        let i = self
                            .inner
                            .locate_index(self.inner.key_position(key_bytes(k)));
                        // The ring is not empty (checked above), so every key has one.
                        self.inner.nodes()[i.unwrap_or(0) as usize].id()
                    })
                    .collect(),
            )),
        }
    }

    /// Bounded-load lookup (consistent hashing with bounded loads): the first node
    /// clockwise whose load is below ⌈(1+epsilon) · mean⌉ (weighted). `loads`: current
    /// load per node. `Error` `ERR_SHOAL_NO_CAPACITY` if every node is full.
    #[napi]
    pub fn locate_bounded(
        &self,
        env: Env,
        key: Key,
        loads: PerNode,
        epsilon: Option<f64>,
    ) -> Result<&str> {
        self.nonempty().or_throw(&env)?;
        let loads = self.per_node(&loads, "loads").or_throw(&env)?;
        if let Some(bad) = loads
            .iter()
            .find(|l| !(l.is_finite() && **l >= 0.0 && l.fract() == 0.0))
        {
            return Err(invalid(format!(
                "loads must be whole numbers >= 0, got {bad}"
            )))
            .or_throw(&env);
        }
        let loads: Vec<u64> = loads.iter().map(|&l| l as u64).collect();
        let position = self.inner.key_position(key_bytes(&key));
        let i = self
            .inner
            .locate_bounded_index(position, &loads, epsilon.unwrap_or(0.25))
            .or_throw(&env)?;
        Ok(self.inner.nodes()[i as usize].id())
    }

    /// Suggested weights that move the observed `loads` toward `targets` (desired
    /// shares; omitted: equal). `damping` in (0, 1]: 1 corrects fully in one step.
    /// Returns `{ id: weight }`.
    #[napi]
    pub fn suggest_weights(
        &self,
        env: Env,
        loads: PerNode,
        targets: Option<PerNode>,
        damping: Option<f64>,
    ) -> Result<HashMap<String, f64>> {
        self.nonempty().or_throw(&env)?;
        let loads = self.per_node(&loads, "loads").or_throw(&env)?;
        let targets = targets
            .map(|t| self.per_node(&t, "targets"))
            .transpose()
            .or_throw(&env)?;
        let weights = self
            .inner
            .suggest_weights(&loads, targets.as_deref(), damping.unwrap_or(1.0))
            .or_throw(&env)?;
        Ok(self.by_node(weights))
    }

    /// Each node's share of the hash space, `{ id: fraction }`.
    #[napi]
    pub fn ownership(&self) -> HashMap<String, f64> {
        self.by_node(self.inner.ownership())
    }

    /// The migration plan from this ring to `other`: which hash ranges change owner.
    #[napi]
    pub fn diff(&self, env: Env, other: &Ring) -> Result<MigrationPlan> {
        let plan = self.inner.diff(&other.inner).or_throw(&env)?;
        Ok(MigrationPlan {
            fraction: plan.fraction_moved(),
            moves: plan
                .moves
                .iter()
                .map(|m| (m.start, m.end, m.from.to_string(), m.to.to_string()))
                .collect(),
        })
    }

    /// A 64-bit digest of the layout: equal rings have equal digests.
    #[napi]
    pub fn layout_digest(&self) -> BigInt {
        BigInt::from(self.inner.layout_digest())
    }

    /// The ring as versioned JSON (nodes, weights, zones, scheme); see `fromSnapshot`.
    #[napi]
    pub fn snapshot(&self) -> String {
        // A snapshot is plain data: serializing it cannot fail.
        serde_json::to_string(&self.inner.snapshot()).unwrap_or_default()
    }

    /// Rebuilds a ring from `snapshot()` output (`Error` `ERR_SHOAL_SNAPSHOT` if it
    /// does not decode or describes an invalid ring).
    #[napi(factory, ts_args_type = "snapshot: string")]
    pub fn from_snapshot(env: Env, snapshot: Unknown<'_>) -> Result<Ring> {
        let snapshot = string_arg(&env, snapshot, "snapshot").or_throw(&env)?;
        let s: RingSnapshot = serde_json::from_str(&snapshot)
            .map_err(|e| Kind::Snapshot.fail(format!("ring snapshot does not decode: {e}")))
            .or_throw(&env)?;
        let inner = shoal_core::Ring::from_snapshot(&s).or_throw(&env)?;
        Ok(Ring::wrap(inner))
    }

    /// A copy of the ring.
    #[napi]
    pub fn copy(&self) -> Ring {
        Ring::wrap(self.inner.clone())
    }

    /// `Ring(hash=…, vnodes=…, nodes=…, points=…)`.
    #[napi]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        format!(
            "Ring(hash={}, vnodes={}, nodes={}, points={})",
            self.hash(),
            self.inner.vnodes_per_weight(),
            self.inner.len(),
            self.inner.point_count()
        )
    }
}
