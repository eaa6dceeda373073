//! `Publisher`: one write, every subscriber of a topic reads it (fan-out by reference
//! count, no copy per subscriber).

use pyo3::prelude::*;
use pyo3::types::{PyMemoryView, PyTuple};
use shoal_core::native::bus::Publisher as CorePublisher;

use super::bytes::BytesLike;
use super::config::size;
use super::guard::Guarded;
use super::loan::{loan_view, take, Taken};
use crate::errors::{bus_err, invalid};

/// Publishes to a topic (`Bus.publisher`): each message is written once and every
/// current subscriber receives the same bytes.
///
/// Zero copy: `view = publisher.loan(n)`, write into `view`, `publisher.publish(view)`.
/// Each subscriber's backpressure policy applies to it; one with policy `"error"` and
/// a full lane misses the message. Usable from several threads (one call at a time).
#[pyclass(module = "shoal._native", frozen)]
pub struct Publisher {
    inner: Guarded<CorePublisher>,
    topic: String,
}

impl Publisher {
    pub(crate) fn new(inner: CorePublisher) -> Publisher {
        let topic = inner.topic().to_string();
        Publisher {
            inner: Guarded::new(inner, "publisher"),
            topic,
        }
    }
}

#[pymethods]
impl Publisher {
    /// The topic's name.
    #[getter]
    fn topic(&self) -> &str {
        &self.topic
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Current subscribers of the topic.
    fn subscriber_count(&self, py: Python<'_>) -> PyResult<usize> {
        self.inner
            .with(py, |p| p.subscriber_count())?
            .map_err(bus_err)
    }

    /// Borrows `n` bytes of shared memory as a writable memoryview; raises `BusError`
    /// at once if the pool has no room.
    fn loan<'py>(&self, py: Python<'py>, n: i64) -> PyResult<Bound<'py, PyMemoryView>> {
        let n = size("n", n)?;
        let loan = self.inner.with(py, |p| p.loan(n))?.map_err(bus_err)?;
        loan_view(py, loan)
    }

    /// Publishes a loaned memoryview (or its `.obj`) to every current subscriber
    /// without copying; returns how many it reached (0: none, the buffer goes back).
    /// `length`: publish only the first `length` bytes. The view is released, as by
    /// `Sender.send`, and refused while another buffer over the loan is alive.
    #[pyo3(signature = (view, length=None))]
    fn publish(
        &self,
        py: Python<'_>,
        view: &Bound<'_, PyAny>,
        length: Option<i64>,
    ) -> PyResult<usize> {
        let length = length.map(|n| size("length", n)).transpose()?;
        self.inner.ensure_open()?;
        let Taken { loan, back } = take(view, length)?;
        let mut pending = Some(loan);
        let sent = self
            .inner
            .detached(py, |p| pending.take().map(|loan| p.publish(loan)));
        match sent {
            Ok(Some(Ok(n))) => Ok(n),
            Ok(Some(Err(e))) => Err(back.give_back(py, e.loan, bus_err(e.error))),
            Err(e) => match pending.take() {
                Some(loan) => Err(back.give_back(py, loan, e)),
                None => Err(e),
            },
            Ok(None) => Err(invalid("this loan was already sent")),
        }
    }

    /// Publishes a copy of `data` (any bytes-like object); returns how many
    /// subscribers it reached.
    fn publish_copy(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        let data = BytesLike::get(data)?;
        let n = data.len();
        let mut loan = self.inner.with(py, |p| p.loan(n))?.map_err(bus_err)?;
        loan.copy_from_slice(data.as_slice());
        drop(data);
        self.inner
            .detached(py, |p| p.publish(loan).map_err(|e| e.error))?
            .map_err(bus_err)
    }

    /// Closes the publisher and its lanes. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.close(py)
    }

    /// Returns the publisher itself (raises `BusError` if it is closed).
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().inner.ensure_open()?;
        Ok(slf)
    }

    /// Closes the publisher.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = self.inner.repr_state();
        format!("Publisher(topic={:?}{state})", self.topic)
    }
}
