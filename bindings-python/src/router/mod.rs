//! `Router`: sends a keyed payload to whoever owns the key — the owner's bus endpoint
//! when it runs on this host, its node over TCP otherwise — wrapping the core
//! `Router` with `BusTransport` (local) and the node's `TcpTransport` (remote).
//!
//! Files: `mod.rs` (the class), `remote.rs` (TCP or nothing), `payload.rs` (bytes-like
//! payloads).

mod payload;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use shoal_core::native::bus::BusError;
use shoal_core::native::net::{NetError, RouteConfig, TcpTransport};
use shoal_core::native::router::BusTransport;
use shoal_core::router::{
    Destination as CoreDestination, RouteError, RoutePlacement, Router as CoreRouter,
};
use shoal_core::Placement;

use crate::bus::Bus;
use crate::errors::{bus_err, invalid, net_err, Kind};
use crate::keys::with_key;
use crate::node::Node;
use crate::partition::PartitionTable;
use crate::ring::Ring;
use payload::with_payload;
use shoal_core::native::router::{Remote, RemoteError};

/// Longest wait without checking for signals (Ctrl-C).
const SLICE: Duration = Duration::from_millis(100);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the router reads owners from.
enum Source {
    /// The node's live placement.
    Node(Py<Node>),
    /// A ring the application maintains.
    Ring(Py<Ring>),
    /// A partition table the application maintains.
    Table(Py<PartitionTable>),
}

/// Where a payload went (or would go): its owner, and whether that owner runs on
/// this host (delivered through the bus) or elsewhere (through TCP).
#[pyclass(module = "shoal._native", frozen, get_all, eq)]
#[derive(Clone, PartialEq)]
pub struct Destination {
    /// The member that owns the key.
    owner: String,
    /// True: the owner's bus endpoint on this host; False: the owner's node over TCP.
    is_local: bool,
}

impl From<CoreDestination> for Destination {
    fn from(d: CoreDestination) -> Destination {
        let (owner, is_local) = d.into_parts();
        Destination { owner, is_local }
    }
}

#[pymethods]
impl Destination {
    fn __repr__(&self) -> String {
        format!(
            "Destination(owner={:?}, is_local={})",
            self.owner,
            if self.is_local { "True" } else { "False" }
        )
    }
}

/// Routes keyed payloads to their owners: members on this host get them on their bus
/// endpoint `prefix + id`; others, with a node, over TCP to their node (which hands
/// them to its own endpoint, see `Node.serve_routes`), acknowledged and resent to the
/// new owner if an owner fails.
///
/// * `Router(bus, node)`: owners by the node's live placement; the node's member is
///   local, every other member remote.
/// * `Router(bus, placement=ring_or_table, local=[ids])`: owners by a `shoal.Ring` or
///   `shoal.PartitionTable` (read at each route, so later changes apply); the members
///   in `local` are on this host, and routes to any other member fail with `NetError`.
///
/// `max_pending`, `retry_after`, `send_timeout`, `connect_timeout` tune the TCP
/// transport (with a node): payloads unacknowledged at once, seconds before a resend,
/// seconds a route waits for room, seconds to connect.
#[pyclass(module = "shoal._native", frozen)]
pub struct Router {
    inner: Mutex<CoreRouter<BusTransport, Remote>>,
    source: Source,
    tcp: Option<Arc<TcpTransport>>,
    prefix: String,
}

fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    if (0.0..=1e9).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(invalid(format!(
            "{what} must be a number of seconds >= 0, not {value}"
        )))
    }
}

