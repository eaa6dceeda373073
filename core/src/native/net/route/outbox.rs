//! [`TcpTransport`]: the sending side of routing — routed payloads go over TCP to the
//! node of the key's owner and stay pending until that node acknowledges them.
//!
//! Every payload gets an idempotency key `(origin, seq)` (a random origin per
//! transport, a counter per payload). One connection per owner carries frames one way
//! and acknowledgements the other; a reader thread per connection takes the acks. A
//! pump thread sends again what is not acknowledged: at once when its connection
//! breaks or the owner refuses it, after [`RouteConfig::retry_after`] otherwise. Each
//! resend asks the placement for the key's owner *again*, so when the owner fails and
//! the placement moves its keys, the pending payloads go to the new owner (a
//! *failover*). Receivers drop repeats of a key they delivered, so a resend to the
//! same owner is never delivered twice.
//!
//! Backpressure: at most [`RouteConfig::max_pending`] payloads are pending; a send
//! waits up to [`RouteConfig::send_timeout`] for room.

use core::sync::atomic::{AtomicBool, Ordering};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::string::String;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::super::control::{kind, read_frame};
use super::super::error::NetError;
use super::super::node::Shared;
use super::frame::{decode_ack, Nack, Route};
use crate::router::Deliver;

/// Settings of a [`TcpTransport`].
#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// Most payloads sent and not yet acknowledged (default 8192).
    pub max_pending: usize,
    /// A payload not acknowledged this long is sent again, to the key's owner at that
    /// time (default 1 s).
    pub retry_after: Duration,
    /// How long a send waits for room among the pending payloads (default 10 s).
    pub send_timeout: Duration,
    /// How long connecting to an owner may take (default 1 s).
    pub connect_timeout: Duration,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            max_pending: 8192,
            retry_after: Duration::from_secs(1),
            send_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

/// The identity of one routed payload from one transport (its sequence number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub u64);

/// An acknowledgement: payload `id` was delivered by member `owner`'s node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acked {
    /// Which payload.
    pub id: MsgId,
    /// The member whose node delivered it.
    pub owner: String,
}

/// Counts of a [`TcpTransport`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteStats {
    /// Payloads accepted for delivery.
    pub sent: u64,
    /// Payloads acknowledged.
    pub acked: u64,
    /// Sends again of a payload (after a broken connection, a refusal or a timeout).
    pub resent: u64,
    /// Resends that went to a different owner than the previous attempt.
    pub failovers: u64,
    /// Refusals from owners (stale placement, no sink, a failed sink).
    pub refused: u64,
    /// Payloads not yet acknowledged.
    pub pending: usize,
}

/// One payload waiting for its acknowledgement.
struct Pending {
    owner: String,
    key: Vec<u8>,
    /// The encoded frame as last sent; the payload is `frame[payload_at..]`.
    frame: Arc<Vec<u8>>,
    payload_at: usize,
    /// The connection it was last written to (0: none).
    conn: u64,
    /// When to send it again.
    due: Instant,
    attempts: u32,
}

/// A connection to one owner's node.
struct Conn {
    id: u64,
    owner: String,
    stream: TcpStream,
    writer: Mutex<TcpStream>,
    broken: AtomicBool,
}

struct State {
    next_seq: u64,
    pending: BTreeMap<u64, Pending>,
    conns: HashMap<String, Arc<Conn>>,
    /// Owners whose last connect failed, and until when not to try again (so sends to
    /// a dead owner do not each wait for a connect timeout).
    unreachable: HashMap<String, Instant>,
    next_conn: u64,
    stats: RouteStats,
    subscribers: Vec<mpsc::Sender<Acked>>,
    readers: Vec<JoinHandle<()>>,
}

impl State {
    /// Every seq below this is acknowledged.
    fn floor(&self) -> u64 {
        self.pending.keys().next().copied().unwrap_or(self.next_seq)
    }
}

