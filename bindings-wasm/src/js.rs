//! Building JavaScript values: plain objects and arrays of strings.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A plain object with these fields.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        // Defining a field on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// A plain object from (name, number) pairs, e.g. counts by node id.
pub fn record<'a>(pairs: impl IntoIterator<Item = (&'a str, f64)>) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v));
    }
    o.into()
}

/// An array of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

/// `Some(s)` → the string, `None` → `undefined`.
pub fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::UNDEFINED, JsValue::from_str)
}
