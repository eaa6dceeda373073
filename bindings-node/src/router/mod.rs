//! `Router`: sends a keyed payload to whoever owns the key — the owner's bus endpoint
//! when it runs on this host, its node over TCP otherwise — wrapping the core
//! `Router` with `BusTransport` (local) and the node's `TcpTransport` (remote).
//!
//! Files: `mod.rs` (the class), `remote.rs` (TCP or nothing), `flush.rs` (waiting for
//! acknowledgements off the main thread).
//!
//! `route()` is synchronous: a local delivery is a copy into shared memory, a remote
//! one is queued for the node's TCP sender. Only a full window (`maxPending`
//! unacknowledged payloads) could make it wait, and by default it does not wait then
//! (`sendTimeoutMs` 0): it throws `ERR_SHOAL_TIMEOUT` and `await router.flush()` is
//! the way to wait for room without blocking the event loop.

mod flush;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::native::bus::BusError;
use shoal_core::native::net::{RouteConfig, TcpTransport};
use shoal_core::native::router::BusTransport;
use shoal_core::router::{
    Destination as CoreDestination, RouteError, RoutePlacement, Router as CoreRouter,
};
use shoal_core::Placement;

use crate::bus::Bus;
use crate::errors::{invalid, Failure, Kind, OrThrow, Outcome};
use crate::keys::{key_bytes, Key};
use crate::node::Node;
use crate::partition::PartitionTable;
use crate::ring::Ring;
use flush::Flush;
use shoal_core::native::router::{Remote, RemoteError};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the router reads owners from (each holds its JavaScript object alive).
enum Source {
    /// The node's live placement.
    Node(Reference<Node>),
    /// A ring the application maintains.
    Ring(Reference<Ring>),
    /// A partition table the application maintains.
    Table(Reference<PartitionTable>),
}

/// Where a payload went (or would go): its owner, and whether that owner runs on
/// this host (delivered through the bus) or elsewhere (through TCP).
#[napi(object)]
pub struct Destination {
    /// The member that owns the key.
    pub owner: String,
    /// True: the owner's bus endpoint on this host; false: the owner's node over TCP.
    pub is_local: bool,
}

impl From<CoreDestination> for Destination {
    fn from(d: CoreDestination) -> Destination {
        let (owner, is_local) = d.into_parts();
        Destination { owner, is_local }
    }
}

/// Options of `new Router(bus, by, options)`; with a placement instead of a node they
/// go in the second argument together with `placement`.
#[napi(object)]
#[derive(Default)]
pub struct RouterOptions {
    /// Members that run on this host (their payloads go to their bus endpoints). With
    /// a node, its own member is always local.
    pub local: Option<Vec<String>>,
    /// The bus endpoint of member `id` is `prefix + id` (default `""`).
    pub prefix: Option<String>,
    /// With a node: payloads unacknowledged at once (default 8192).
    pub max_pending: Option<u32>,
    /// With a node: milliseconds before an unacknowledged payload is resent (default
    /// 1000).
    pub retry_after_ms: Option<f64>,
    /// With a node: milliseconds `route()` may wait for room when `maxPending` payloads
    /// are unacknowledged (default 0: throw `ERR_SHOAL_TIMEOUT` at once, never block
    /// the event loop; `await router.flush()` waits without blocking).
    pub send_timeout_ms: Option<f64>,
    /// With a node: milliseconds to connect to an owner's node (default 1000).
    pub connect_timeout_ms: Option<f64>,
}

/// Milliseconds (a JS number) as a duration; `what` names the option in errors.
fn millis(value: Option<f64>, default: u64, what: &str) -> Outcome<Duration> {
    match value {
        None => Ok(Duration::from_millis(default)),
        Some(v) if v.is_finite() && (0.0..=1e12).contains(&v) => {
            Ok(Duration::from_secs_f64(v / 1e3))
        }
        Some(v) => Err(invalid(format!(
            "{what} must be a number of milliseconds >= 0, not {v}"
        ))),
    }
}

/// A route failure as the matching JS error, naming the key and owner.
fn route_err(e: RouteError<BusError, RemoteError>, key: &[u8]) -> Failure {
    let (mut failure, owner) = match e {
        RouteError::NoOwner => {
            return Kind::Empty.fail("no owner: the placement has no members (weight > 0)")
        }
        RouteError::Local { owner, error } => (Failure::from(error), owner),
        RouteError::Remote {
            owner,
            error: RemoteError::Net(error),
        } => (Failure::from(error), owner),
        RouteError::Remote {
            owner,
            error: RemoteError::NoNode,
        } => (
            Kind::Net.fail(format!(
                "{owner:?} owns the key but is not on this host, and this router has no \
                 node to reach other hosts (list it in `local`, or route with a Node)"
            )),
            owner,
        ),
    };
    failure.message = format!(
        "{} (while routing key {:?} to {owner:?})",
        failure.message,
        String::from_utf8_lossy(key)
    );
    failure
}

