//! Payloads from Python: any bytes-like object, read without copying when it is
//! immutable.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::invalid;

/// Calls `f` with the bytes of `payload`: `bytes` and other read-only buffers are
/// read in place; writable ones (`bytearray`, numpy arrays) are copied first, so
/// another thread writing them cannot race the delivery; buffers of other item types
/// are read as bytes.
pub fn with_payload<R>(
    payload: &Bound<'_, PyAny>,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(b) = payload.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    if payload.cast::<PyString>().is_ok() {
        return Err(invalid(
            "a payload is bytes-like, not str: encode it first (e.g. text.encode())",
        ));
    }
    let buf = match PyBuffer::<u8>::get(payload) {
        Ok(b) => b,
        // Another item type (numpy float64, array('I')): view it as bytes.
        Err(_) => as_bytes_view(payload).and_then(|v| PyBuffer::<u8>::get(&v))?,
    };
    if !buf.is_c_contiguous() {
        return Err(invalid("a payload buffer must be contiguous"));
    }
    if buf.readonly() {
        // SAFETY: the buffer stays exported (and so allocated, `len_bytes` long) while
        // `buf` lives, which is past `f`; it is read-only, so nothing writes it.
        let bytes =
            unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
        f(bytes)
    } else {
        f(&buf.to_vec(payload.py())?)
    }
}

/// `memoryview(obj).cast("B")`, or the error a non-bytes-like object deserves.
fn as_bytes_view<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let not_bytes = || {
        invalid(format!(
            "a payload is bytes-like (bytes, bytearray, memoryview, a numpy array), not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    };
    let view = py
        .import("builtins")?
        .getattr("memoryview")?
        .call1((obj,))
        .map_err(|_| not_bytes())?;
    view.call_method1("cast", ("B",)).map_err(|_| not_bytes())
}
