//! Keys from JavaScript: a `string` (hashed as its UTF-8 bytes) or bytes (`Buffer`,
//! `Uint8Array`); 64-bit hashes as `bigint`.

use napi::bindgen_prelude::*;

use crate::errors::{invalid, Outcome};

/// A key: a string or bytes.
#[napi_derive::napi]
pub type Key = Either<String, Uint8Array>;

/// The bytes of a key.
pub fn key_bytes(key: &Key) -> &[u8] {
    match key {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// A `bigint` that must be an unsigned 64-bit value.
pub fn u64_of(value: &BigInt, what: &str) -> Outcome<u64> {
    let (negative, v, lossless) = value.get_u64();
    if negative || !lossless {
        return Err(invalid(format!(
            "{what} must be a bigint in 0..2^64, got {}{v}{}",
            if negative { "-" } else { "" },
            if lossless { "" } else { " (and more bits)" }
        )));
    }
    Ok(v)
}
