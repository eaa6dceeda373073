//! Keys from Python: `str` (hashed as its UTF-8 bytes), `bytes`, or any object with
//! the buffer protocol (`bytearray`, `memoryview`, numpy bytes).

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::invalid;

/// Calls `f` with the bytes of `key` without copying for `str` and `bytes`.
pub fn with_key<R>(key: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(s) = key.cast::<PyString>() {
        return Ok(f(s.to_str()?.as_bytes()));
    }
    if let Ok(b) = key.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    match PyBuffer::<u8>::get(key) {
        Ok(buf) => Ok(f(&buf.to_vec(key.py())?)),
        Err(_) => Err(invalid(format!(
            "a key must be str, bytes or a bytes-like object, not {}",
            key.get_type().name()?
        ))),
    }
}

/// An owned copy of the bytes of `key` (for batches processed without the GIL).
pub fn key_bytes(key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    with_key(key, <[u8]>::to_vec)
}
