//! `Node`: a member of a cluster on a real network (gossip membership over UDP,
//! routed payloads over TCP), wrapping the core's `native::net::Node`.
//!
//! Files: `mod.rs` (the class), `config.rs` (`Node.start` options → `NodeConfig`),
//! `member.rs` (`Member`, `MembershipEvent`), `events.rs` (the event subscription),
//! `tasks.rs` (starting and closing off the main thread).
//!
//! The core node runs on threads of its own that never touch the event loop, so a
//! `Node` keeps no libuv handle: by itself it does not keep the process alive, and
//! process exit never waits for it. `close()` leaves the cluster on a worker thread
//! (the goodbye is gossiped for up to 600 ms) and resolves once the threads stopped.

mod config;
mod events;
mod member;
mod tasks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::membership::{Meta, PlacementFollower};
use shoal_core::native::net::{Node as CoreNode, RouteConfig, TcpTransport};
use shoal_core::native::router::BusTransport;

pub use config::{GossipKey, StartOptions};
pub use events::{Events, IteratorStep};
pub use member::{Member, MembershipEvent};
use tasks::{Close, Start};

use crate::args::options_arg;
use crate::bus::Bus;
use crate::errors::{Failure, Kind, OrThrow, Outcome};
use crate::keys::{key_bytes, Key};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running core node, shared by the `Node` object and the routers that use it.
/// Dropping the last holder without `close()` leaves the cluster on a thread of its
/// own (so garbage collection and process exit never wait for the goodbye).
pub struct Handle {
    core: Mutex<Option<CoreNode>>,
    /// Set once the core node has fully stopped (shared with event subscriptions).
    stopped: Arc<AtomicBool>,
    id: String,
}

impl Handle {
    /// Runs `f` on the core node; `ERR_SHOAL_CLOSED` once the node is closed.
    pub fn with<R>(&self, what: &str, f: impl FnOnce(&CoreNode) -> R) -> Outcome<R> {
        lock(&self.core).as_ref().map(f).ok_or_else(|| {
            Kind::Closed.fail(format!(
                "{what}: node {:?} is closed (it left the cluster)",
                self.id
            ))
        })
    }

    /// This member's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The live placement (a snapshot that never blocks), for the router.
    pub fn placement(&self) -> Outcome<Arc<PlacementFollower>> {
        self.with("route", CoreNode::placement)
    }

    /// A TCP transport to the owners' nodes, for the router.
    pub fn transport(&self, cfg: RouteConfig) -> Outcome<TcpTransport> {
        self.with("Router", |n| n.transport(cfg))?
            .map_err(Failure::from)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let core = self.core.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = core.take() {
            let stopped = self.stopped.clone();
            let leave = move || {
                n.leave();
                stopped.store(true, Ordering::Release);
            };
            // If no thread can be started, the closure is dropped and the node with it,
            // which leaves here (bounded by the grace period).
            let spawned = std::thread::Builder::new()
                .name("shoal-node-leave".into())
                .spawn(leave);
            if spawned.is_err() {
                self.stopped.store(true, Ordering::Release);
            }
        }
    }
}

/// Options of `node.updateMeta`: unset fields keep their value.
#[napi(object)]
pub struct MetaUpdate {
    /// New role.
    pub role: Option<String>,
    /// New placement weight (a whole number; 0: holds no keys).
    pub weight: Option<f64>,
    /// New zone; `""` clears it.
    pub zone: Option<String>,
}

/// A member of a shoal cluster: gossip membership (who is alive) over UDP, placement
/// that follows the live members (who owns what), routed payloads over TCP.
///
/// `await Node.start({ id, seeds, ... })` starts one; `await node.close()` leaves the
/// cluster gracefully (closing twice is harmless; any other method of a closed node
/// throws `Error` `ERR_SHOAL_CLOSED`). A node does not keep the process alive by
/// itself (a pending `events()` wait does) and never delays process exit; a node
/// that is garbage-collected or still open at exit leaves on a background thread.
#[napi]
pub struct Node {
    handle: Arc<Handle>,
    /// The address other members reach this one at.
    address: SocketAddr,
    /// The address the sockets are bound to.
    local: SocketAddr,
    /// The metadata last announced (so partial updates keep the rest).
    meta: Mutex<Meta>,
}

