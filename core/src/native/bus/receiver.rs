//! [`Receiver`]: the consumer of a named endpoint, and [`Message`], a received buffer.

use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{fence, Ordering};
use core::time::Duration;
use std::string::String;
use std::sync::Arc;
use std::time::Instant;
use std::vec::Vec;

use super::batch::{read_record, FLAG_BATCH};
use super::compress::{decompress, original_len, FLAG_LZ4};
use super::config::{EndpointConfig, WaitStrategy, LIVENESS_CHECK};
use super::error::BusError;
use super::large::{release_descriptor, LargeBuf, FLAG_LARGE};
use super::layout::{FREE, LIVE};
use super::loan::{Buf, Loan};
use super::registry::{
    self, attach_lane, claim_endpoint, lanes_to, release_endpoint, EndpointId, LaneHandle,
    CONSUMER_GONE, PRODUCER_GONE,
};
use super::shared::Shared;
use super::signal::wake_if_waiting;
use crate::native::shm;
use crate::pool::{Descriptor, LaneError};

/// Marks one side of a lane gone; the side that leaves last gives back what is still in
/// it and frees the lane record.
pub(crate) fn close_lane(shared: &Shared, handle: &LaneHandle, side: u32) {
    let view = &shared.view;
    let Some(rec) = view.lane_record(handle.index) else {
        return;
    };
    if rec.epoch.load(Ordering::Relaxed) != handle.epoch
        || rec.state.load(Ordering::Acquire) != LIVE
    {
        return;
    }
    let _op = shared.enter();
    let before = handle.lane.close(side);
    let other = if side == PRODUCER_GONE {
        CONSUMER_GONE
    } else {
        PRODUCER_GONE
    };
    if side == CONSUMER_GONE {
        // Wake a sender blocked on this lane so it sees the endpoint is gone.
        rec.space.fetch_add(1, Ordering::Release);
        shm::wake(&rec.space, u32::MAX);
    }
    if before & other != 0 && before & side == 0 {
        while let Ok(Some(words)) = handle.lane.pop() {
            release_descriptor(shared, &Descriptor::decode(words));
        }
        let _ = rec
            .state
            .compare_exchange(LIVE, FREE, Ordering::AcqRel, Ordering::Relaxed);
    }
}

/// One reference to a pool slot held by this process (recorded in its held table);
/// dropping it releases the reference.
pub(crate) struct Hold {
    shared: Arc<Shared>,
    desc: Descriptor,
    held: u32,
    /// The mapping of a large message's dedicated segment.
    large: Option<LargeBuf>,
}

impl Hold {
    /// Takes over a loan's reference (its held-table entry and buffer).
    fn from_loan(loan: Loan) -> Hold {
        let desc = loan.descriptor(0);
        let mut loan = core::mem::ManuallyDrop::new(loan);
        let held = loan.held;
        loan.held = u32::MAX;
        // SAFETY: `loan` is never used or dropped again; each field is moved out once.
        let (shared, buf) = unsafe { (core::ptr::read(&loan.shared), core::ptr::read(&loan.buf)) };
        let large = match buf {
            Buf::Large(b) => Some(b),
            Buf::Slot(_) => None,
        };
        Hold {
            shared,
            desc,
            held,
            large,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let shared = &self.shared;
        let _op = shared.enter();
        shared.held.remove(&shared.view, self.held);
        match &self.large {
            Some(buf) => buf.release(),
            None => {
                if shared.pool.release(&self.desc).is_err() {
                    shared.count_corrupt();
                }
            }
        }
    }
}

/// Who keeps a message's bytes alive: its own slot, or a batch shared with the other
/// messages of the batch. Held only for its `Drop`.
#[allow(dead_code)]
enum Owner {
    Slot(Hold),
    Batch(Arc<Hold>),
}

/// A received message: a read-only view of the sender's bytes in shared memory.
///
/// Derefs to `&[u8]`; [`Message::into_bytes`] turns it into a `bytes::Bytes` without
/// copying. The buffer returns to the pool when the last view of it is dropped (for
/// batched messages, the last message of the batch).
pub struct Message {
    owner: Owner,
    ptr: NonNull<u8>,
    len: usize,
    offset: u64,
}

// SAFETY: the message owns a reference to its slot; the bytes are only read, and the
// mapping lives as long as the owner's `shared`.
unsafe impl Send for Message {}
// SAFETY: as above.
unsafe impl Sync for Message {}

impl Message {
    /// Where the message's bytes start, as an offset inside the pool (for a message sent
    /// with [`Sender::send`](super::Sender::send), equal to the sender's
    /// [`Loan::offset`](super::Loan::offset)).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the message arrived inside a batch.
    pub fn is_batched(&self) -> bool {
        matches!(self.owner, Owner::Batch(_))
    }

