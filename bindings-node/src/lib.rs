//! Node.js bindings of shoal (napi-rs): the same placement, membership and bus as
//! the Rust core and the Python package, in camelCase, with 64-bit hashes as
//! `bigint` and errors as `TypeError` / `RangeError` / `Error` carrying a stable
//! `code` (`ERR_SHOAL_*`).
//!
//! Built by `@napi-rs/cli` (`npm run build` in this folder, or `make node` at the
//! top), which also writes `index.js` (CommonJS loader) and `index.d.ts`.

#![deny(missing_docs)]

pub mod args;
pub mod bus;
pub mod errors;
pub mod fast;
pub mod keys;
pub mod node;
pub mod partition;
pub mod ring;
pub mod router;
pub mod sim;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::keys::{key_bytes, Key};

/// The xxh3 hash shoal uses for keys (seed 0), as a `bigint`: the ring position of a
/// key under the default scheme.
#[napi]
pub fn key_hash(key: Key) -> BigInt {
    BigInt::from(shoal_core::hash::key_hash(key_bytes(&key)))
}

/// SplitMix64 (the shared vectors' key generator): `splitmix64(i)` as a `bigint`.
#[napi]
pub fn splitmix64(env: Env, x: BigInt) -> Result<BigInt> {
    use crate::errors::OrThrow;
    let x = keys::u64_of(&x, "x").or_throw(&env)?;
    Ok(BigInt::from(shoal_core::hash::splitmix64(x)))
}
