//! `Loan`: the exporter behind the writable memoryview that `Sender.loan` returns.
//!
//! The object owns a core loan (a slot of shared memory) and hands out buffers over
//! it, counting them. Sending takes the core loan out, which is allowed only when the
//! one memoryview being sent is the last buffer over the slot: a numpy array (or any
//! other buffer) still made from it could otherwise write into memory that already
//! belongs to the receiver. The memoryview is released as part of the send, so any
//! later use of it raises `ValueError`. A loan object that is garbage-collected unsent
//! gives its slot back (dropping the core loan does).

use std::ffi::c_int;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyMemoryView;
use shoal_core::native::bus::Loan as CoreLoan;

use crate::errors::invalid;

/// A buffer borrowed from the bus's shared memory, to write one message into.
///
/// You normally see it only as the `.obj` of the writable memoryview returned by
/// `Sender.loan` / `Publisher.loan`. Write the message through that view (or through
/// `numpy.frombuffer(view, ...)`), then pass the view to `send` / `publish`: the
/// receiver gets these very bytes. Dropped unsent, it gives the buffer back.
#[pyclass(module = "shoal._native", name = "Loan", frozen)]
pub struct PyLoan {
    state: Mutex<LoanState>,
}

struct LoanState {
    /// `None` once sent.
    loan: Option<CoreLoan>,
    /// Buffers currently exported over the slot (memoryviews, numpy arrays, ...).
    exports: usize,
}

impl PyLoan {
    fn lock(&self) -> MutexGuard<'_, LoanState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A writable memoryview over a new loan object that owns `loan`.
pub(crate) fn loan_view(py: Python<'_>, loan: CoreLoan) -> PyResult<Bound<'_, PyMemoryView>> {
    let obj = Bound::new(
        py,
        PyLoan {
            state: Mutex::new(LoanState {
                loan: Some(loan),
                exports: 0,
            }),
        },
    )?;
    PyMemoryView::from(obj.as_any())
}

#[pymethods]
impl PyLoan {
    /// Buffer protocol: a writable, C-contiguous buffer of unsigned bytes over the slot.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let mut st = slf.get().lock();
        let Some(loan) = st.loan.as_mut() else {
            return Err(PyBufferError::new_err(
                "this loan was sent: its memory belongs to the receiver now",
            ));
        };
        let (ptr, len) = (loan.as_mut_ptr(), loan.len());
        // SAFETY: `view` comes from the interpreter; `ptr` and `len` describe the slot,
        // which stays valid and unsent while an export is counted (sending refuses
        // then), and `FillInfo` takes a reference to `slf`, so the slot outlives the
        // buffer.
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(view, slf.as_ptr(), ptr.cast(), len as isize, 0, flags)
        };
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        st.exports += 1;
        Ok(())
    }

    /// Buffer protocol: one export fewer.
    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {
        let mut st = self.lock();
        st.exports = st.exports.saturating_sub(1);
    }

    /// Where the bytes are in the bus's pool (the receiver's `Message.offset` is the
    /// same number: the message is not copied). Raises `ValueError` once sent.
    #[getter]
    fn offset(&self) -> PyResult<u64> {
        self.lock()
            .loan
            .as_ref()
            .map(CoreLoan::offset)
            .ok_or_else(|| invalid("this loan was already sent"))
    }

    /// Bytes the underlying slot can hold (at least the loaned length). Raises
    /// `ValueError` once sent.
    #[getter]
    fn capacity(&self) -> PyResult<usize> {
        self.lock()
            .loan
            .as_ref()
            .map(CoreLoan::capacity)
            .ok_or_else(|| invalid("this loan was already sent"))
    }

    /// Whether the loan has been sent (its memory then belongs to the receiver).
    #[getter]
    fn sent(&self) -> bool {
        self.lock().loan.is_none()
    }

    /// The loaned length in bytes (0 once sent).
    fn __len__(&self) -> usize {
        self.lock().loan.as_ref().map_or(0, |l| l.len())
    }

    fn __repr__(&self) -> String {
        let st = self.lock();
        match st.loan.as_ref() {
            Some(l) => format!(
                "Loan(offset={}, len={}, exports={})",
                l.offset(),
                l.len(),
                st.exports
            ),
            None => "Loan(sent)".to_string(),
        }
    }
}

/// A loan taken out of its Python object to be sent.
pub(crate) struct Taken {
    pub loan: CoreLoan,
    /// How to put it back if the send fails.
    pub back: Restore,
}

/// Where a taken loan came from.
pub(crate) struct Restore {
    /// The loan object.
    owner: Py<PyLoan>,
    /// The loan's length before `length` shortened it.
    full_len: usize,
}

const NOT_A_LOAN: &str = "send()/publish() take the memoryview returned by loan() (or its \
     .obj); use send_copy()/publish_copy() to send other bytes";