struct Inner {
    node: Arc<Shared>,
    origin: u64,
    cfg: RouteConfig,
    state: Mutex<State>,
    /// Signalled on acknowledgements (room in the window, flush progress).
    acked: Condvar,
    /// Signalled when the pump has work now (a broken connection, a refusal, stop).
    wake: Condvar,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// After a failed connect, how long sends to that owner wait before trying again.
const UNREACHABLE_FOR: Duration = Duration::from_millis(200);

/// Delay before attempt `attempts + 1` after a refusal or a failed connect.
fn backoff(attempts: u32) -> Duration {
    Duration::from_millis(50u64 << attempts.min(5)).min(Duration::from_secs(1))
}

/// Routes payloads to the nodes of their owners over TCP, with acknowledgements,
/// retries under one idempotency key, and failover to the new owner when an owner
/// fails. Made by [`Node::transport`](super::super::Node::transport); plug it into a
/// [`Router`](crate::router::Router) as the remote transport, or call
/// [`TcpTransport::send`].
///
/// A send returns once the payload is *accepted*: from then on it is pending until an
/// owner's node acknowledges it (see [`TcpTransport::acks`], [`TcpTransport::flush`]).
/// Dropping the transport abandons what is still pending.
pub struct TcpTransport {
    inner: Arc<Inner>,
    pump: Option<JoinHandle<()>>,
}

impl TcpTransport {
    pub(crate) fn new(
        node: Arc<Shared>,
        origin: u64,
        cfg: RouteConfig,
    ) -> Result<TcpTransport, NetError> {
        if cfg.max_pending == 0 {
            return Err(NetError::InvalidConfig(
                "max_pending must be at least 1".into(),
            ));
        }
        let inner = Arc::new(Inner {
            node,
            origin,
            cfg,
            state: Mutex::new(State {
                next_seq: 0,
                pending: BTreeMap::new(),
                conns: HashMap::new(),
                unreachable: HashMap::new(),
                next_conn: 1,
                stats: RouteStats::default(),
                subscribers: Vec::new(),
                readers: Vec::new(),
            }),
            acked: Condvar::new(),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let pump = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("shoal-route-pump".into())
                .spawn(move || inner.pump())?
        };
        Ok(TcpTransport {
            inner,
            pump: Some(pump),
        })
    }

    /// Sends `payload` to the current owner of `key` (by the node's placement).
    ///
    /// Errors: [`NetError::NoOwner`] when no member is placed,
    /// [`NetError::TooLarge`] for a frame above [`MAX_FRAME`](super::super::MAX_FRAME),
    /// [`NetError::Timeout`] when the window stayed full for `send_timeout`,
    /// [`NetError::Stopped`] when the node has stopped. On error nothing was sent.
    pub fn send(&self, key: &[u8], payload: &[u8]) -> Result<MsgId, NetError> {
        let owner = self
            .inner
            .node
            .placement
            .load()
            .locate(key)
            .map(String::from)
            .ok_or(NetError::NoOwner)?;
        self.send_to(&owner, key, payload)
    }

    /// Sends `payload`, routed by `key`, to member `owner` (as the placement decided;
    /// a resend asks the placement again).
    pub fn send_to(&self, owner: &str, key: &[u8], payload: &[u8]) -> Result<MsgId, NetError> {
        self.inner.send_to(owner, key, payload)
    }

    /// A new subscription to acknowledgements, from now on.
    pub fn acks(&self) -> mpsc::Receiver<Acked> {
        let (tx, rx) = mpsc::channel();
        lock(&self.inner.state).subscribers.push(tx);
        rx
    }

    /// Waits until nothing is pending. Errors with [`NetError::Timeout`] (saying how
    /// many are still pending) after `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), NetError> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.inner.state);
        while !st.pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NetError::Timeout(std::format!(
                    "{} routed payloads still unacknowledged after {timeout:?}",
                    st.pending.len()
                )));
            }
            st = self
                .inner
                .acked
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Ok(())
    }

    /// Counts so far.
    pub fn stats(&self) -> RouteStats {
        let st = lock(&self.inner.state);
        RouteStats {
            pending: st.pending.len(),
            ..st.stats
        }
    }
}

impl Deliver for TcpTransport {
    type Error = NetError;

    /// Accepts `payload` for `owner` (see [`TcpTransport::send_to`]).
    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), NetError> {
        self.send_to(owner, key, payload).map(|_| ())
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        self.inner.wake.notify_all();
        self.inner.acked.notify_all();
        if let Some(p) = self.pump.take() {
            let _ = p.join();
        }
        let readers = {
            let mut st = lock(&self.inner.state);
            for c in st.conns.values() {
                let _ = c.stream.shutdown(Shutdown::Both);
            }
            st.conns.clear();
            core::mem::take(&mut st.readers)
        };
        for r in readers {
            let _ = r.join();
        }
    }
}

