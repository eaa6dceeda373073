//! Reading JavaScript arguments: keys (string or bytes) and option objects, with a
//! `TypeError` / `RangeError` that names the argument when one does not fit.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::errors::{invalid, wrong_type, JsResult};

/// The bytes of a key: a string (its UTF-8) or a `Uint8Array` (`Buffer` included).
pub fn key_bytes(key: &JsValue) -> JsResult<Vec<u8>> {
    if let Some(s) = key.as_string() {
        return Ok(s.into_bytes());
    }
    if let Some(b) = key.dyn_ref::<Uint8Array>() {
        return Ok(b.to_vec());
    }
    Err(wrong_type("a key", "a string or a Uint8Array"))
}

/// An options object: `undefined`/`null` (all defaults) or a plain object.
pub struct Options {
    obj: Option<JsValue>,
    what: &'static str,
}

impl Options {
    /// Wraps `value`, the argument called `what` in messages.
    pub fn new(value: JsValue, what: &'static str) -> JsResult<Options> {
        if value.is_undefined() || value.is_null() {
            return Ok(Options { obj: None, what });
        }
        if !value.is_object() || js_sys::Array::is_array(&value) {
            return Err(wrong_type(what, "an object"));
        }
        Ok(Options {
            obj: Some(value),
            what,
        })
    }

    /// The field, or `None` when absent, `undefined` or `null`.
    fn field(&self, name: &str) -> Option<JsValue> {
        let obj = self.obj.as_ref()?;
        let v = Reflect::get(obj, &JsValue::from_str(name)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    fn name(&self, field: &str) -> String {
        format!("{}.{field}", self.what)
    }

    /// A number field.
    pub fn f64(&self, field: &str) -> JsResult<Option<f64>> {
        match self.field(field) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.name(field), "a number")),
        }
    }

    /// A whole-number field in `0..=u32::MAX`.
    pub fn u32(&self, field: &str) -> JsResult<Option<u32>> {
        match self.f64(field)? {
            None => Ok(None),
            Some(x) => whole_u32(x, &self.name(field)).map(Some),
        }
    }

    /// A string field.
    pub fn string(&self, field: &str) -> JsResult<Option<String>> {
        match self.field(field) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.name(field), "a string")),
        }
    }

    /// A boolean field.
    pub fn bool(&self, field: &str) -> JsResult<Option<bool>> {
        match self.field(field) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.name(field), "a boolean")),
        }
    }

    /// A `bigint` (or whole number) field in `0..2^64`.
    pub fn u64(&self, field: &str) -> JsResult<Option<u64>> {
        match self.field(field) {
            None => Ok(None),
            Some(v) => u64_of(&v, &self.name(field)).map(Some),
        }
    }

    /// A `[low, high]` pair of numbers.
    pub fn pair(&self, field: &str) -> JsResult<Option<(f64, f64)>> {
        let Some(v) = self.field(field) else {
            return Ok(None);
        };
        let name = self.name(field);
        if !js_sys::Array::is_array(&v) {
            return Err(wrong_type(&name, "an array of two numbers"));
        }
        let a = js_sys::Array::from(&v);
        let (lo, hi) = (a.get(0).as_f64(), a.get(1).as_f64());
        match (lo, hi, a.length()) {
            (Some(lo), Some(hi), 2) => Ok(Some((lo, hi))),
            _ => Err(wrong_type(&name, "an array of two numbers")),
        }
    }
}

/// A whole number in `0..=u32::MAX`.
pub fn whole_u32(x: f64, what: &str) -> JsResult<u32> {
    if x.is_finite() && x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) {
        Ok(x as u32)
    } else {
        Err(invalid(format!(
            "{what} must be a whole number from 0 to 4294967295, got {x}"
        )))
    }
}

/// A `bigint` (or a safe whole number) in `0..2^64`.
pub fn u64_of(v: &JsValue, what: &str) -> JsResult<u64> {
    if let Some(x) = v.as_f64() {
        if x.is_finite() && x.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&x) {
            return Ok(x as u64);
        }
        return Err(invalid(format!(
            "{what} must be a whole number >= 0, got {x}"
        )));
    }
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| invalid(format!("{what} must be from 0 to 2^64 - 1")));
    }
    Err(wrong_type(what, "a bigint"))
}
