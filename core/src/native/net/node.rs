//! [`Node`]: a member of a cluster on a real network, with a driver thread of its own.

use core::sync::atomic::{AtomicBool, Ordering};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::string::{String, ToString};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use std::vec::Vec;

use arc_swap::ArcSwap;

use super::config::NodeConfig;
use super::error::NetError;
use super::random::random_u64;
use super::route::inbox::{self, Inbox};
use super::route::{RouteConfig, TcpTransport};
use super::status::NodeStatus;
use super::{driver, tcp};
use crate::membership::{Event, Member, Meta, PlacementFollower};
use crate::router::Deliver;
use crate::wire::Keyring;

/// Requests from the handle to the driver thread.
pub(crate) enum Command {
    UpdateMeta(Meta),
    SetKeyring(Keyring),
    Leave,
    /// Merge a peer's sealed full state (received over TCP); with `reply`, answer
    /// with ours.
    MergeState {
        from: SocketAddr,
        packets: Vec<Vec<u8>>,
        reply: Option<mpsc::Sender<Vec<Vec<u8>>>>,
    },
}

/// What the node's threads share with its handle.
pub(crate) struct Shared {
    /// The placement layout; replaced whole when membership changes, so readers never
    /// lock.
    pub placement: ArcSwap<PlacementFollower>,
    /// The latest status (refreshed by the driver).
    pub status: ArcSwap<NodeStatus>,
    pub subscribers: Mutex<Vec<mpsc::Sender<Event>>>,
    pub commands: Mutex<Vec<Command>>,
    pub stop: AtomicBool,
    /// The driver has left the cluster and stopped.
    pub stopped: AtomicBool,
    /// This member's id.
    pub id: String,
    /// Routed payloads for this member: de-duplication and the application's sink.
    pub inbox: Mutex<Inbox>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A member of a shoal cluster on a real network.
///
/// [`Node::start`] binds a UDP socket (membership: SWIM gossip, failure detection,
/// anti-entropy) and a TCP listener on the same port (control requests such as
/// `shoal status`), then runs the sans-IO [`Membership`](crate::membership::Membership)
/// core on a thread of its own — no async runtime needed. The placement layout (ring or
/// partition table) is rebuilt when the live members change and swapped in whole, so
/// [`Node::placement`] and [`Node::locate`] never wait for the driver.
///
/// Keyed payloads travel between hosts through [`Node::transport`] (sending, with
/// acknowledgements and failover) and [`Node::serve_routes`] (receiving, once per
/// idempotency key); views larger than a datagram are also exchanged whole over TCP now
/// and then.
///
/// Events arrive through [`Node::events`]; from tokio, read them with
/// `tokio::task::spawn_blocking(move || events.recv())` or poll
/// [`Events::try_recv`] on an interval. Dropping the node leaves the cluster
/// gracefully (a short grace period for the goodbye to spread) and joins its threads.
pub struct Node {
    shared: Arc<Shared>,
    local: SocketAddr,
    id: String,
    driver: Option<JoinHandle<()>>,
    tcp: Option<JoinHandle<()>>,
}

/// A subscription to a node's membership events (see [`Node::events`]).
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// Waits for the next event; `None` once the node has stopped.
    pub fn recv(&self) -> Option<Event> {
        self.rx.recv().ok()
    }

    /// Waits at most `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

impl Iterator for Events {
    type Item = Event;