    /// Converts into `bytes::Bytes` that keep the shared buffer alive (no copy).
    pub fn into_bytes(self) -> bytes::Bytes {
        bytes::Bytes::from_owner(self)
    }
}

impl Deref for Message {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `validate` checked that the slot holds `len` bytes from `ptr` (for
        // batches, `read_record` checked the record against the batch length), and
        // the owner holds a reference, so the slot is not reused while this view exists.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("batched", &self.is_batched())
            .finish()
    }
}

/// The batch a receiver is working through.
struct CurrentBatch {
    hold: Arc<Hold>,
    base: NonNull<u8>,
    used: usize,
    cursor: usize,
}

// SAFETY: `base` points into the shared mapping that `hold` keeps alive (as in
// `Message`); nothing here is tied to a thread, so a `Receiver` may move between
// threads (it is still used through `&mut`, by one thread at a time).
unsafe impl Send for CurrentBatch {}

// Bindings keep receivers in objects that other threads may use (behind a mutex).
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Receiver>();
};

/// The consumer of a named endpoint: receives from every sender's lane, round robin.
pub struct Receiver {
    shared: Arc<Shared>,
    id: EndpointId,
    name: String,
    lanes: Vec<LaneHandle>,
    /// The endpoint's `version` when `lanes` was last refreshed.
    seen_version: u32,
    next: usize,
    wait: WaitStrategy,
    batch: Option<CurrentBatch>,
    /// The topic this receiver's anonymous queue is subscribed to.
    topic: Option<EndpointId>,
}

impl Receiver {
    pub(crate) fn new(
        shared: &Arc<Shared>,
        name: &str,
        cfg: EndpointConfig,
    ) -> Result<Receiver, BusError> {
        let id = match claim_endpoint(&shared.view, shared.me, name, cfg.backpressure) {
            Err(BusError::PeerStalled) => {
                // The endpoint was left by a dead process: repair, then claim again.
                shared.check_peers(true)?;
                claim_endpoint(&shared.view, shared.me, name, cfg.backpressure)?
            }
            other => other?,
        };
        Ok(Self::with(shared, id, name, cfg, None))
    }

    fn with(
        shared: &Arc<Shared>,
        id: EndpointId,
        name: &str,
        cfg: EndpointConfig,
        topic: Option<EndpointId>,
    ) -> Receiver {
        Receiver {
            shared: shared.clone(),
            id,
            name: name.into(),
            lanes: Vec::new(),
            seen_version: u32::MAX,
            next: 0,
            wait: cfg.wait,
            batch: None,
            topic,
        }
    }

    pub(crate) fn subscribe(
        shared: &Arc<Shared>,
        topic: &str,
        cfg: EndpointConfig,
    ) -> Result<Receiver, BusError> {
        let t = registry::topic(&shared.view, shared.me, topic)?;
        let id = registry::subscribe(&shared.view, shared.me, t, cfg.backpressure)?;
        Ok(Self::with(shared, id, topic, cfg, Some(t)))
    }

