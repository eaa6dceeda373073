//! Arguments of static methods (`Ring.fromSnapshot`, `Node.start`, `Bus.create`, …).
//!
//! napi-rs reports an argument of the wrong type as a plain `Error`; `index.js`
//! rethrows those as `TypeError` for instance methods and constructors, but napi
//! defines statics read-only, so static methods take `Unknown` and check here.

use napi::bindgen_prelude::FromNapiValue;
use napi::{Env, JsValue, Unknown, ValueType};

use crate::errors::{wrong_type, Outcome};

/// A string argument: `TypeError` `ERR_SHOAL_INVALID_TYPE` for anything else.
pub fn string_arg(env: &Env, value: Unknown<'_>, what: &str) -> Outcome<String> {
    if value.get_type().ok() != Some(ValueType::String) {
        return Err(wrong_type(format!("{what} must be a string")));
    }
    // SAFETY: a value of this call, checked to be a string.
    unsafe { String::from_napi_value(env.raw(), value.raw()) }
        .map_err(|e| wrong_type(format!("{what}: {}", e.reason)))
}

/// An options object (`undefined`/`null`: the defaults): `TypeError`
/// `ERR_SHOAL_INVALID_TYPE` for a non-object, an array, or a field of the wrong type.
pub fn options_arg<T: FromNapiValue + Default>(
    env: &Env,
    value: Option<Unknown<'_>>,
    what: &str,
) -> Outcome<T> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    match value.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(T::default()),
        Ok(ValueType::Object) if !value.is_array().unwrap_or(true) => {}
        _ => return Err(wrong_type(format!("{what} must be an object"))),
    }
    // SAFETY: a value of this call, checked to be an object.
    unsafe { T::from_napi_value(env.raw(), value.raw()) }
        .map_err(|e| wrong_type(format!("{what}: {}", e.reason)))
}
