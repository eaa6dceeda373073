//! `Receiver`: the consumer of an endpoint or of a topic subscription.
//!
//! `recv` first tries once with the GIL held (a message already waiting costs no GIL
//! round trip), then waits with the GIL released in slices of at most 50 ms, checking
//! for Ctrl-C between them. Each slice is a core `recv_timeout`, which spins before it
//! parks, so the fast path of a message arriving while we wait is kept.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::{PyMemoryView, PyTuple};
use shoal_core::native::bus::{BusError, Receiver as CoreReceiver};

use super::config::deadline;
use super::guard::{Guarded, SLICE};
use super::message::message_view;
use crate::errors::{bus_err, Kind};

/// The core receiver (`Send`: it may move between threads, used by one at a time).
pub(crate) struct SendReceiver(pub CoreReceiver);

/// The consumer of an endpoint (`Bus.endpoint`) or a topic subscription
/// (`Bus.subscribe`): receives every sender's (or publisher's) messages as read-only
/// memoryviews over shared memory.
///
/// Iterating (`for m in receiver:`) receives forever, blocking for each message.
/// Usable from several threads (one call at a time); `close()` (or leaving a `with`
/// block) gives the endpoint's name back.
#[pyclass(module = "shoal._native", frozen)]
pub struct Receiver {
    inner: Guarded<SendReceiver>,
    name: String,
    subscription: bool,
}

impl Receiver {
    pub(crate) fn new(inner: SendReceiver, subscription: bool) -> Receiver {
        let name = inner.0.name().to_string();
        Receiver {
            inner: Guarded::new(inner, "receiver"),
            name,
            subscription,
        }
    }
}

#[pymethods]
impl Receiver {
    /// The endpoint's name (for a subscription, the topic's).
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Whether this receiver is a topic subscription (`Bus.subscribe`).
    #[getter]
    fn subscription(&self) -> bool {
        self.subscription
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits for the next message and returns a read-only memoryview over it in shared
    /// memory. `timeout`: seconds (`None`: wait forever); raises `shoal.TimeoutError`
    /// if nothing arrives in time. The GIL is released while waiting; Ctrl-C
    /// interrupts the wait.
    #[pyo3(signature = (timeout=None))]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyMemoryView>> {
        let until = deadline(timeout)?;
        if let Some(m) = self.inner.with(py, |r| r.0.try_recv())?.map_err(bus_err)? {
            return message_view(py, m);
        }
        loop {
            let slice = match until {
                None => SLICE,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Kind::Timeout.err(format!(
                            "no message on {:?} within {} s",
                            self.name,
                            timeout.unwrap_or(0.0)
                        )));
                    }
                    (d - now).min(SLICE)
                }
            };
            match self.inner.detached(py, |r| r.0.recv_timeout(slice))? {
                Ok(m) => return message_view(py, m),
                Err(BusError::Timeout) => {}
                Err(e) => return Err(bus_err(e)),
            }
            py.check_signals()?;
        }
    }

    /// The next message if one is waiting (a read-only memoryview), else `None`.
    /// Never blocks.
    fn try_recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyMemoryView>>> {
        match self.inner.with(py, |r| r.0.try_recv())?.map_err(bus_err)? {
            Some(m) => message_view(py, m).map(Some),
            None => Ok(None),
        }
    }

    /// Closes the receiver: the endpoint (or subscription) goes away, its senders get
    /// `EndpointGoneError`, and its name can be taken again. Messages already received
    /// stay valid. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.close(py)
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// `next(receiver)`: `recv()` with no timeout.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyMemoryView>> {
        self.recv(py, None)
    }

    /// Returns the receiver itself (raises `BusError` if it is closed).
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().inner.ensure_open()?;
        Ok(slf)
    }

    /// Closes the receiver.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let kind = if self.subscription {
            "topic"
        } else {
            "endpoint"
        };
        let state = self.inner.repr_state();
        format!("Receiver({kind}={:?}{state})", self.name)
    }
}