    /// The endpoint's name (for a subscription, the topic's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Picks up lanes created since the endpoint's version last changed (or, with
    /// `force`, rescans regardless — before closing, so that closing sees them all).
    fn refresh(&mut self, force: bool) {
        let view = &self.shared.view;
        let Some(ep) = view.endpoint(self.id.index) else {
            return;
        };
        let version = ep.version.load(Ordering::Acquire);
        if version == self.seen_version && !force {
            return;
        }
        self.seen_version = version;
        for (index, epoch) in lanes_to(view, self.id) {
            if self
                .lanes
                .iter()
                .any(|h| h.index == index && h.epoch == epoch)
            {
                continue;
            }
            match attach_lane(view, index, epoch) {
                Ok(h) => self.lanes.push(h),
                Err(_) => self.shared.count_corrupt(),
            }
        }
    }

    /// The next message of the current batch, if any is left.
    fn next_in_batch(&mut self) -> Result<Option<Message>, BusError> {
        let Some(b) = self.batch.as_mut() else {
            return Ok(None);
        };
        if b.cursor >= b.used {
            self.batch = None;
            return Ok(None);
        }
        // SAFETY: `used` bytes from `base` were validated against the slot's capacity,
        // and `hold` keeps the slot referenced.
        let bytes = unsafe { core::slice::from_raw_parts(b.base.as_ptr(), b.used) };
        match read_record(bytes, b.cursor) {
            Ok((range, next)) => {
                b.cursor = next;
                let offset = b.hold.desc.offset + range.start as u64;
                // SAFETY: `range` lies within the `used` bytes checked above.
                let ptr = unsafe { NonNull::new_unchecked(b.base.as_ptr().add(range.start)) };
                Ok(Some(Message {
                    owner: Owner::Batch(b.hold.clone()),
                    ptr,
                    len: range.len(),
                    offset,
                }))
            }
            Err(_) => {
                self.batch = None;
                self.shared.count_corrupt();
                Err(BusError::Corrupt(
                    "a batch record runs past the end of its batch",
                ))
            }
        }
    }

    /// Takes the next message if one is waiting.
    pub fn try_recv(&mut self) -> Result<Option<Message>, BusError> {
        if let Some(m) = self.next_in_batch()? {
            return Ok(Some(m));
        }
        self.refresh(false);
        let n = self.lanes.len();
        let mut finished = false;
        for k in 0..n {
            let i = (self.next + k) % n;
            let lane = &self.lanes[i].lane;
            if lane.is_empty() {
                if lane.closed() & PRODUCER_GONE != 0 {
                    finished = true;
                }
                continue;
            }
            let shared = &self.shared;
            let op = shared.enter();
            let held = shared.held.reserve(&shared.view)?;
            let words = match lane.pop() {
                Ok(Some(words)) => words,
                Ok(None) => {
                    shared.held.remove(&shared.view, held);
                    continue;
                }
                Err(LaneError::Corrupt) | Err(_) => {
                    shared.held.remove(&shared.view, held);
                    drop(op);
                    shared.count_corrupt();
                    return Err(BusError::Corrupt("lane counters"));
                }
            };
            let desc = Descriptor::decode(words);
            let located = if desc.flags & FLAG_LARGE != 0 {
                LargeBuf::open(shared, &desc).map(|buf| (buf.data(), Some(buf)))
            } else {
                shared
                    .pool
                    .validate(&desc)
                    .map(|slot| (shared.pool.slot_ptr(&slot), None))
                    .map_err(BusError::Pool)
            };
            let (ptr, large) = match located {
                Ok(x) => x,
                Err(e) => {
                    shared.held.remove(&shared.view, held);
                    drop(op);
                    shared.count_corrupt();
                    return Err(e);
                }
            };
            shared.held.fill(&shared.view, held, words);
            drop(op);
            self.wake_sender(i);
            self.next = (i + 1) % n;
            let hold = Hold {
                shared: shared.clone(),
                desc,
                held,
                large,
            };
            if desc.flags & FLAG_LZ4 != 0 {
                // SAFETY: the descriptor was validated: `len` bytes at `ptr` are in the
                // buffer `hold` references.
                let packed =
                    unsafe { core::slice::from_raw_parts(ptr.as_ptr(), desc.len as usize) };
                let mut out = Loan::new(&self.shared, original_len(packed)?)?;
                if let Err(e) = decompress(packed, &mut out) {
                    self.shared.count_corrupt();
                    return Err(e);
                }
                drop(hold);
                let (ptr, len, offset) = (out.ptr, out.len, out.offset());
                return Ok(Some(Message {
                    owner: Owner::Slot(Hold::from_loan(out)),
                    ptr,
                    len,
                    offset,
                }));
            }
            if desc.flags & FLAG_BATCH != 0 {
                self.batch = Some(CurrentBatch {
                    hold: Arc::new(hold),
                    base: ptr,
                    used: desc.len as usize,
                    cursor: 0,
                });
                match self.next_in_batch()? {
                    Some(m) => return Ok(Some(m)),
                    None => continue,
                }
            }
            return Ok(Some(Message {
                owner: Owner::Slot(hold),
                ptr,
                len: desc.len as usize,
                offset: desc.offset,
            }));
        }
        if finished {
            // Release every drained lane whose sender is gone, not only the last one
            // seen: several senders can finish between two calls. A gone sender adds
            // nothing more, so a lane found empty stays empty.
            let shared = &self.shared;
            self.lanes.retain(|h| {
                let done = h.lane.is_empty() && h.lane.closed() & PRODUCER_GONE != 0;
                if done {
                    close_lane(shared, h, CONSUMER_GONE);
                }
                !done
            });
        }
        Ok(None)
    }