/// A route failure as the matching exception, with a note naming the key.
fn route_err(py: Python<'_>, e: RouteError<BusError, RemoteError>, key: &[u8]) -> PyErr {
    let (err, owner) = match e {
        RouteError::NoOwner => {
            return Kind::Empty.err("no owner: the placement has no members (weight > 0)")
        }
        RouteError::Local { owner, error } => (bus_err(error), owner),
        RouteError::Remote {
            owner,
            error: RemoteError::Net(error),
        } => (net_err(error), owner),
        RouteError::Remote {
            owner,
            error: RemoteError::NoNode,
        } => {
            let err = Kind::Net.err(format!(
                "{owner:?} owns the key but is not on this host, and this router has no \
                 node to reach other hosts (list it in local=, or route with a Node)"
            ));
            (err, owner)
        }
    };
    let note = format!(
        "while routing key {:?} to {owner:?}",
        String::from_utf8_lossy(key)
    );
    // A note is a nicety: if it cannot be added, the error itself still stands.
    let _ = err.value(py).call_method1("add_note", (note,));
    err
}

impl Router {
    /// The placement for one route.
    fn snapshot(&self, py: Python<'_>, key: &[u8]) -> PyResult<RoutePlacement> {
        Ok(match &self.source {
            Source::Node(n) => RoutePlacement::Follower(n.get().placement(py)?),
            // `try_borrow`: a ring being changed by another thread is an error, not a
            // panic.
            Source::Ring(r) => {
                let ring = r.bind(py).try_borrow()?;
                RoutePlacement::Owner(Placement::locate(ring.core(), key).map(Into::into))
            }
            Source::Table(t) => {
                let table = t.bind(py).try_borrow()?;
                RoutePlacement::Owner(Placement::locate(table.core(), key).map(Into::into))
            }
        })
    }
}