    /// Blocks until the next event; ends when the node stops.
    fn next(&mut self) -> Option<Event> {
        self.recv()
    }
}

impl Node {
    /// Binds the sockets, contacts the seeds and starts the driver thread.
    ///
    /// Errors: [`NetError::Io`] if an address cannot be bound,
    /// [`NetError::InvalidConfig`] for settings the protocol rejects.
    pub fn start(cfg: NodeConfig) -> Result<Node, NetError> {
        let (udp, tcp_listener) = bind_pair(cfg.bind)?;
        let local = udp.local_addr()?;
        let advertise = match cfg.advertise {
            Some(a) => a,
            None if local.ip().is_unspecified() => {
                return Err(NetError::InvalidConfig(
                    "bind address is unspecified (0.0.0.0 or ::): set an advertise address".into(),
                ))
            }
            None => local,
        };
        let id = cfg.id.clone().unwrap_or_else(|| advertise.to_string());
        let (driver, shared) = driver::Driver::new(&cfg, udp, advertise, &id)?;
        let shared = Arc::new(shared);
        let d = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(std::format!("shoal-node-{id}"))
                .spawn(move || driver.run(shared))?
        };
        let t = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("shoal-node-tcp".into())
                .spawn(move || tcp::serve(tcp_listener, &shared))
        };
        let t = match t {
            Ok(t) => t,
            Err(e) => {
                // Do not leave the driver running without a handle.
                shared.stop.store(true, Ordering::Release);
                let _ = d.join();
                return Err(e.into());
            }
        };
        Ok(Node {
            shared,
            local,
            id,
            driver: Some(d),
            tcp: Some(t),
        })
    }

    /// The address the sockets are bound to (with the actual port when `bind` had
    /// port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// This member's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A new subscription to membership events (joined, updated, suspected, refuted,
    /// failed, left), from now on.
    pub fn events(&self) -> Events {
        let (tx, rx) = mpsc::channel();
        lock(&self.shared.subscribers).push(tx);
        Events { rx }
    }

    /// The latest status: every known member with status and incarnation, digests and
    /// counters (refreshed at least every 100 ms).
    pub fn status(&self) -> Arc<NodeStatus> {
        self.shared.status.load_full()
    }

    /// The live members (alive or suspect), this one included.
    pub fn members(&self) -> Vec<Member> {
        let status = self.status();
        status
            .members
            .iter()
            .filter(|m| m.status().is_live())
            .cloned()
            .collect()
    }

    /// The current placement layout (a snapshot; never blocks).
    pub fn placement(&self) -> Arc<PlacementFollower> {
        self.shared.placement.load_full()
    }

    /// The member that owns `key` now (`None` while no member is placed).
    pub fn locate(&self, key: impl AsRef<[u8]>) -> Option<String> {
        self.shared.placement.load().locate(key).map(String::from)
    }

    /// Announces new metadata (role, weight, zone); placement follows.
    pub fn update_meta(&self, meta: Meta) -> Result<(), NetError> {
        self.command(Command::UpdateMeta(meta))
    }

    /// Replaces the keyring (for rotation: add the new key everywhere, then make it
    /// primary everywhere, then remove the old one).
    pub fn set_keyring(&self, keyring: Keyring) -> Result<(), NetError> {
        self.command(Command::SetKeyring(keyring))
    }

    /// Takes routed payloads for this member from now on, handing each to `sink`
    /// exactly once (for example a [`BusTransport`](crate::native::router::BusTransport), so
    /// they reach this member's bus endpoint). Until a sink is set, routed payloads are
    /// refused and their senders retry. Replaces the previous sink.
    pub fn serve_routes<D: Deliver + Send + 'static>(&self, sink: D) {
        lock(&self.shared.inbox).set_sink(Some(inbox::sink(sink)));
    }

    /// Stops taking routed payloads (senders retry until a sink is set again or the
    /// placement moves the keys).
    pub fn stop_serving_routes(&self) {
        lock(&self.shared.inbox).set_sink(None);
    }

    /// A transport that routes payloads to the nodes of their keys' owners, with
    /// acknowledgements, retries and failover (see [`TcpTransport`]).
    pub fn transport(&self, cfg: RouteConfig) -> Result<TcpTransport, NetError> {
        TcpTransport::new(self.shared.clone(), random_u64()?, cfg)
    }

    fn command(&self, c: Command) -> Result<(), NetError> {
        if self.shared.stopped.load(Ordering::Acquire) {
            return Err(NetError::Stopped);
        }
        lock(&self.shared.commands).push(c);
        Ok(())
    }

    /// Leaves the cluster (the goodbye is gossiped for a short grace period) and stops
    /// the threads. Dropping the node does the same.
    pub fn leave(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if !self.shared.stopped.load(Ordering::Acquire) {
            lock(&self.shared.commands).push(Command::Leave);
        }
        if let Some(d) = self.driver.take() {
            let _ = d.join();
        }
        self.shared.stop.store(true, Ordering::Release);
        // Unblock `accept` with a connection of our own.
        let _ = TcpStream::connect_timeout(&wake_addr(self.local), Duration::from_millis(200));
        if let Some(t) = self.tcp.take() {
            let _ = t.join();
        }
    }
}

/// Binds the UDP socket and the TCP listener on one port. With port 0 the kernel picks
/// a TCP port first (TCP ports are the contended ones: outgoing connections use them
/// too), then UDP takes the same number; if that one is taken, try another.
fn bind_pair(bind: SocketAddr) -> Result<(UdpSocket, TcpListener), NetError> {
    let context = |what: &str, at: SocketAddr, e: std::io::Error| {
        NetError::Io(std::io::Error::new(
            e.kind(),
            std::format!("{what} on {at}: {e}"),
        ))
    };
    if bind.port() != 0 {
        let udp = UdpSocket::bind(bind).map_err(|e| context("UDP socket", bind, e))?;
        let tcp = TcpListener::bind(bind).map_err(|e| context("TCP listener", bind, e))?;
        return Ok((udp, tcp));
    }
    let mut last = None;
    for _ in 0..64 {
        let tcp = TcpListener::bind(bind).map_err(|e| context("TCP listener", bind, e))?;
        let at = tcp.local_addr()?;
        match UdpSocket::bind(at) {
            Ok(udp) => return Ok((udp, tcp)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(context("UDP socket", at, e)),
        }
    }
    let e = last.unwrap_or_else(|| std::io::ErrorKind::AddrInUse.into());
    Err(context("UDP socket", bind, e))
}

/// An address `local`'s listener can be reached at from this host.
fn wake_addr(local: SocketAddr) -> SocketAddr {
    let mut a = local;
    if a.ip().is_unspecified() {
        a.set_ip(match a {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    a
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .field("local", &self.local)
            .finish()
    }
}