impl Node {
    fn new(core: CoreNode, meta: Meta) -> Node {
        let address = core.status().local.addr();
        let local = core.local_addr();
        Node {
            handle: Arc::new(Handle {
                id: core.id().to_string(),
                core: Mutex::new(Some(core)),
                stopped: Arc::new(AtomicBool::new(false)),
            }),
            address,
            local,
            meta: Mutex::new(meta),
        }
    }

    /// The shared handle (for the router).
    pub fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    fn with<R>(&self, env: &Env, what: &str, f: impl FnOnce(&CoreNode) -> R) -> Result<R> {
        self.handle.with(what, f).or_throw(env)
    }
}

#[napi]
impl Node {
    /// Starts a member: binds UDP and TCP on `bind` (default `"127.0.0.1:0"`, a free
    /// port), contacts `seeds` and runs the protocol on threads of its own. See
    /// `StartOptions` for every option. Rejects (never throws, but for an option of the
    /// wrong type: `TypeError` `ERR_SHOAL_INVALID_TYPE`) with `RangeError`
    /// `ERR_SHOAL_INVALID_ARGUMENT` for bad options or addresses, `Error`
    /// `ERR_SHOAL_NET` if the address cannot be bound.
    #[napi(
        ts_args_type = "options?: StartOptions | undefined | null",
        ts_return_type = "Promise<Node>"
    )]
    pub fn start(env: Env, options: Option<Unknown<'_>>) -> Result<AsyncTask<Start>> {
        let options: StartOptions = options_arg(&env, options, "options").or_throw(&env)?;
        Ok(AsyncTask::new(Start::new(options)))
    }

    /// This member's id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.handle.id.clone()
    }

    /// The address other members reach this one at, `"ip:port"` (give it to others as
    /// a seed).
    #[napi(getter)]
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The address the sockets are bound to, `"ip:port"`.
    #[napi(getter)]
    pub fn local_address(&self) -> String {
        self.local.to_string()
    }

    /// Whether `close()` was called (or the node has otherwise stopped).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        lock(&self.handle.core).is_none()
    }

    /// The members this node knows of, this one included, sorted by id: the live ones
    /// (alive or suspect), or with `liveOnly = false` also those declared dead or
    /// left (remembered for a while).
    #[napi]
    pub fn members(&self, env: Env, live_only: Option<bool>) -> Result<Vec<Member>> {
        let live_only = live_only.unwrap_or(true);
        let status = self.with(&env, "members", CoreNode::status)?;
        Ok(status
            .members
            .iter()
            .filter(|m| !live_only || m.status().is_live())
            .map(Member::from)
            .collect())
    }

    /// This member's own record, as the cluster sees it.
    #[napi]
    pub fn local_member(&self, env: Env) -> Result<Member> {
        let status = self.with(&env, "localMember", CoreNode::status)?;
        Ok(Member::from(&status.local))
    }

    /// The member that owns `key` (string or bytes) under the live placement, or
    /// `null` while no member is placed.
    #[napi]
    pub fn locate(&self, env: Env, key: Key) -> Result<Option<String>> {
        let placement = self.with(&env, "locate", CoreNode::placement)?;
        Ok(placement.locate(key_bytes(&key)).map(String::from))
    }

    /// Digest of the placement layout: members that place keys alike have equal
    /// digests (for a ring, it equals `Ring.layoutDigest()` of the same members).
    #[napi]
    pub fn placement_digest(&self, env: Env) -> Result<BigInt> {
        self.with(&env, "placementDigest", |n| {
            BigInt::from(n.placement().digest())
        })
    }

    /// Digest of the membership view: equal on members that agree on every record.
    #[napi]
    pub fn membership_digest(&self, env: Env) -> Result<BigInt> {
        self.with(&env, "membershipDigest", |n| {
            BigInt::from(n.status().membership_digest)
        })
    }

    /// The node's counters by name (snake_case, as in every binding): packets sent,
    /// received and rejected (by reason), probes, refutations, placement rebuilds,
    /// routed payloads delivered (`routes_delivered`), duplicates and refusals
    /// (refreshed every 100 ms).
    #[napi(ts_return_type = "Record<string, bigint>")]
    pub fn status(&self, env: Env) -> Result<HashMap<String, BigInt>> {
        let status = self.with(&env, "status", CoreNode::status)?;
        Ok(status
            .counters
            .iter()
            .map(|(k, v)| (k.clone(), BigInt::from(*v)))
            .collect())
    }

    /// Announces new metadata; placement follows on every member. Unset fields keep
    /// their value; `zone: ""` clears the zone.
    #[napi]
    pub fn update_meta(&self, env: Env, update: MetaUpdate) -> Result<()> {
        let weight = update
            .weight
            .map(config::weight)
            .transpose()
            .or_throw(&env)?;
        let result = self.with(&env, "updateMeta", |n| {
            let mut meta = lock(&self.meta);
            let mut next = meta.clone();
            if let Some(r) = update.role {
                next.role = r;
            }
            if let Some(w) = weight {
                next.weight = w;
            }
            if let Some(z) = update.zone {
                next.zone = (!z.is_empty()).then_some(z);
            }
            let r = n.update_meta(next.clone());
            if r.is_ok() {
                *meta = next;
            }
            r
        })?;
        result.or_throw(&env)
    }

    /// Replaces the gossip keys (rotation: add the new key everywhere, then make it
    /// first everywhere, then drop the old one). Each key is 32 bytes or 64 hex
    /// digits; the first seals.
    #[napi]
    pub fn set_keys(&self, env: Env, keys: Vec<GossipKey>) -> Result<()> {
        let ring = config::keyring(&keys).or_throw(&env)?;
        self.with(&env, "setKeys", |n| n.set_keyring(ring))?
            .or_throw(&env)
    }

    /// A new subscription to membership events from now on (see `Events`):
    /// `for await (const ev of node.events()) { ... }`.
    #[napi(ts_return_type = "Events & AsyncIterableIterator<MembershipEvent>")]
    pub fn events<'e>(&self, env: &'e Env) -> Result<ClassInstance<'e, Events>> {
        let rx = self.with(env, "events", CoreNode::events)?;
        let events = Events::start(rx, self.handle.stopped.clone())?.into_instance(env)?;
        // `[Symbol.asyncIterator]() { return this }`, so `for await` accepts it.
        let symbol: Unknown = env
            .get_global()?
            .get_named_property::<Function<(), Unknown>>("Symbol")?
            .get_named_property("asyncIterator")?;
        let itself = env
            .create_function_from_closure::<(), _, _>("[Symbol.asyncIterator]", |ctx| {
                ctx.this::<Unknown>()
            })?;
        events.as_object(env).set_property(symbol, itself)?;
        Ok(events)
    }

    /// Takes routed payloads for this member from now on: each is delivered once to
    /// the bus endpoint `prefix + id` of `bus` (its receiver must exist; until it
    /// does, senders retry). Replaces a previous `serveRoutes`.
    #[napi]
    pub fn serve_routes(&self, env: Env, bus: &Bus, prefix: Option<String>) -> Result<()> {
        let bus = bus.core_open().or_throw(&env)?.clone();
        let sink = BusTransport::with_prefix(bus, prefix.as_deref().unwrap_or(""));
        self.with(&env, "serveRoutes", |n| n.serve_routes(sink))
    }

    /// Stops taking routed payloads (senders retry until served again or the keys
    /// move).
    #[napi]
    pub fn stop_serving_routes(&self, env: Env) -> Result<()> {
        self.with(&env, "stopServingRoutes", CoreNode::stop_serving_routes)
    }

    /// Leaves the cluster gracefully (the goodbye is gossiped for a moment) and stops
    /// the threads; resolves once stopped. Harmless if already closed. Pending event
    /// waits settle with the end of the subscription.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<Close> {
        let core = lock(&self.handle.core).take();
        AsyncTask::new(Close::new(core, self.handle.stopped.clone()))
    }
}
