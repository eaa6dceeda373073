//! `Message`: the exporter behind the read-only memoryview that `Receiver.recv`
//! returns. It owns the core message, so the slot in shared memory stays held until
//! the last buffer over it (the memoryview, a numpy array made from it) is gone.

use std::ffi::c_int;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyMemoryView;
use shoal_core::native::bus::Message as CoreMessage;

/// A received message: the sender's bytes, in shared memory, read-only.
///
/// You normally see it only as the `.obj` of the memoryview returned by
/// `Receiver.recv`; the slot is given back when that view (and every buffer made from
/// it, such as a numpy array) is released or garbage-collected. Use
/// `with receiver.recv() as m:` to give it back at the end of the block.
#[pyclass(module = "shoal._native", name = "Message", frozen)]
pub struct PyMessage {
    msg: CoreMessage,
}

/// A read-only memoryview over a new message object that owns `msg`.
pub(crate) fn message_view(py: Python<'_>, msg: CoreMessage) -> PyResult<Bound<'_, PyMemoryView>> {
    let obj = Bound::new(py, PyMessage { msg })?;
    PyMemoryView::from(obj.as_any())
}

#[pymethods]
impl PyMessage {
    /// Buffer protocol: a read-only, C-contiguous buffer of unsigned bytes over the
    /// message in shared memory (asking for a writable one raises `BufferError`).
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let bytes: &[u8] = &slf.get().msg;
        // SAFETY: `view` comes from the interpreter; the bytes live as long as the
        // message, and `FillInfo` takes a reference to `slf`. Read-only: `FillInfo`
        // refuses a writable request.
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                bytes.as_ptr().cast_mut().cast(),
                bytes.len() as isize,
                1,
                flags,
            )
        };
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    /// Where the bytes are in the bus's pool: for a message sent from a loan, the
    /// sender's `Loan.offset` (the bytes were not copied).
    #[getter]
    fn offset(&self) -> u64 {
        self.msg.offset()
    }

    /// Whether the message arrived inside a batch (`Sender.send_batched`).
    #[getter]
    fn batched(&self) -> bool {
        self.msg.is_batched()
    }

    /// The message's length in bytes.
    fn __len__(&self) -> usize {
        self.msg.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Message(offset={}, len={}, batched={})",
            self.msg.offset(),
            self.msg.len(),
            if self.msg.is_batched() {
                "True"
            } else {
                "False"
            }
        )
    }
}