    fn wake_sender(&self, i: usize) {
        if let Some(rec) = self.shared.view.lane_record(self.lanes[i].index) {
            wake_if_waiting(&rec.sender_waiting, &rec.space);
        }
    }

    /// Waits for the next message (spinning, then parking, as the endpoint's
    /// [`WaitStrategy`] says).
    pub fn recv(&mut self) -> Result<Message, BusError> {
        self.recv_until(None)
    }

    /// Waits at most `timeout` for the next message; [`BusError::Timeout`] if none came.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message, BusError> {
        self.recv_until(Some(Instant::now() + timeout))
    }

    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<Message, BusError> {
        let spins = self.wait.spins();
        loop {
            let mut i = 0u32;
            while i < spins {
                if let Some(m) = self.try_recv()? {
                    return Ok(m);
                }
                core::hint::spin_loop();
                i += 1;
                if i % 4096 == 0 {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(BusError::Timeout);
                    }
                    if spins == u32::MAX {
                        i = 0;
                    }
                }
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if now >= d => return Err(BusError::Timeout),
                Some(d) => (d - now).min(LIVENESS_CHECK),
                None => LIVENESS_CHECK,
            };
            let shared = self.shared.clone();
            let Some(ep) = shared.view.endpoint(self.id.index) else {
                return Err(BusError::Corrupt("endpoint index"));
            };
            let seen = ep.notify.load(Ordering::Acquire);
            ep.waiters.store(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if let Some(m) = self.try_recv()? {
                ep.waiters.store(0, Ordering::Relaxed);
                return Ok(m);
            }
            let _ = shm::wait(&ep.notify, seen, Some(wait));
            ep.waiters.store(0, Ordering::Relaxed);
            // Periodic crash repair while idle (rate-limited inside).
            match self.shared.check_peers(false) {
                Ok(()) | Err(BusError::PeerStalled) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl core::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("endpoint", &self.name)
            .field("lanes", &self.lanes.len())
            .finish()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(topic) = self.topic {
            registry::unsubscribe(&self.shared.view, topic, self.id);
        }
        release_endpoint(&self.shared.view, self.id);
        self.refresh(true);
        for h in core::mem::take(&mut self.lanes) {
            close_lane(&self.shared, &h, CONSUMER_GONE);
        }
    }
}
