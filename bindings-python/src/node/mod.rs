//! `Node`: a member of a cluster on a real network (gossip membership over UDP,
//! routed payloads over TCP), wrapping the core's `native::net::Node`.
//!
//! Files: `mod.rs` (the handle), `config.rs` (the `start` keywords → `NodeConfig`),
//! `member.rs` (`Member`, `Event`), `events.rs` (the event iterators).
//!
//! The core node lives in a mutex that every call takes without the GIL; `close`
//! takes it out (leaving the cluster) and later calls raise `NetError`.

mod config;
mod events;
mod member;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use shoal_core::membership::{Meta, PlacementFollower};
use shoal_core::native::net::{Node as CoreNode, NodeConfig, RouteConfig, TcpTransport};
use shoal_core::native::router::BusTransport;

pub use events::Events;
pub use member::{Event, Member};

use crate::bus::Bus;
use crate::errors::{net_err, Kind};
use crate::keys::with_key;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A member of a shoal cluster: gossip membership (who is alive) over UDP, placement
/// that follows the live members (who owns what), routed payloads over TCP.
///
/// Start one with `Node.start(...)`; stop it with `close()` (or `leave()`, or a `with`
/// block), which leaves the cluster gracefully. Stopping twice is harmless; any other
/// method of a stopped node raises `NetError`.
#[pyclass(module = "shoal._native", frozen)]
pub struct Node {
    inner: Mutex<Option<CoreNode>>,
    id: String,
    /// The address other members reach this one at.
    address: SocketAddr,
    /// The address the sockets are bound to.
    local: SocketAddr,
    /// The metadata last announced (so partial updates keep the rest).
    meta: Mutex<Meta>,
    /// Set once the core node has fully stopped (shared with event subscriptions).
    stopped: Arc<AtomicBool>,
}

impl Node {
    /// Runs `f` on the core node without the GIL; `NetError` if the node is closed.
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        what: &str,
        f: impl FnOnce(&CoreNode) -> R + Send,
    ) -> PyResult<R> {
        py.detach(|| lock(&self.inner).as_ref().map(f))
            .ok_or_else(|| self.closed_err(what))
    }

    fn closed_err(&self, what: &str) -> PyErr {
        Kind::Net.err(format!(
            "{what}: node {:?} is closed (it left the cluster)",
            self.id
        ))
    }

    /// The live placement (a snapshot that never blocks), for the router.
    pub fn placement(&self, py: Python<'_>) -> PyResult<Arc<PlacementFollower>> {
        self.with(py, "routing", CoreNode::placement)
    }

    /// A TCP transport to the owners' nodes, for the router.
    pub fn transport(&self, py: Python<'_>, cfg: RouteConfig) -> PyResult<TcpTransport> {
        self.with(py, "Router", |n| n.transport(cfg))?
            .map_err(net_err)
    }

    /// This member's id.
    pub fn member_id(&self) -> &str {
        &self.id
    }
}