/// Takes the core loan out of `obj` (a loan's memoryview or the loan object itself) for
/// sending `length` bytes (default: all), and releases the memoryview.
///
/// Refuses while other buffers over the loan are alive. Most refusals change nothing;
/// one cannot be seen before the memoryview is released (another memoryview sharing
/// its export, such as the one numpy keeps for `frombuffer(view)`). Either way the
/// exception's `.loan` is a usable writable view of the unsent loan.
pub(crate) fn take(obj: &Bound<'_, PyAny>, length: Option<usize>) -> PyResult<Taken> {
    let py = obj.py();
    let (owner, view) = if let Ok(mv) = obj.cast::<PyMemoryView>() {
        let base = mv.getattr(intern!(py, "obj")).map_err(|_| {
            invalid(
                "this memoryview was released: its loan was already sent (or you released \
                 it); take a new loan",
            )
        })?;
        let owner = base
            .cast_into::<PyLoan>()
            .map_err(|_| invalid(NOT_A_LOAN))?;
        (owner, Some(mv))
    } else if let Ok(owner) = obj.cast::<PyLoan>() {
        (owner.clone(), None)
    } else {
        return Err(invalid(NOT_A_LOAN));
    };
    // A refusal before the view is released hands back what the caller passed.
    let refuse = |err: PyErr| -> PyErr {
        let _ = err.value(py).setattr(intern!(py, "loan"), obj);
        err
    };
    let me = owner.get();
    let (start, full_len) = {
        let mut st = me.lock();
        let expected = usize::from(view.is_some());
        let Some(loan) = st.loan.as_mut() else {
            return Err(invalid("this loan was already sent"));
        };
        let at = (loan.as_mut_ptr() as usize, loan.len());
        if st.exports > expected {
            let others = st.exports - expected;
            drop(st);
            return Err(refuse(still_exported(others)));
        }
        at
    };
    // The memoryview must be the loan's own (a slice would share the export of the
    // view it was cut from, which stays writable).
    if let Some(mv) = view {
        if simple_extent(mv).map_err(refuse)? != (start, full_len) {
            return Err(refuse(invalid(
                "send()/publish() take the loan's whole memoryview; to send fewer bytes, \
                 pass length=n instead of a slice",
            )));
        }
    }
    let len = match length {
        Some(n) if n > full_len => {
            return Err(refuse(invalid(format!(
                "length {n} is more than the {full_len} bytes of the loan"
            ))))
        }
        Some(n) => n,
        None => full_len,
    };
    if let Some(mv) = view {
        if let Err(e) = mv.call_method0(intern!(py, "release")) {
            let err = invalid(
                "a buffer made from this memoryview (a numpy array, a slice, ...) is still \
                 alive and could still write into the message; delete it before sending",
            );
            err.set_cause(py, Some(e));
            return Err(refuse(err));
        }
    }
    let mut st = me.lock();
    if st.exports > 0 {
        // Another memoryview shares the export of the one just released (numpy's
        // `frombuffer(view)` makes one), or a copy such as `view[:]` was passed.
        let n = st.exports;
        drop(st);
        let err = still_exported(n);
        if let Ok(fresh) = PyMemoryView::from(owner.as_any()) {
            let _ = err.value(py).setattr(intern!(py, "loan"), fresh);
        }
        return Err(err);
    }
    let Some(mut loan) = st.loan.take() else {
        return Err(invalid("this loan was already sent"));
    };
    drop(st);
    if len != full_len {
        // `len` is at most the loan's length, so within its capacity.
        loan.set_len(len).map_err(crate::errors::bus_err)?;
    }
    Ok(Taken {
        loan,
        back: Restore {
            owner: owner.unbind(),
            full_len,
        },
    })
}

fn still_exported(n: usize) -> PyErr {
    invalid(format!(
        "the loan is still exported by {n} other buffer(s) (a numpy array or another \
         memoryview made from it) that could write into the message after it is sent; \
         delete them, then send the exception's .loan"
    ))
}

/// Start address and length of a C-contiguous buffer.
fn simple_extent(obj: &Bound<'_, PyAny>) -> PyResult<(usize, usize)> {
    let mut view = ffi::Py_buffer::new();
    // SAFETY: `view` is a valid, writable Py_buffer; it is released right after reading.
    let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut view, ffi::PyBUF_SIMPLE) };
    if rc == -1 {
        let cause = PyErr::fetch(obj.py());
        let err = invalid("the view to send must be contiguous");
        err.set_cause(obj.py(), Some(cause));
        return Err(err);
    }
    let out = (view.buf as usize, view.len.max(0) as usize);
    // SAFETY: `view` was filled by a successful PyObject_GetBuffer.
    unsafe { ffi::PyBuffer_Release(&mut view) };
    Ok(out)
}

impl Restore {
    /// Puts a loan whose send failed back into its object, at its full length, and
    /// attaches a new writable memoryview of it to `err` as `err.loan`, so the caller
    /// can retry (`sender.send(err.loan)`) or drop it.
    pub(crate) fn give_back(self, py: Python<'_>, mut loan: CoreLoan, err: PyErr) -> PyErr {
        // The length only ever shrank, so the full length fits.
        let _ = loan.set_len(self.full_len);
        self.owner.get().lock().loan = Some(loan);
        if let Ok(view) = PyMemoryView::from(self.owner.bind(py).as_any()) {
            let _ = err.value(py).setattr(intern!(py, "loan"), view);
        }
        err
    }
}
