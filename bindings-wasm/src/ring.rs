//! `Ring`: the weighted consistent-hash ring, plus what the visualizer draws (points,
//! owners of the sample keys, bounded-load assignment).

use std::cell::RefCell;

use js_sys::{Array, BigUint64Array, Float64Array, Uint32Array};
use shoal_core::hash::sample_key;
use shoal_core::ring::HashScheme;
use shoal_core::{NodeSpec, ZonePolicy};
use wasm_bindgen::prelude::*;

use crate::args::{key_bytes, whole_u32, Options};
use crate::errors::{invalid, wrong_type, JsResult, Kind, OrThrow};
use crate::js::{object, opt_str, record, strings};

/// A consistent-hash ring of weighted nodes: `locate(key)` names the node that owns a
/// key, and adding or removing a node moves only the keys it gains or loses. Same
/// layout and owners as the Rust, Python and Node packages.
#[wasm_bindgen]
pub struct Ring {
    inner: shoal_core::Ring,
    /// The node ids as JavaScript strings, made on first use after each change:
    /// lookups hand out these instead of decoding a fresh string per key.
    ids: RefCell<Option<Vec<JsValue>>>,
}

/// The most sample keys one call takes (16 Mi): bounds the memory a call allocates.
pub const MAX_SAMPLE: u32 = 1 << 24;

/// Checks a sample size.
pub fn sample_count(count: u32) -> JsResult<u32> {
    if count > MAX_SAMPLE {
        return Err(invalid(format!(
            "count must be at most {MAX_SAMPLE}, got {count}"
        )));
    }
    Ok(count)
}

impl Ring {
    fn wrap(inner: shoal_core::Ring) -> Ring {
        Ring {
            inner,
            ids: RefCell::new(None),
        }
    }

    /// The core ring for a change: forgets the cached id strings.
    fn core_mut(&mut self) -> &mut shoal_core::Ring {
        *self.ids.get_mut() = None;
        &mut self.inner
    }

    /// Calls `f` with the node ids as JavaScript strings (made once per layout).
    fn with_ids<T>(&self, f: impl FnOnce(&[JsValue]) -> T) -> T {
        let mut ids = self.ids.borrow_mut();
        let ids = ids.get_or_insert_with(|| {
            self.inner
                .nodes()
                .iter()
                .map(|n| JsValue::from_str(n.id()))
                .collect()
        });
        f(ids)
    }

    fn nonempty(&self) -> JsResult<()> {
        if self.inner.is_empty() {
            return Err(Kind::Empty.error("the ring has no nodes"));
        }
        Ok(())
    }

    /// Per-node loads from an array in node order or an object by id.
    fn loads(&self, loads: &JsValue) -> JsResult<Vec<u64>> {
        let n = self.inner.len();
        let whole = |v: JsValue| -> JsResult<u64> {
            let x = v.as_f64().ok_or_else(|| wrong_type("a load", "a number"))?;
            whole_u32(x, "a load").map(u64::from)
        };
        if Array::is_array(loads) {
            let a = Array::from(loads);
            if a.length() as usize != n {
                return Err(invalid(format!(
                    "loads: {} values for {n} nodes",
                    a.length()
                )));
            }
            return a.iter().map(whole).collect();
        }
        let o = loads
            .dyn_ref::<js_sys::Object>()
            .ok_or_else(|| wrong_type("loads", "an array or an object by node id"))?;
        let mut out = vec![0u64; n];
        for entry in js_sys::Object::entries(o).iter() {
            let pair = Array::from(&entry);
            let id = pair.get(0).as_string().unwrap_or_default();
            let i = self.inner.index_of(&id).ok_or_else(|| {
                Kind::UnknownNode.error(format!("loads: no node {id:?} on the ring"))
            })?;
            out[i] = whole(pair.get(1))?;
        }
        Ok(out)
    }

    fn policy(distinct_zones: Option<bool>) -> ZonePolicy {
        if distinct_zones.unwrap_or(false) {
            ZonePolicy::Distinct
        } else {
            ZonePolicy::Any
        }
    }
}

