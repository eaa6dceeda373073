//! `JumpHash` and `Rendezvous`: the alternative placement algorithms, for comparison
//! with the ring in the visualizer (same key hash: xxh3-64 of the key bytes).

use js_sys::{Array, Uint32Array};
use shoal_core::hash::{key_hash, sample_key};
use shoal_core::placement::jump_hash;
use shoal_core::Placement;
use wasm_bindgen::prelude::*;

use crate::args::key_bytes;
use crate::errors::{JsResult, Kind, OrThrow};
use crate::js::strings;
use crate::ring::sample_count;

/// The owner of `key` under `placement`, or `null` when it has no nodes.
fn locate_in(placement: &impl Placement, key: &JsValue) -> JsResult<JsValue> {
    Ok(placement
        .locate(&key_bytes(key)?)
        .map_or(JsValue::NULL, JsValue::from_str))
}

fn empty() -> JsValue {
    Kind::Empty.error("there are no nodes to place on")
}

/// Jump consistent hashing (Lamping & Veach): buckets `0..n` named by id; only the
/// last node can be removed, and adding one moves exactly 1/(n+1) of the keys.
#[wasm_bindgen]
#[derive(Default)]
pub struct JumpHash {
    inner: shoal_core::JumpHash,
}

#[wasm_bindgen]
impl JumpHash {
    /// No nodes yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> JumpHash {
        JumpHash::default()
    }

    /// Appends a node (bucket `n`).
    pub fn push(&mut self, id: String) -> JsResult<()> {
        self.inner.push(id).or_throw()
    }

    /// Removes the last node and returns its id (`undefined` when empty).
    pub fn pop(&mut self) -> Option<String> {
        self.inner.pop()
    }

    /// Node ids in bucket order.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn nodes(&self) -> Array {
        strings(self.inner.nodes().iter().map(String::as_str))
    }

    /// The node that owns `key`, or `null` when there are none.
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn locate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<JsValue> {
        locate_in(&self.inner, &key)
    }

    /// Node indices owning `sampleKey(0..count)`.
    #[wasm_bindgen(js_name = sampleOwners)]
    pub fn sample_owners(&self, count: u32) -> JsResult<Uint32Array> {
        let n = self.inner.nodes().len() as u32;
        if n == 0 {
            return Err(empty());
        }
        let out: Vec<u32> = (0..u64::from(sample_count(count)?))
            .map(|i| jump_hash(key_hash(sample_key(i).as_bytes()), n))
            .collect();
        Ok(Uint32Array::from(&out[..]))
    }
}

/// Weighted rendezvous (highest random weight) hashing: every node scores every key,
/// the highest score owns it.
#[wasm_bindgen]
#[derive(Default)]
pub struct Rendezvous {
    inner: shoal_core::Rendezvous,
}

#[wasm_bindgen]
impl Rendezvous {
    /// No nodes yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Rendezvous {
        Rendezvous::default()
    }

    /// Adds a node with a weight (default 1).
    pub fn add(&mut self, id: String, weight: Option<f64>) -> JsResult<()> {
        self.inner.add(id, weight.unwrap_or(1.0)).or_throw()
    }

    /// Removes a node.
    pub fn remove(&mut self, id: &str) -> JsResult<()> {
        self.inner.remove(id).or_throw()
    }

    /// Node ids, sorted; the index of an id here is its node index.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn nodes(&self) -> Array {
        strings(self.inner.ids())
    }

    /// The node that owns `key`, or `null` when there are none.
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn locate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
    ) -> JsResult<JsValue> {
        locate_in(&self.inner, &key)
    }

    /// Node indices owning `sampleKey(0..count)`.
    #[wasm_bindgen(js_name = sampleOwners)]
    pub fn sample_owners(&self, count: u32) -> JsResult<Uint32Array> {
        if self.inner.ids().len() == 0 {
            return Err(empty());
        }
        let mut out = Vec::with_capacity(sample_count(count)? as usize);
        for i in 0..u64::from(count) {
            let owner = Placement::locate(&self.inner, sample_key(i).as_bytes())
                .and_then(|id| self.inner.index_of(id))
                .ok_or_else(empty)?;
            out.push(owner as u32);
        }
        Ok(Uint32Array::from(&out[..]))
    }
}