#[pymethods]
impl Node {
    /// Starts a member: binds UDP and TCP on `bind` (`"ip:port"`; port 0 picks a free
    /// one), contacts `seeds` (addresses of any live members; none: a new cluster) and
    /// runs the protocol on a thread of its own.
    ///
    /// * `id`: unique, stable across restarts (default: the address, `"ip:port"`);
    /// * `advertise`: the address others reach this one at, when it differs from
    ///   `bind` (required when binding `0.0.0.0`);
    /// * `role`, `weight` (0: holds no keys), `zone`: the metadata placement reads;
    /// * `label`: the cluster label (other labels are ignored);
    /// * `keys`: authenticate gossip with these keys (each 32 bytes or 64 hex digits;
    ///   the first seals, all are accepted); `encrypt`: also encrypt (needs keys);
    /// * `placement`: `"ring"` (`hash` `"xxh3"`/`"ketama"`, `vnodes` points per unit
    ///   of weight, default 160 — the same layout as `shoal.Ring(vnodes)`) or
    ///   `"table"` (`partitions`, `vnodes` claims per unit of weight, default 10,
    ///   `mode` `"classic"`/`"balanced"` — as `shoal.PartitionTable`);
    /// * `protocol`: timings, `"lan"` (default) or `"fast"` (for one machine: tests,
    ///   demos).
    ///
    /// `InvalidArgumentError` (a `ValueError`) for bad settings or addresses,
    /// `NetError` (an `OSError`) if the address cannot be bound.
    #[staticmethod]
    #[pyo3(signature = (
        bind = "127.0.0.1:0", *, seeds = None, id = None, advertise = None, role = "",
        weight = 1, zone = None, label = "shoal", keys = None,
        encrypt = false, placement = "ring", vnodes = None, hash = "xxh3",
        partitions = 4096, mode = "classic", protocol = "lan"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        py: Python<'_>,
        bind: &str,
        seeds: Option<&Bound<'_, PyAny>>,
        id: Option<String>,
        advertise: Option<&Bound<'_, PyAny>>,
        role: &str,
        weight: i64,
        zone: Option<String>,
        label: &str,
        keys: Option<&Bound<'_, PyAny>>,
        encrypt: bool,
        placement: &str,
        vnodes: Option<u32>,
        hash: &str,
        partitions: u32,
        mode: &str,
        protocol: &str,
    ) -> PyResult<Node> {
        let mut cfg = NodeConfig::new(config::parse_address(py, bind, "bind")?);
        if let Some(seeds) = seeds {
            if seeds.cast::<pyo3::types::PyString>().is_ok() {
                return Err(crate::errors::invalid(
                    "seeds must be a list of addresses, not one string",
                ));
            }
            for (i, s) in seeds.try_iter()?.enumerate() {
                cfg.seeds
                    .push(config::address(py, &s?, &format!("seeds[{i}]"))?);
            }
        }
        cfg.id = id;
        cfg.advertise = advertise
            .map(|a| config::address(py, a, "advertise"))
            .transpose()?;
        cfg.meta = Meta {
            role: role.into(),
            weight: config::weight(weight)?,
            zone,
        };
        cfg.label = label.into();
        cfg.keyring = keys.map(config::keyring).transpose()?;
        cfg.encrypt = encrypt;
        cfg.placement = config::placement(placement, vnodes, hash, partitions, mode)?;
        cfg.protocol = config::protocol(protocol)?;
        let meta = cfg.meta.clone();
        let node = py.detach(|| CoreNode::start(cfg)).map_err(net_err)?;
        let address = node.status().local.addr();
        Ok(Node {
            id: node.id().to_string(),
            address,
            local: node.local_addr(),
            inner: Mutex::new(Some(node)),
            meta: Mutex::new(meta),
            stopped: Arc::new(AtomicBool::new(false)),
        })
    }

    /// This member's id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The address other members reach this one at, `"ip:port"` (give it to others as
    /// a seed).
    #[getter]
    fn address(&self) -> String {
        self.address.to_string()
    }

    /// The address the sockets are bound to, `"ip:port"` (differs from `address` when
    /// binding `0.0.0.0` with an `advertise` address).
    #[getter]
    fn local_address(&self) -> String {
        self.local.to_string()
    }

    /// Whether the node has been closed.
    #[getter]
    fn closed(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// The members this node knows of, this one included, sorted by id: the live ones
    /// (alive or suspect), or with `live_only=False` also those declared dead or left
    /// (remembered for a while).
    #[pyo3(signature = (live_only = true))]
    fn members(&self, py: Python<'_>, live_only: bool) -> PyResult<Vec<Member>> {
        let status = self.with(py, "members", CoreNode::status)?;
        Ok(status
            .members
            .iter()
            .filter(|m| !live_only || m.status().is_live())
            .map(Member::from)
            .collect())
    }

    /// This member's own record, as the cluster sees it.
    fn local_member(&self, py: Python<'_>) -> PyResult<Member> {
        let status = self.with(py, "local_member", CoreNode::status)?;
        Ok(Member::from(&status.local))
    }

    /// The member that owns `key` (str or bytes) under the live placement, or `None`
    /// while no member is placed.
    fn locate(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let placement = self.with(py, "locate", CoreNode::placement)?;
        with_key(key, |k| placement.locate(k).map(String::from))
    }

    /// Digest of the placement layout: members that place keys alike have equal
    /// digests (for a ring, it equals `shoal.Ring.layout_digest()` of the same members).
    fn placement_digest(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, "placement_digest", |n| n.placement().digest())
    }

    /// Digest of the membership view: equal on members that agree on every record.
    fn membership_digest(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, "membership_digest", |n| n.status().membership_digest)
    }

    /// The node's counters, {name: value}: packets sent, received and rejected (by
    /// reason), probes, refutations, placement rebuilds, routed payloads delivered
    /// (`routes_delivered`), duplicates and refusals (refreshed every 100 ms).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let status = self.with(py, "status", CoreNode::status)?;
        let d = PyDict::new(py);
        for (name, value) in &status.counters {
            d.set_item(name, value)?;
        }
        Ok(d)
    }

    /// Announces new metadata; placement follows on every member. Unset arguments keep
    /// their value; `zone=""` clears the zone.
    #[pyo3(signature = (*, role = None, weight = None, zone = None))]
    fn update_meta(
        &self,
        py: Python<'_>,
        role: Option<String>,
        weight: Option<i64>,
        zone: Option<String>,
    ) -> PyResult<()> {
        let weight = weight.map(config::weight).transpose()?;
        let result = self.with(py, "update_meta", |n| {
            let mut meta = lock(&self.meta);
            let mut next = meta.clone();
            if let Some(r) = role {
                next.role = r;
            }
            if let Some(w) = weight {
                next.weight = w;
            }
            if let Some(z) = zone {
                next.zone = (!z.is_empty()).then_some(z);
            }
            let r = n.update_meta(next.clone());
            if r.is_ok() {
                *meta = next;
            }
            r
        })?;
        result.map_err(net_err)
    }

    /// Replaces the gossip keys (rotation: add the new key everywhere, then make it
    /// first everywhere, then drop the old one). Each key is 32 bytes or 64 hex digits;
    /// the first seals.
    fn set_keys(&self, py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<()> {
        let ring = config::keyring(keys)?;
        self.with(py, "set_keys", |n| n.set_keyring(ring))?
            .map_err(net_err)
    }

    /// A new subscription to membership events (joined, updated, suspected, refuted,
    /// failed, left) from now on. Iterate it; it ends when the node stops.
    fn events(&self, py: Python<'_>) -> PyResult<Events> {
        let rx = self.with(py, "events", CoreNode::events)?;
        Ok(Events::new(rx, self.stopped.clone()))
    }

    /// `async for ev in node.events_async():` — the same events from asyncio (each
    /// wait runs ≤ 100 ms on the loop's default executor; see `shoal._aio`).
    fn events_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let events = Py::new(py, self.events(py)?)?;
        events::aio_stream(py, events)
    }

    /// Takes routed payloads for this member from now on: each is delivered once to
    /// the bus endpoint `prefix + id` of `bus` (its consumer must exist; until it does,
    /// senders retry). Replaces a previous `serve_routes`.
    #[pyo3(signature = (bus, prefix = ""))]
    fn serve_routes(&self, py: Python<'_>, bus: PyRef<'_, Bus>, prefix: &str) -> PyResult<()> {
        let sink = BusTransport::with_prefix(bus.core_open()?.clone(), prefix);
        self.with(py, "serve_routes", |n| n.serve_routes(sink))
    }

    /// Stops taking routed payloads (senders retry until served again or the keys
    /// move).
    fn stop_serving_routes(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, "stop_serving_routes", CoreNode::stop_serving_routes)
    }

    /// Leaves the cluster gracefully (the goodbye is gossiped for a moment) and stops
    /// the threads. Waits until stopped; harmless if already stopped.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let mut inner = lock(&self.inner);
            if let Some(n) = inner.take() {
                n.leave();
            }
            self.stopped.store(true, Ordering::Release);
        });
    }

    /// Same as `close()`.
    fn leave(&self, py: Python<'_>) {
        self.close(py);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the node.
    fn __exit__(
        &self,
        py: Python<'_>,
        _ty: Option<&Bound<'_, PyAny>>,
        _value: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Node(id={:?}, address={:?}{})",
            self.id,
            self.address.to_string(),
            if self.closed() { ", closed" } else { "" }
        )
    }
}

impl Drop for Node {
    /// A node dropped without `close()` leaves the cluster too (with the GIL held:
    /// prefer `close()` or a `with` block).
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        drop(inner.take());
        self.stopped.store(true, Ordering::Release);
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Node>()?;
    m.add_class::<Member>()?;
    m.add_class::<Event>()?;
    m.add_class::<Events>()?;
    Ok(())
}