#[wasm_bindgen]
impl Ring {
    /// A ring with `vnodes` points per unit of weight (default 160 for xxh3, 40 for
    /// ketama, whose points come in groups of four) and hash scheme `"xxh3"` (default)
    /// or `"ketama"` (libketama-compatible).
    #[wasm_bindgen(constructor)]
    pub fn new(vnodes: Option<f64>, hash: Option<String>) -> JsResult<Ring> {
        let scheme = HashScheme::parse(hash.as_deref().unwrap_or("xxh3")).or_throw()?;
        let vnodes = match vnodes {
            Some(v) => whole_u32(v, "vnodes")?,
            None => scheme.default_vnodes(),
        };
        let inner = shoal_core::Ring::with_scheme(scheme, vnodes).or_throw()?;
        Ok(Ring::wrap(inner))
    }

    /// The hash scheme: `"xxh3"` or `"ketama"`.
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> String {
        self.inner.scheme().name().into()
    }

    /// Points (ketama: groups of four) per unit of weight.
    #[wasm_bindgen(getter)]
    pub fn vnodes(&self) -> u32 {
        self.inner.vnodes_per_weight()
    }

    /// Node ids in ring order; the index of an id here is its node index.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn nodes(&self) -> Array {
        strings(self.inner.nodes().iter().map(|n| n.id()))
    }

    /// How many nodes.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }

    /// How many points on the circle.
    #[wasm_bindgen(getter, js_name = pointCount)]
    pub fn point_count(&self) -> u32 {
        self.inner.point_count() as u32
    }

    /// Adds a node. `options`: `weight` (relative capacity, default 1), `vnodes` (an
    /// explicit point count instead, xxh3 only), `zone` (failure domain). A duplicate
    /// id or a bad weight is a `RangeError`; the ring is then unchanged.
    #[wasm_bindgen]
    pub fn add(
        &mut self,
        id: String,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ weight?: number; vnodes?: number; zone?: string }"
        )]
        options: Option<JsValue>,
    ) -> JsResult<()> {
        let o = Options::new(options.unwrap_or(JsValue::UNDEFINED), "options")?;
        let spec = NodeSpec {
            id,
            weight: o.f64("weight")?.unwrap_or(1.0),
            vnodes: o.u32("vnodes")?,
            zone: o.string("zone")?,
        };
        self.core_mut().add(spec).or_throw()
    }

    /// Removes a node (`RangeError` `ERR_SHOAL_UNKNOWN_NODE` if absent).
    pub fn remove(&mut self, id: &str) -> JsResult<()> {
        self.core_mut().remove(id).map(drop).or_throw()
    }

    /// Changes a node's weight (its points are recomputed).
    #[wasm_bindgen(js_name = setWeight)]
    pub fn set_weight(&mut self, id: &str, weight: f64) -> JsResult<()> {
        self.core_mut().set_weight(id, weight).or_throw()
    }

    /// Whether a node with this id is on the ring.
    pub fn has(&self, id: &str) -> bool {
        self.inner.index_of(id).is_some()
    }

    /// One node: `{ id, weight, vnodes, points, zone }`.
    #[wasm_bindgen(
        unchecked_return_type = "{ id: string; weight: number; vnodes: number; points: number; zone?: string }"
    )]
    pub fn node(&self, id: &str) -> JsResult<JsValue> {
        let n = self
            .inner
            .node(id)
            .ok_or_else(|| Kind::UnknownNode.error(format!("no node {id:?} on the ring")))?;
        let points = match self.inner.scheme() {
            HashScheme::Xxh3 => n.vnodes(),
            HashScheme::Ketama => n.vnodes() * 4,
        };
        Ok(object(&[
            ("id", n.id().into()),
            ("weight", n.weight().into()),
            ("vnodes", n.vnodes().into()),
            ("points", points.into()),
            ("zone", opt_str(n.zone())),
        ]))
    }

    /// A key's position on the circle (xxh3-64 of its bytes, or ketama's MD5 point).
    #[wasm_bindgen(js_name = keyHash)]
    pub fn key_hash(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<u64> {
        Ok(self.inner.key_position(&key_bytes(&key)?))
    }

    /// The node that owns `key`, or `null` on an empty ring.
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn locate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<JsValue> {
        let position = self.inner.key_position(&key_bytes(&key)?);
        Ok(match self.inner.locate_index(position) {
            Some(i) => self.with_ids(|ids| ids[i as usize].clone()),
            None => JsValue::NULL,
        })
    }

    /// `n` distinct nodes for `key`, owner first (fewer if the ring has fewer nodes);
    /// `distinctZones`: also in distinct zones where possible.
    #[wasm_bindgen(js_name = locateN,
        unchecked_return_type = "string[]")]
    pub fn locate_n(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
        n: u32,
        distinct_zones: Option<bool>,
    ) -> JsResult<Array> {
        let key = key_bytes(&key)?;
        let ids = self
            .inner
            .locate_n_with(&key, n as usize, Self::policy(distinct_zones));
        Ok(strings(ids))
    }

    /// Owners of many keys in one call: an array of keys gives an array of ids; a
    /// `BigUint64Array` of key hashes gives a `Uint32Array` of indices into `nodes`.
    #[wasm_bindgen(js_name = locateMany,
        unchecked_return_type = "string[] | Uint32Array")]
    pub fn locate_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Array<string | Uint8Array> | BigUint64Array")] keys: JsValue,
    ) -> JsResult<JsValue> {
        self.nonempty()?;
        if let Some(hashes) = keys.dyn_ref::<BigUint64Array>() {
            let hashes = hashes.to_vec();
            let mut out = vec![0u32; hashes.len()];
            self.inner
                .locate_many_hashes(&hashes, &mut out)
                .or_throw()?;
            return Ok(Uint32Array::from(&out[..]).into());
        }
        if !Array::is_array(&keys) {
            return Err(wrong_type("keys", "an array of keys or a BigUint64Array"));
        }
        let keys = Array::from(&keys);
        let out = Array::new_with_length(keys.length());
        self.with_ids(|ids| {
            for (at, k) in keys.iter().enumerate() {
                let position = self.inner.key_position(&key_bytes(&k)?);
                // The ring is not empty (checked above), so every key has an owner.
                let i = self.inner.locate_index(position).unwrap_or(0) as usize;
                out.set(at as u32, ids[i].clone());
            }
            Ok(out.into())
        })
    }

    /// Node indices owning `sampleKey(0..count)` (the shared vectors' key rule), for
    /// balance histograms and for counting moved keys between two layouts.
    #[wasm_bindgen(js_name = sampleOwners)]
    pub fn sample_owners(&self, count: u32) -> JsResult<Uint32Array> {
        self.nonempty()?;
        let count = sample_count(count)?;
        let hashes: Vec<u64> = (0..u64::from(count))
            .map(|i| self.inner.key_position(sample_key(i).as_bytes()))
            .collect();
        let mut out = vec![0u32; hashes.len()];
        self.inner
            .locate_many_hashes(&hashes, &mut out)
            .or_throw()?;
        Ok(Uint32Array::from(&out[..]))
    }

    /// Bounded-load (Mirrokni–Thorup–Zadimoghaddam) owners of `sampleKey(0..count)`,
    /// assigned in that order: no node takes more than ⌈(1+ε)·(m+1)·wᵢ/W⌉ of the first
    /// m+1 keys, so peak/mean stays ≤ 1+ε (roughly).
    #[wasm_bindgen(js_name = sampleOwnersBounded)]
    pub fn sample_owners_bounded(&self, count: u32, epsilon: f64) -> JsResult<Uint32Array> {
        self.nonempty()?;
        let count = sample_count(count)?;
        let mut loads = vec![0u64; self.inner.len()];
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..u64::from(count) {
            let position = self.inner.key_position(sample_key(i).as_bytes());
            let owner = self
                .inner
                .locate_bounded_index(position, &loads, epsilon)
                .or_throw()?;
            loads[owner as usize] += 1;
            out.push(owner);
        }
        Ok(Uint32Array::from(&out[..]))
    }

    /// The bounded-load owner of `key` given the keys each node holds now (`loads`:
    /// an array in `nodes` order, or an object by id where missing ids count 0) and
    /// ε (default 0.25): the first node clockwise whose load is below its capacity
    /// ⌈(1+ε)·(m+1)·wᵢ/W⌉, `m` being the total load. Add one to that node's load
    /// when you place the key there.
    #[wasm_bindgen(js_name = locateBounded)]
    pub fn locate_bounded(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[] | Record<string, number>")] loads: JsValue,
        epsilon: Option<f64>,
    ) -> JsResult<String> {
        self.nonempty()?;
        let loads = self.loads(&loads)?;
        let position = self.inner.key_position(&key_bytes(&key)?);
        let i = self
            .inner
            .locate_bounded_index(position, &loads, epsilon.unwrap_or(0.25))
            .or_throw()?;
        Ok(self.inner.nodes()[i as usize].id().into())
    }

    /// Every point: its position as a fraction of the circle in [0, 1) and its owner's
    /// node index, in circle order.
    #[wasm_bindgen(unchecked_return_type = "{ positions: Float64Array; owners: Uint32Array }")]
    pub fn points(&self) -> JsValue {
        const SPACE: f64 = 18_446_744_073_709_551_616.0;
        let (positions, owners) = self.inner.points();
        let fractions: Vec<f64> = positions.iter().map(|&p| p as f64 / SPACE).collect();
        object(&[
            ("positions", Float64Array::from(&fractions[..]).into()),
            ("owners", Uint32Array::from(owners).into()),
        ])
    }

    /// The share of the circle each node owns, by node id.
    #[wasm_bindgen(unchecked_return_type = "Record<string, number>")]
    pub fn ownership(&self) -> JsValue {
        let shares = self.inner.ownership();
        record(self.inner.nodes().iter().map(|n| n.id()).zip(shares))
    }

    /// The hash ranges that change owner from this ring to `other`:
    /// `{ fractionMoved, moves: [{ start, end, from, to }] }` (positions `h` with
    /// `start < h <= end`, wrapping).
    #[wasm_bindgen(
        unchecked_return_type = "{ fractionMoved: number; moves: { start: bigint; end: bigint; from: string; to: string }[] }"
    )]
    pub fn diff(&self, other: &Ring) -> JsResult<JsValue> {
        let plan = self.inner.diff(&other.inner).or_throw()?;
        let moves: Array = plan
            .moves
            .iter()
            .map(|m| {
                object(&[
                    ("start", js_sys::BigInt::from(m.start).into()),
                    ("end", js_sys::BigInt::from(m.end).into()),
                    ("from", m.from.into()),
                    ("to", m.to.into()),
                ])
            })
            .collect();
        Ok(object(&[
            ("fractionMoved", plan.fraction_moved().into()),
            ("moves", moves.into()),
        ]))
    }

    /// A digest of the layout (scheme, points and owners): equal on every member that
    /// computed the same ring.
    #[wasm_bindgen(js_name = layoutDigest)]
    pub fn layout_digest(&self) -> u64 {
        self.inner.layout_digest()
    }

    /// An independent copy.
    pub fn copy(&self) -> Ring {
        Ring {
            inner: self.inner.clone(),
            ids: RefCell::new(None),
        }
    }

    /// `Ring(hash=…, vnodes=…, nodes=…, points=…)`.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!(
            "Ring(hash={}, vnodes={}, nodes={}, points={})",
            self.inner.scheme().name(),
            self.inner.vnodes_per_weight(),
            self.inner.len(),
            self.inner.point_count()
        )
    }
}