/// Routes keyed payloads to their owners: members on this host get them on their bus
/// endpoint `prefix + id`; others, with a node, over TCP to their node (which hands
/// them to its own endpoint, see `Node.serveRoutes`), acknowledged and resent to the
/// new owner if an owner fails.
///
/// * `new Router(bus, node, options?)`: owners by the node's live placement; the
///   node's member is local, every other member remote.
/// * `new Router(bus, { placement: ringOrTable, local: [ids], ... })`: owners by a
///   `Ring` or `PartitionTable` (read at each route, so later changes apply); the
///   members in `local` are on this host, and routes to any other member throw
///   `ERR_SHOAL_NET`.
#[napi]
pub struct Router {
    inner: Mutex<CoreRouter<BusTransport, Remote>>,
    source: Source,
    tcp: Option<Arc<TcpTransport>>,
    prefix: String,
}

impl Router {
    fn build(env: &Env, bus: &Bus, by: Unknown, options: Option<RouterOptions>) -> Result<Router> {
        let not_by = || {
            invalid(
                "the second argument is a Node or the options { placement: Ring | \
                 PartitionTable, local: [ids] }",
            )
        };
        let (source, options) = if Node::instance_of(env, &by)? {
            // SAFETY: `by` is a live value of this call, checked to be a `Node`.
            let node = unsafe { by.cast::<Reference<Node>>() }?;
            (Source::Node(node), options.unwrap_or_default())
        } else if by.get_type()? == ValueType::Object {
            if options.is_some() {
                return Err(invalid(
                    "with a placement, give the options in the second argument",
                ))
                .or_throw(env);
            }
            // SAFETY: `by` is a live value of this call, checked to be an object.
            let obj = unsafe { by.cast::<Object>() }?;
            let placement: Option<Unknown> = obj.get("placement")?;
            let source = match placement {
                None => {
                    return Err(invalid(
                        "Router needs a node or a placement (a Ring or PartitionTable)",
                    ))
                    .or_throw(env)
                }
                Some(p) if Ring::instance_of(env, &p)? => {
                    // SAFETY: a live value of this call, checked to be a `Ring`.
                    Source::Ring(unsafe { p.cast::<Reference<Ring>>() }?)
                }
                Some(p) if PartitionTable::instance_of(env, &p)? => {
                    // SAFETY: a live value of this call, checked to be a table.
                    Source::Table(unsafe { p.cast::<Reference<PartitionTable>>() }?)
                }
                Some(_) => {
                    return Err(invalid("placement must be a Ring or a PartitionTable"))
                        .or_throw(env)
                }
            };
            // SAFETY: as above; extra properties (`placement`) are ignored.
            let options = unsafe { by.cast::<RouterOptions>() }?;
            (source, options)
        } else {
            return Err(not_by()).or_throw(env);
        };
        let prefix = options.prefix.clone().unwrap_or_default();
        let tcp = match &source {
            Source::Node(n) => {
                let cfg = RouteConfig {
                    max_pending: options.max_pending.unwrap_or(8192).max(1) as usize,
                    retry_after: millis(options.retry_after_ms, 1000, "retryAfterMs")
                        .or_throw(env)?,
                    send_timeout: millis(options.send_timeout_ms, 0, "sendTimeoutMs")
                        .or_throw(env)?,
                    connect_timeout: millis(options.connect_timeout_ms, 1000, "connectTimeoutMs")
                        .or_throw(env)?,
                };
                Some(Arc::new(n.handle().transport(cfg).or_throw(env)?))
            }
            _ => None,
        };
        let mut inner = CoreRouter::new(
            BusTransport::with_prefix(bus.core_open().or_throw(env)?.clone(), &prefix),
            Remote(tcp.clone()),
        );
        if let Source::Node(n) = &source {
            inner.add_local(n.handle().id());
        }
        for id in options.local.iter().flatten() {
            inner.add_local(id);
        }
        Ok(Router {
            inner: Mutex::new(inner),
            source,
            tcp,
            prefix,
        })
    }

    /// The placement for one route.
    fn snapshot(&self, key: &[u8]) -> Outcome<RoutePlacement> {
        Ok(match &self.source {
            Source::Node(n) => RoutePlacement::Follower(n.handle().placement()?),
            Source::Ring(r) => {
                RoutePlacement::Owner(Placement::locate(r.core(), key).map(Into::into))
            }
            Source::Table(t) => {
                RoutePlacement::Owner(Placement::locate(t.core(), key).map(Into::into))
            }
        })
    }
}

