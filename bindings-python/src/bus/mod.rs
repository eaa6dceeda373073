//! `Bus`: the zero-copy shared-memory bus between processes on one host.
//!
//! One file per job: `config.rs` (arguments → core settings), `guard.rs` (core objects
//! shared by Python threads without deadlocking on the GIL), `bytes.rs` (reading any
//! bytes-like object), `loan.rs` (writable memoryviews over loans, and taking them back
//! for sending), `message.rs` (read-only memoryviews over received messages),
//! `sender.rs`, `endpoint.rs` (receivers), `publisher.rs`, `stats.rs`.
//!
//! Zero copy end to end: a loan's memoryview points into the shared segment, sending
//! moves a 16-byte descriptor, and the receiver's memoryview points at the same bytes.

mod bytes;
mod config;
mod endpoint;
mod guard;
mod loan;
mod message;
mod publisher;
mod sender;
mod stats;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::{PyMemoryView, PyTuple};
use shoal_core::native::bus::{Bus as CoreBus, BusError};

use crate::errors::{bus_err, Kind};
pub use endpoint::Receiver;
use endpoint::SendReceiver;
pub use loan::PyLoan;
pub use message::PyMessage;
pub use publisher::Publisher;
pub use sender::Sender;
pub use stats::{BusStats, ReclaimReport};

/// A handle on a named shared-memory bus (`Bus.create` / `Bus.open`).
///
/// The process stays attached while this object or anything made from it (receivers,
/// senders, publishers, loans, messages) is alive; the last process to leave removes
/// the segment. `close()` (or leaving a `with` block) makes this handle refuse further
/// use; objects already made from it keep working until they are closed or dropped.
#[pyclass(module = "shoal._native", frozen)]
pub struct Bus {
    inner: CoreBus,
    closed: AtomicBool,
}

impl Bus {
    fn wrap(inner: CoreBus) -> Bus {
        Bus {
            inner,
            closed: AtomicBool::new(false),
        }
    }

    /// The core handle (cheap to clone), for the router's bus transport. Still valid
    /// after `close()`; use [`Bus::core_open`] to honour it.
    pub fn core(&self) -> &CoreBus {
        &self.inner
    }

    /// Whether `close()` was called on the Python object.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The core handle, or the "bus is closed" error.
    pub fn core_open(&self) -> PyResult<&CoreBus> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Kind::Bus.err(format!("the bus {:?} is closed", self.inner.name())));
        }
        Ok(&self.inner)
    }
}

