//! `Sender`: the producer end of one lane to a named endpoint.
//!
//! `loan` hands out a writable memoryview over a pool slot; `send` moves it to the
//! receiver without copying. Calls that may block (a full lane under the `"block"`
//! policy, an exhausted pool) run with the GIL released.

use pyo3::prelude::*;
use pyo3::types::{PyMemoryView, PyTuple};
use shoal_core::native::bus::{BusError, Loan as CoreLoan, Sender as CoreSender};
use shoal_core::pool::PoolError;

use super::bytes::BytesLike;
use super::config::size;
use super::guard::Guarded;
use super::loan::{loan_view, take, Taken};
use crate::errors::bus_err;

/// Sends messages to one named endpoint (`Bus.sender`), through a lane of its own.
///
/// Zero copy: `view = sender.loan(n)`, write into `view`, `sender.send(view)`.
/// Usable from several threads (one call at a time); `close()` (or leaving a `with`
/// block) closes the lane.
#[pyclass(module = "shoal._native", frozen)]
pub struct Sender {
    inner: Guarded<CoreSender>,
    endpoint: String,
}

impl Sender {
    pub(crate) fn new(inner: CoreSender) -> Sender {
        let endpoint = inner.endpoint().to_string();
        Sender {
            inner: Guarded::new(inner, "sender"),
            endpoint,
        }
    }

    /// A core loan of `n` bytes: at once if the pool has room, else waiting as the
    /// endpoint's policy says (GIL released).
    fn core_loan(&self, py: Python<'_>, n: usize) -> PyResult<CoreLoan> {
        match self.inner.with(py, |s| s.try_loan(n))? {
            Ok(loan) => Ok(loan),
            Err(BusError::Pool(PoolError::Exhausted { .. })) => {
                self.inner.detached(py, |s| s.loan(n))?.map_err(bus_err)
            }
            Err(e) => Err(bus_err(e)),
        }
    }
}

#[pymethods]
impl Sender {
    /// The endpoint this sender delivers to.
    #[getter]
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Borrows `n` bytes of shared memory and returns a writable memoryview of exactly
    /// `n` bytes over them: write the message there, then `send(view)`. If the pool is
    /// full and the endpoint's policy is `"block"`, waits (GIL released) until buffers
    /// come back; otherwise raises `BusError`.
    fn loan<'py>(&self, py: Python<'py>, n: i64) -> PyResult<Bound<'py, PyMemoryView>> {
        let loan = self.core_loan(py, size("n", n)?)?;
        loan_view(py, loan)
    }

    /// Sends a loaned memoryview (or its `.obj`) without copying: the receiver reads
    /// these very bytes. `length`: send only the first `length` bytes. The view is
    /// released (later use raises `ValueError`); refused with `InvalidArgumentError`
    /// while another buffer over the loan (e.g. a numpy array) is alive. If the lane is
    /// full, the endpoint's policy applies (`"block"` waits with the GIL released). On
    /// failure the exception's `.loan` is a new memoryview of the unsent loan.
    #[pyo3(signature = (view, length=None))]
    fn send(&self, py: Python<'_>, view: &Bound<'_, PyAny>, length: Option<i64>) -> PyResult<()> {
        let length = length.map(|n| size("length", n)).transpose()?;
        self.inner.ensure_open()?;
        let Taken { loan, back } = take(view, length)?;
        let mut pending = Some(loan);
        let sent = self
            .inner
            .detached(py, |s| pending.take().map(|loan| s.send(loan)));
        match sent {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(e))) => Err(back.give_back(py, e.loan, bus_err(e.error))),
            // Closed before the send could start: the loan is still here.
            Err(e) => match pending.take() {
                Some(loan) => Err(back.give_back(py, loan, e)),
                None => Err(e),
            },
            Ok(None) => Err(crate::errors::invalid("this loan was already sent")),
        }
    }

    /// Sends a copy of `data` (any bytes-like object: bytes, bytearray, memoryview,
    /// numpy array, ...).
    fn send_copy(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = BytesLike::get(data)?;
        let mut loan = self.core_loan(py, data.len())?;
        loan.copy_from_slice(data.as_slice());
        drop(data);
        self.inner
            .detached(py, |s| s.send(loan).map_err(|e| e.error))?
            .map_err(bus_err)
    }

    /// Queues a copy of a small message in this sender's current batch (a 64 KiB
    /// buffer sent as one descriptor when full, after the batch delay (200 µs), on
    /// `flush()`, or before the next unbatched send). The receiver gets each message
    /// separately.
    fn send_batched(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = BytesLike::get(data)?;
        // If another thread holds the sender, the copy runs with the GIL released; the
        // export keeps the bytes in place meanwhile (as hashlib does for large inputs).
        let bytes = data.as_slice();
        let r = self.inner.with(py, |s| s.send_batched(bytes));
        drop(data);
        r?.map_err(bus_err)
    }

    /// Sends the pending batch, if any, now.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.detached(py, |s| s.flush())?.map_err(bus_err)
    }

    /// Closes the sender (flushing a pending batch) and its lane. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.close(py)
    }

    /// Returns the sender itself (raises `BusError` if it is closed).
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().inner.ensure_open()?;
        Ok(slf)
    }

    /// Closes the sender.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = self.inner.repr_state();
        format!("Sender(endpoint={:?}{state})", self.endpoint)
    }
}