#[napi]
impl Router {
    /// A router over `bus` and a node or a placement (see the class docs).
    #[napi(
        constructor,
        ts_args_type = "bus: Bus, by: Node | (RouterOptions & { placement: Ring | PartitionTable }), options?: RouterOptions"
    )]
    pub fn new(env: Env, bus: &Bus, by: Unknown, options: Option<RouterOptions>) -> Result<Self> {
        Router::build(&env, bus, by, options)
    }

    /// Sends `payload` (bytes or a string, sent as UTF-8) to the owner of `key`
    /// (string or bytes) and returns where it went. A local owner has it on its
    /// endpoint when this returns; a remote one once acknowledged (see `flush`).
    /// Errors: `ERR_SHOAL_EMPTY` (no member placed), a bus error (local endpoint
    /// missing, gone or full), `ERR_SHOAL_NET` (remote owner unreachable or no node),
    /// `ERR_SHOAL_TIMEOUT` (too many unacknowledged payloads), `ERR_SHOAL_CLOSED`.
    #[napi]
    pub fn route(
        &self,
        env: Env,
        key: Key,
        payload: Either<Uint8Array, String>,
    ) -> Result<Destination> {
        let k = key_bytes(&key);
        let bytes: &[u8] = match &payload {
            Either::A(b) => b,
            Either::B(s) => s.as_bytes(),
        };
        let placement = self.snapshot(k).or_throw(&env)?;
        lock(&self.inner)
            .route(&placement, k, bytes)
            .map(Destination::from)
            .map_err(|e| route_err(e, k))
            .or_throw(&env)
    }

    /// Where `key` would go, without sending anything (`null`: no member is placed).
    #[napi]
    pub fn destination(&self, env: Env, key: Key) -> Result<Option<Destination>> {
        let k = key_bytes(&key);
        let placement = self.snapshot(k).or_throw(&env)?;
        Ok(lock(&self.inner)
            .destination(&placement, k)
            .map(Destination::from))
    }

    /// Resolves once every remote payload is acknowledged by its owner's node; rejects
    /// with `ERR_SHOAL_TIMEOUT` after `timeoutMs` (default 10000), saying how many are
    /// still pending. Resolves at once without a node (local deliveries are complete
    /// when `route` returns). Waits on a worker thread, never on the event loop.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn flush(&self, env: Env, timeout_ms: Option<f64>) -> Result<AsyncTask<Flush>> {
        let timeout = millis(timeout_ms, 10_000, "timeoutMs").or_throw(&env)?;
        Ok(AsyncTask::new(Flush::new(self.tcp.clone(), timeout)))
    }

    /// Counts: `local`, `remote` (payloads routed each way), `failed`; with a node
    /// also the TCP transport's `sent`, `acked`, `resent`, `failovers`, `refused`,
    /// `pending`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn stats(&self) -> std::collections::HashMap<String, f64> {
        let r = lock(&self.inner).stats();
        let mut out = std::collections::HashMap::new();
        out.insert("local".to_string(), r.local as f64);
        out.insert("remote".to_string(), r.remote as f64);
        out.insert("failed".to_string(), r.failed as f64);
        if let Some(t) = self.tcp.as_ref().map(|t| t.stats()) {
            out.insert("sent".to_string(), t.sent as f64);
            out.insert("acked".to_string(), t.acked as f64);
            out.insert("resent".to_string(), t.resent as f64);
            out.insert("failovers".to_string(), t.failovers as f64);
            out.insert("refused".to_string(), t.refused as f64);
            out.insert("pending".to_string(), t.pending as f64);
        }
        out
    }

    /// Declares that member `id` runs on this host (its payloads go to its endpoint).
    #[napi]
    pub fn add_local(&self, id: String) {
        lock(&self.inner).add_local(&id);
    }

    /// Declares that member `id` no longer runs on this host; false if it was not local.
    #[napi]
    pub fn remove_local(&self, id: String) -> bool {
        lock(&self.inner).remove_local(&id)
    }

    /// Whether member `id` is on this host.
    #[napi]
    pub fn is_local(&self, id: String) -> bool {
        lock(&self.inner).is_local(&id)
    }

    /// The bus endpoint of member `id`: `prefix + id`.
    #[napi]
    pub fn endpoint_of(&self, id: String) -> String {
        format!("{}{id}", self.prefix)
    }

    /// The node this router routes with, or `null`.
    #[napi(getter, ts_return_type = "Node | null")]
    pub fn node(&self, env: Env) -> Result<Option<Reference<Node>>> {
        match &self.source {
            Source::Node(n) => Ok(Some(n.clone(env)?)),
            _ => Ok(None),
        }
    }
}