#[pymethods]
impl Bus {
    /// Creates the bus `name` (1-200 characters of `[A-Za-z0-9._-]`, not starting with
    /// `.`; `/dev/shm/shoal-<name>`). Sizes are fixed now: `lane_capacity` (messages a
    /// lane holds before backpressure, a power of two, default 1024), `max_processes`
    /// (64), `max_endpoints` (256), `max_lanes` (1024), `held_per_process` (buffers one
    /// process may hold at once, 4096), `pool` (`"standard"`: 15 classes 64 B-1 MiB,
    /// about 64 MiB of address space; `"small"`: a few slots per class, for tests).
    /// Raises `BusExistsError` if a bus of that name has live users.
    #[staticmethod]
    #[pyo3(signature = (
        name,
        *,
        lane_capacity=None,
        max_processes=None,
        max_endpoints=None,
        max_lanes=None,
        held_per_process=None,
        pool="standard",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        name: &str,
        lane_capacity: Option<i64>,
        max_processes: Option<i64>,
        max_endpoints: Option<i64>,
        max_lanes: Option<i64>,
        held_per_process: Option<i64>,
        pool: &str,
    ) -> PyResult<Bus> {
        let cfg = config::bus_config(&config::SizeArgs {
            lane_capacity,
            max_processes,
            max_endpoints,
            max_lanes,
            held_per_process,
            pool,
        })?;
        let inner = py.detach(|| CoreBus::create(name, &cfg)).map_err(bus_err)?;
        Ok(Bus::wrap(inner))
    }

    /// Opens the existing bus `name` (`BusNotFoundError` if there is none) and repairs
    /// what dead processes left behind.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<Bus> {
        let inner = py.detach(|| CoreBus::open(name)).map_err(bus_err)?;
        Ok(Bus::wrap(inner))
    }

    /// The bus's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.is_closed()
    }

    /// Becomes the consumer of endpoint `name` (1-64 characters of
    /// `[A-Za-z0-9._/:-]`; `BusExistsError` if it has a live consumer). `backpressure`:
    /// what senders do when this endpoint's lane is full: `"block"` (wait),
    /// `"error"` (raise `BusFullError`) or `"drop_oldest"`. `wait`: how `recv` waits:
    /// `"spin_then_park"` (poll `spins` times, default 2000, then sleep on a futex),
    /// `"spin"` (busy-poll: lowest latency, one core busy) or `"park"`.
    #[pyo3(signature = (name, *, backpressure="block", wait="spin_then_park", spins=None))]
    fn endpoint(
        &self,
        py: Python<'_>,
        name: &str,
        backpressure: &str,
        wait: &str,
        spins: Option<i64>,
    ) -> PyResult<Receiver> {
        let cfg = config::endpoint_config(backpressure, wait, spins)?;
        let bus = self.core_open()?;
        let rx = py
            .detach(|| bus.endpoint(name, cfg).map(SendReceiver))
            .map_err(bus_err)?;
        Ok(Receiver::new(rx, false))
    }

    /// A sender to endpoint `endpoint`, with a lane of its own. `timeout`: seconds to
    /// wait for the endpoint to be created by its consumer (default 0: raise
    /// `BusNotFoundError` at once; `None`: wait forever, Ctrl-C interrupts).
    #[pyo3(signature = (endpoint, *, timeout=Some(0.0)))]
    #[pyo3(text_signature = "($self, endpoint, *, timeout=0.0)")]
    fn sender(&self, py: Python<'_>, endpoint: &str, timeout: Option<f64>) -> PyResult<Sender> {
        let until = config::deadline(timeout)?;
        let bus = self.core_open()?;
        loop {
            let tried = py.detach(|| {
                let start = Instant::now();
                loop {
                    match bus.sender(endpoint) {
                        Err(BusError::NoSuchEndpoint(_))
                            if until.is_none_or(|d| Instant::now() < d)
                                && start.elapsed() < guard::SLICE =>
                        {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        other => return other,
                    }
                }
            });
            match tried {
                Ok(tx) => return Ok(Sender::new(tx)),
                Err(BusError::NoSuchEndpoint(_)) if until.is_none_or(|d| Instant::now() < d) => {
                    py.check_signals()?;
                }
                Err(e) => return Err(bus_err(e)),
            }
        }
    }

    /// Subscribes to topic `topic` (created if needed): the receiver gets every message
    /// published from now on. `backpressure`, `wait`, `spins`: as for `endpoint`,
    /// applied to this subscriber.
    #[pyo3(signature = (topic, *, backpressure="block", wait="spin_then_park", spins=None))]
    fn subscribe(
        &self,
        py: Python<'_>,
        topic: &str,
        backpressure: &str,
        wait: &str,
        spins: Option<i64>,
    ) -> PyResult<Receiver> {
        let cfg = config::endpoint_config(backpressure, wait, spins)?;
        let bus = self.core_open()?;
        let rx = py
            .detach(|| bus.subscribe(topic, cfg).map(SendReceiver))
            .map_err(bus_err)?;
        Ok(Receiver::new(rx, true))
    }

    /// A publisher to topic `topic` (created if needed).
    fn publisher(&self, py: Python<'_>, topic: &str) -> PyResult<Publisher> {
        let bus = self.core_open()?;
        let p = py.detach(|| bus.publisher(topic)).map_err(bus_err)?;
        Ok(Publisher::new(p))
    }

    /// Borrows `n` bytes of shared memory as a writable memoryview, not tied to a
    /// destination yet: any sender or publisher of this process's handle on the bus can
    /// send it. Raises `BusError` at once if the pool has no room.
    fn loan<'py>(&self, py: Python<'py>, n: i64) -> PyResult<Bound<'py, PyMemoryView>> {
        let n = config::size("n", n)?;
        let bus = self.core_open()?;
        let loan = bus.loan(n).map_err(bus_err)?;
        loan::loan_view(py, loan)
    }

    /// Occupancy and counters of the bus (pool slots, processes, endpoints, lanes,
    /// crash repairs).
    fn stats(&self, py: Python<'_>) -> PyResult<BusStats> {
        let bus = self.core_open()?;
        Ok(py.detach(|| bus.stats()).into())
    }

    /// Runs crash repair now if an attached process has died: what it held (loans,
    /// received messages, its endpoints) is given back. Repair also runs on `open` and
    /// every 100 ms from waiting receivers.
    fn reclaim(&self, py: Python<'_>) -> PyResult<ReclaimReport> {
        let bus = self.core_open()?;
        let report = py.detach(|| bus.reclaim()).map_err(bus_err)?;
        Ok(report.into())
    }

    /// Makes this handle refuse further use. The process detaches from the bus when
    /// this object and everything made from it are gone. Idempotent.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Returns the bus itself (raises `BusError` if it is closed).
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().core_open()?;
        Ok(slf)
    }

    /// Closes the handle.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.is_closed() { ", closed" } else { "" };
        format!("Bus(name={:?}{state})", self.inner.name())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Bus>()?;
    m.add_class::<BusStats>()?;
    m.add_class::<ReclaimReport>()?;
    m.add_class::<Receiver>()?;
    m.add_class::<Sender>()?;
    m.add_class::<Publisher>()?;
    m.add_class::<PyLoan>()?;
    m.add_class::<PyMessage>()?;
    Ok(())
}