impl core::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("origin", &self.inner.origin)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Inner {
    fn send_to(
        self: &Arc<Self>,
        owner: &str,
        key: &[u8],
        payload: &[u8],
    ) -> Result<MsgId, NetError> {
        if self.node.stopped.load(Ordering::Acquire) || self.stop.load(Ordering::Acquire) {
            return Err(NetError::Stopped);
        }
        let probe = Route {
            origin: self.origin,
            seq: 0,
            floor: 0,
            owner,
            key,
            payload,
        };
        // Encoded once, outside the lock; seq and floor are filled in below.
        let mut frame = Vec::with_capacity(10 + probe.len());
        if probe.encode(&mut frame).is_none() {
            return Err(NetError::TooLarge(probe.len()));
        }
        let payload_at = frame.len() - payload.len();
        let deadline = Instant::now() + self.cfg.send_timeout;
        let mut st = lock(&self.state);
        while st.pending.len() >= self.cfg.max_pending {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stop.load(Ordering::Acquire) {
                return Err(NetError::Timeout(std::format!(
                    "{} routed payloads pending (the window is full) for {:?}",
                    st.pending.len(),
                    self.cfg.send_timeout
                )));
            }
            st = self
                .acked
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        // The floor before this payload is pending: at most its own seq.
        let floor = st.floor();
        let seq = st.next_seq;
        st.next_seq += 1;
        Route::patch(&mut frame, seq, floor);
        let frame = Arc::new(frame);
        let conn = st
            .conns
            .get(owner)
            .filter(|c| !c.broken.load(Ordering::Acquire))
            .cloned();
        st.pending.insert(
            seq,
            Pending {
                owner: owner.into(),
                key: key.to_vec(),
                frame: frame.clone(),
                payload_at,
                conn: conn.as_ref().map_or(0, |c| c.id),
                due: Instant::now() + self.cfg.retry_after,
                attempts: 1,
            },
        );
        st.stats.sent += 1;
        drop(st);
        match conn {
            // Marked as written to `c` when it was inserted.
            Some(c) => self.write(&c, seq, &frame, false),
            None => match self.connect(owner) {
                Some(c) => self.write(&c, seq, &frame, true),
                None => self.retry_later(seq),
            },
        }
        Ok(MsgId(seq))
    }

    /// Writes frame `seq` to `c` (first marking it as written there when `mark`); on
    /// failure the connection is broken and the pump sends it again.
    fn write(self: &Arc<Self>, c: &Arc<Conn>, seq: u64, frame: &[u8], mark: bool) {
        if mark {
            if let Some(p) = lock(&self.state).pending.get_mut(&seq) {
                p.conn = c.id;
            } else {
                return; // acknowledged already
            }
        }
        let ok = lock(&c.writer).write_all(frame).is_ok();
        if !ok {
            self.broken(c);
        }
    }

    fn retry_later(&self, seq: u64) {
        let mut st = lock(&self.state);
        if let Some(p) = st.pending.get_mut(&seq) {
            p.conn = 0;
            p.due = Instant::now() + backoff(p.attempts);
        }
    }

    /// The connection to `owner`, made now if there is none. `None` when the owner has
    /// no known address or does not answer.
    fn connect(self: &Arc<Self>, owner: &str) -> Option<Arc<Conn>> {
        {
            let st = lock(&self.state);
            if let Some(c) = st.conns.get(owner) {
                if !c.broken.load(Ordering::Acquire) {
                    return Some(c.clone());
                }
            }
            if st
                .unreachable
                .get(owner)
                .is_some_and(|&t| Instant::now() < t)
            {
                return None;
            }
        }
        let stream = self
            .addr_of(owner)
            .and_then(|addr| TcpStream::connect_timeout(&addr, self.cfg.connect_timeout).ok());
        let Some(stream) = stream else {
            let retry = Instant::now() + UNREACHABLE_FOR;
            lock(&self.state).unreachable.insert(owner.into(), retry);
            return None;
        };
        let _ = stream.set_nodelay(true);
        let writer = stream.try_clone().ok()?;
        let reader = stream.try_clone().ok()?;
        let mut st = lock(&self.state);
        if let Some(c) = st.conns.get(owner) {
            if !c.broken.load(Ordering::Acquire) {
                // Another thread connected meanwhile: use that one.
                let _ = stream.shutdown(Shutdown::Both);
                return Some(c.clone());
            }
        }
        let conn = Arc::new(Conn {
            id: st.next_conn,
            owner: owner.into(),
            stream,
            writer: Mutex::new(writer),
            broken: AtomicBool::new(false),
        });
        st.next_conn += 1;
        st.unreachable.remove(owner);
        let spawned = {
            let (inner, conn) = (self.clone(), conn.clone());
            std::thread::Builder::new()
                .name("shoal-route-acks".into())
                .spawn(move || inner.read_acks(&conn, reader))
        };
        let Ok(handle) = spawned else {
            let _ = conn.stream.shutdown(Shutdown::Both);
            return None;
        };
        st.readers.retain(|h| !h.is_finished());
        st.readers.push(handle);
        st.conns.insert(owner.into(), conn.clone());
        Some(conn)
    }

    /// The address of live member `owner`, from the node's latest status.
    fn addr_of(&self, owner: &str) -> Option<SocketAddr> {
        let status = self.node.status.load();
        let i = status
            .members
            .binary_search_by(|m| m.id().cmp(owner))
            .ok()?;
        let m = &status.members[i];
        m.status().is_live().then(|| m.addr())
    }

    /// The reader thread of one connection: takes acknowledgements and refusals until
    /// the connection ends.
    fn read_acks(&self, c: &Conn, stream: TcpStream) {
        let mut r = BufReader::new(stream);
        while let Ok((k, body)) = read_frame(&mut r) {
            let ok = match k {
                kind::ACK => self.on_ack(c, &body),
                kind::NACK => self.on_nack(&body),
                _ => false,
            };
            if !ok {
                break; // not our protocol: drop the connection
            }
        }
        self.broken(c);
    }

    fn on_ack(&self, c: &Conn, body: &[u8]) -> bool {
        let Ok((origin, seqs)) = decode_ack(body) else {
            return false;
        };
        if origin != self.origin {
            return false;
        }
        let mut st = lock(&self.state);
        let mut n = 0;
        for seq in seqs {
            if st.pending.remove(&seq).is_some() {
                n += 1;
                let a = Acked {
                    id: MsgId(seq),
                    owner: c.owner.clone(),
                };
                st.subscribers.retain(|s| s.send(a.clone()).is_ok());
            }
        }
        st.stats.acked += n;
        drop(st);
        if n > 0 {
            self.acked.notify_all();
        }
        true
    }

    fn on_nack(&self, body: &[u8]) -> bool {
        let Ok(nack) = Nack::decode(body) else {
            return false;
        };
        if nack.origin != self.origin {
            return false;
        }
        let mut st = lock(&self.state);
        st.stats.refused += 1;
        if let Some(p) = st.pending.get_mut(&nack.seq) {
            p.conn = 0;
            p.due = Instant::now() + backoff(p.attempts);
        }
        true
    }

    /// Connection `c` is gone: what was written to it is sent again now.
    fn broken(&self, c: &Conn) {
        if c.broken.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = c.stream.shutdown(Shutdown::Both);
        let mut st = lock(&self.state);
        if st.conns.get(&c.owner).is_some_and(|x| x.id == c.id) {
            st.conns.remove(&c.owner);
        }
        let now = Instant::now();
        for p in st.pending.values_mut().filter(|p| p.conn == c.id) {
            p.conn = 0;
            p.due = now;
        }
        drop(st);
        self.wake.notify_all();
    }

    /// Sends again what is due, until the transport stops.
    fn pump(self: Arc<Self>) {
        const TICK: Duration = Duration::from_millis(50);
        const BATCH: usize = 4096;
        let mut st = lock(&self.state);
        while !self.stop.load(Ordering::Acquire) {
            st = self
                .wake
                .wait_timeout(st, TICK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            let now = Instant::now();
            let due: Vec<u64> = st
                .pending
                .iter()
                .filter(|(_, p)| p.due <= now)
                .map(|(&s, _)| s)
                .take(BATCH)
                .collect();
            if due.is_empty() {
                continue;
            }
            drop(st);
            let placement = self.node.placement.load_full();
            for seq in due {
                if self.stop.load(Ordering::Acquire) {
                    break;
                }
                self.resend(seq, &placement);
            }
            st = lock(&self.state);
        }
    }

    fn resend(self: &Arc<Self>, seq: u64, placement: &crate::membership::PlacementFollower) {
        let (key, sent, owner, floor) = {
            let mut st = lock(&self.state);
            let floor = st.floor();
            let Some(p) = st.pending.get_mut(&seq) else {
                return;
            };
            let Some(owner) = placement.locate(&p.key) else {
                p.due = Instant::now() + backoff(p.attempts);
                return;
            };
            let moved = owner != p.owner;
            if moved {
                p.owner = owner.into();
            }
            p.attempts += 1;
            p.due = Instant::now() + self.cfg.retry_after;
            let out = (
                p.key.clone(),
                (p.frame.clone(), p.payload_at),
                p.owner.clone(),
                floor,
            );
            st.stats.resent += 1;
            if moved {
                st.stats.failovers += 1;
            }
            out
        };
        let Some(c) = self.connect(&owner) else {
            self.retry_later(seq);
            return;
        };
        // Encoded again: the owner (and the floor) may have changed.
        let (old, payload_at) = sent;
        let mut frame = Vec::with_capacity(old.len() + owner.len());
        let route = Route {
            origin: self.origin,
            seq,
            floor,
            owner: &owner,
            key: &key,
            payload: &old[payload_at..],
        };
        if route.encode(&mut frame).is_none() {
            return; // sizes were checked on send
        }
        self.write(&c, seq, &frame, true);
    }
}