#[pymethods]
impl Router {
    /// A router over `bus` and, optionally, `node` (see the class docs). `prefix`: the
    /// endpoint of member `id` is `prefix + id`.
    #[new]
    #[pyo3(signature = (
        bus, node = None, *, placement = None, local = None, prefix = "",
        max_pending = 8192, retry_after = 1.0, send_timeout = 10.0, connect_timeout = 1.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        bus: PyRef<'_, Bus>,
        node: Option<Py<Node>>,
        placement: Option<&Bound<'_, PyAny>>,
        local: Option<Vec<String>>,
        prefix: &str,
        max_pending: usize,
        retry_after: f64,
        send_timeout: f64,
        connect_timeout: f64,
    ) -> PyResult<Router> {
        let (source, tcp) =
            match (node, placement) {
                (Some(_), Some(_)) => return Err(invalid(
                    "pass a node or a placement, not both (a node routes by its live placement)",
                )),
                (None, None) => {
                    return Err(invalid(
                        "Router needs a node or a placement (a shoal.Ring or shoal.PartitionTable)",
                    ))
                }
                (Some(n), None) => {
                    let cfg = RouteConfig {
                        max_pending,
                        retry_after: seconds(retry_after, "retry_after")?,
                        send_timeout: seconds(send_timeout, "send_timeout")?,
                        connect_timeout: seconds(connect_timeout, "connect_timeout")?,
                    };
                    let tcp = Arc::new(n.get().transport(py, cfg)?);
                    (Source::Node(n), Some(tcp))
                }
                (None, Some(p)) => {
                    let source = if let Ok(r) = p.cast::<Ring>() {
                        Source::Ring(r.clone().unbind())
                    } else if let Ok(t) = p.cast::<PartitionTable>() {
                        Source::Table(t.clone().unbind())
                    } else {
                        return Err(invalid(format!(
                            "placement must be a shoal.Ring or shoal.PartitionTable, not {}",
                            p.get_type().name()?
                        )));
                    };
                    (source, None)
                }
            };
        let mut inner = CoreRouter::new(
            BusTransport::with_prefix(bus.core_open()?.clone(), prefix),
            Remote(tcp.clone()),
        );
        if let Source::Node(n) = &source {
            inner.add_local(n.get().member_id());
        }
        for id in local.iter().flatten() {
            inner.add_local(id);
        }
        Ok(Router {
            inner: Mutex::new(inner),
            source,
            tcp,
            prefix: prefix.into(),
        })
    }

    /// Sends `payload` (bytes-like) to the owner of `key` (str or bytes) and returns
    /// where it went. A local owner has it on its endpoint when this returns; a remote
    /// one once acknowledged (see `flush`). Errors: `EmptyError` (no member placed),
    /// a `BusError` (local endpoint missing, gone or full), `NetError` (remote owner
    /// unreachable or no node), `TimeoutError` (too many unacknowledged payloads for
    /// `send_timeout`).
    fn route(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        payload: &Bound<'_, PyAny>,
    ) -> PyResult<Destination> {
        with_key(key, |k| {
            let placement = self.snapshot(py, k)?;
            with_payload(payload, |p| {
                py.detach(|| lock(&self.inner).route(&placement, k, p))
                    .map(Destination::from)
                    .map_err(|e| route_err(py, e, k))
            })
        })?
    }

    /// Where `key` would go, without sending anything (`None`: no member is placed).
    fn destination(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Option<Destination>> {
        with_key(key, |k| {
            let placement = self.snapshot(py, k)?;
            Ok(py
                .detach(|| lock(&self.inner).destination(&placement, k))
                .map(Destination::from))
        })?
    }

    /// Waits until every remote payload is acknowledged by its owner's node (GIL
    /// released, Ctrl-C honoured). `TimeoutError` after `timeout` seconds, saying how
    /// many are still pending. Returns at once without a node (local deliveries are
    /// complete when `route` returns).
    #[pyo3(signature = (timeout = 10.0))]
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let Some(tcp) = &self.tcp else {
            return Ok(());
        };
        let deadline = Instant::now() + seconds(timeout, "timeout")?;
        loop {
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(SLICE);
            match py.detach(|| tcp.flush(slice)) {
                Ok(()) => return Ok(()),
                Err(NetError::Timeout(_)) => {}
                Err(e) => return Err(net_err(e)),
            }
            py.check_signals()?;
            if Instant::now() >= deadline {
                return Err(Kind::Timeout.err(format!(
                    "flush: {} routed payloads still unacknowledged after {timeout} s",
                    tcp.stats().pending
                )));
            }
        }
    }

    /// Counts: `local`, `remote` (payloads routed each way), `failed`; with a node
    /// also the TCP transport's `sent`, `acked`, `resent`, `failovers`, `refused`,
    /// `pending`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (r, t) = py.detach(|| {
            (
                lock(&self.inner).stats(),
                self.tcp.as_ref().map(|t| t.stats()),
            )
        });
        let d = PyDict::new(py);
        d.set_item("local", r.local)?;
        d.set_item("remote", r.remote)?;
        d.set_item("failed", r.failed)?;
        if let Some(t) = t {
            d.set_item("sent", t.sent)?;
            d.set_item("acked", t.acked)?;
            d.set_item("resent", t.resent)?;
            d.set_item("failovers", t.failovers)?;
            d.set_item("refused", t.refused)?;
            d.set_item("pending", t.pending)?;
        }
        Ok(d)
    }

    /// Declares that member `id` runs on this host (its payloads go to its endpoint).
    fn add_local(&self, py: Python<'_>, id: &str) {
        py.detach(|| lock(&self.inner).add_local(id));
    }

    /// Declares that member `id` no longer runs on this host; False if it was not local.
    fn remove_local(&self, py: Python<'_>, id: &str) -> bool {
        py.detach(|| lock(&self.inner).remove_local(id))
    }

    /// Whether member `id` is on this host.
    fn is_local(&self, py: Python<'_>, id: &str) -> bool {
        py.detach(|| lock(&self.inner).is_local(id))
    }

    /// The bus endpoint of member `id`: `prefix + id`.
    fn endpoint_of(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    /// The node this router routes with, if any.
    #[getter]
    fn node(&self, py: Python<'_>) -> Option<Py<Node>> {
        match &self.source {
            Source::Node(n) => Some(n.clone_ref(py)),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        let by = match &self.source {
            Source::Node(n) => format!("node={:?}", n.get().member_id()),
            Source::Ring(_) => "placement=Ring".into(),
            Source::Table(_) => "placement=PartitionTable".into(),
        };
        format!("Router({by}, prefix={:?})", self.prefix)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Router>()?;
    m.add_class::<Destination>()?;
    Ok(())
}
