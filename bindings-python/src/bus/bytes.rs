//! `BytesLike`: the bytes of any object with the buffer protocol (bytes, bytearray,
//! memoryview, numpy array, ...), borrowed for the time of a copy.

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::invalid;

/// A C-contiguous buffer exported by a Python object; released on drop. Holds the
/// `Python` token: it exists (and is dropped) only while the GIL is held.
pub(crate) struct BytesLike<'py> {
    /// Boxed: some exporters point fields of the struct at the struct itself.
    view: Box<ffi::Py_buffer>,
    _py: Python<'py>,
}

impl<'py> BytesLike<'py> {
    /// The bytes of `obj`, which must export a contiguous buffer.
    pub fn get(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let mut view = Box::new(ffi::Py_buffer::new());
        // SAFETY: `view` is a valid Py_buffer; on success it is released in `drop`.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut *view, ffi::PyBUF_SIMPLE) };
        if rc == -1 {
            let cause = PyErr::fetch(obj.py());
            let err = invalid(format!(
                "expected a bytes-like object with contiguous memory (bytes, bytearray, \
                 memoryview, numpy array), not {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| "this object".into())
            ));
            err.set_cause(obj.py(), Some(cause));
            return Err(err);
        }
        Ok(BytesLike {
            view,
            _py: obj.py(),
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.view.len.max(0) as usize
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        if self.len() == 0 || self.view.buf.is_null() {
            return &[];
        }
        // SAFETY: a successful PyBUF_SIMPLE request exports `len` contiguous bytes at
        // `buf`, valid until released; the GIL is held, so no Python code runs while
        // the slice is borrowed.
        unsafe { core::slice::from_raw_parts(self.view.buf.cast::<u8>(), self.len()) }
    }
}

impl Drop for BytesLike<'_> {
    fn drop(&mut self) {
        // SAFETY: the buffer was obtained by a successful PyObject_GetBuffer and is
        // released once; the GIL is held (the `Python` token lives in `self`).
        unsafe { ffi::PyBuffer_Release(&mut *self.view) };
    }
}
