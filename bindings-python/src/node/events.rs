//! `Events`: a subscription to a node's membership events — a blocking iterator that
//! releases the GIL and stays responsive to Ctrl-C, and an async iterator (the
//! executor-backed stream of `shoal._aio`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use shoal_core::native::net::Events as CoreEvents;

use super::member::Event;
use crate::errors::invalid;

/// Longest wait without checking for signals (Ctrl-C).
const SLICE: Duration = Duration::from_millis(100);

/// Membership events of one node, from the moment of `Node.events()` on.
///
/// Iterate it (`for ev in node.events():`) to block for each event with the GIL
/// released; the iteration ends once the node stops (after the events it queued before
/// stopping). `next_event(timeout)` waits at most `timeout` seconds. `async for ev in
/// events:` does the same from asyncio: each wait is a short blocking call
/// (≤ 100 ms) on the loop's default executor, so the event loop never blocks and its
/// shutdown never hangs.
#[pyclass(module = "shoal._native", frozen)]
pub struct Events {
    rx: Mutex<CoreEvents>,
    /// Set by the node once it has fully stopped (its driver thread joined, so every
    /// event it will ever send is queued).
    stopped: Arc<AtomicBool>,
    /// The node stopped and every queued event was read.
    ended: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Events {
    pub fn new(rx: CoreEvents, stopped: Arc<AtomicBool>) -> Events {
        Events {
            rx: Mutex::new(rx),
            stopped,
            ended: AtomicBool::new(false),
        }
    }

    /// Waits until `deadline` (`None`: forever) for an event, in slices of at most
    /// 100 ms between which Python signal handlers run. `None`: the deadline passed
    /// or the subscription ended.
    fn wait(&self, py: Python<'_>, deadline: Option<Instant>) -> PyResult<Option<Event>> {
        loop {
            if self.ended.load(Ordering::Acquire) {
                return Ok(None);
            }
            let slice = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
                None => SLICE,
            };
            let stopped = &self.stopped;
            let got = py.detach(|| {
                let rx = lock(&self.rx);
                // Read the flag first: once it is set, every event is already queued.
                let was_stopped = stopped.load(Ordering::Acquire);
                if was_stopped {
                    return (rx.try_recv(), true);
                }
                let started = Instant::now();
                let e = rx.recv_timeout(slice);
                if e.is_none() && started.elapsed() < slice / 2 {
                    // The driver dropped our channel and the node is finishing its
                    // stop: do not spin until it sets the flag.
                    std::thread::sleep(Duration::from_millis(5));
                }
                (e, false)
            });
            match got {
                (Some(e), _) => return Ok(Some(Event::from(&e))),
                (None, true) => {
                    self.ended.store(true, Ordering::Release);
                    return Ok(None);
                }
                (None, false) => {}
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }
}

#[pymethods]
impl Events {
    /// The next event, waiting at most `timeout` seconds (`None`: until one comes).
    /// Returns `None` when the time is up or the node has stopped (see `closed`).
    #[pyo3(signature = (timeout=None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let deadline = match timeout {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 => {
                Some(Instant::now() + Duration::from_secs_f64(t.min(1e9)))
            }
            Some(t) => {
                return Err(invalid(format!(
                    "timeout must be a number of seconds >= 0 or None, not {t}"
                )))
            }
        };
        self.wait(py, deadline)
    }

    /// The next event that is already waiting, or `None`.
    fn try_next(&self, py: Python<'_>) -> PyResult<Option<Event>> {
        self.next_event(py, Some(0.0))
    }

    /// True once the node has stopped and every event it queued was read.
    #[getter]
    fn closed(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Blocks (GIL released, Ctrl-C honoured) for the next event; stops when the node
    /// stops.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Event>> {
        self.wait(py, None)
    }

    /// An asyncio stream over these events (`shoal._aio.EventStream`).
    fn __aiter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        aio_stream(py, slf)
    }

    fn __repr__(&self) -> String {
        format!("Events(closed={})", self.closed())
    }
}

/// `shoal._aio.EventStream(events)`.
pub fn aio_stream(py: Python<'_>, events: Py<Events>) -> PyResult<Py<PyAny>> {
    let stream = py
        .import("shoal._aio")?
        .getattr("EventStream")?
        .call1((events,))?;
    Ok(stream.unbind())
}
