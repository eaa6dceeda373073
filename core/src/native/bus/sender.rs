//! [`Sender`]: the producer end of one lane to a named endpoint.

use core::sync::atomic::{fence, AtomicU64, Ordering};
use std::string::String;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::batch::{record_size, write_record, BATCH_BYTES, FLAG_BATCH};

use super::compress::{compress, max_compressed, FLAG_LZ4};
use super::config::{Backpressure, WaitStrategy, LIVENESS_CHECK};
use super::error::BusError;
use super::flusher::{deadline, nanos, now_ns, Flusher};
use super::large::release_descriptor;
use super::loan::Loan;
use super::registry::{
    claim_lane, endpoint_live, find_endpoint, EndpointId, LaneHandle, CONSUMER_GONE, PRODUCER_GONE,
};
use super::shared::Shared;
use super::signal::wake_if_waiting;
use crate::native::shm::{self, WaitOutcome};
use crate::pool::{Descriptor, LaneError, PoolError};

/// A failed send: why, and the message, handed back so it can be retried or dropped.
#[derive(Debug)]
pub struct SendError {
    /// What went wrong.
    pub error: BusError,
    /// The message that was not sent.
    pub loan: Loan,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "send failed: {}", self.error)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SendError> for BusError {
    fn from(e: SendError) -> BusError {
        e.error
    }
}

/// Sends messages to one named endpoint through a lane of its own (many senders, in any
/// processes, can feed one endpoint; each has its own single-producer lane).
pub struct Sender {
    p: Arc<Producer>,
    wait: WaitStrategy,
    /// The process's flusher, once this sender has opened a batch with a delay.
    flusher: Option<Arc<Flusher>>,
}

/// The part of a sender that the background [`Flusher`] shares.
pub(crate) struct Producer {
    shared: Arc<Shared>,
    to: EndpointId,
    name: String,
    handle: LaneHandle,
    policy: Backpressure,
    /// The pending batch. Held around every push too: the lane has one producer, and
    /// the flusher pushes on the sender's behalf.
    state: Mutex<State>,
    /// The batch delay in nanoseconds (`u64::MAX`: no timer).
    delay_ns: AtomicU64,
    /// When the pending batch is due (`flusher::now_ns` clock); `u64::MAX` if none is
    /// pending or it has no deadline.
    pub(crate) due: AtomicU64,
}

struct State {
    batch: Option<PendingBatch>,
}

/// The batch a sender is filling.
struct PendingBatch {
    loan: Loan,
    used: usize,
    records: u32,
    /// `flusher::now_ns` when the batch is due.
    due: u64,
}

/// Default for [`Sender::set_batch_delay`]. While batches flow, the flusher thread wakes
/// about once per delay; at 200 µs that costs a streaming sender about a tenth of its
/// batched throughput on a busy 2-core machine, at 50 µs close to half (see
/// `BENCHMARKS.md`).
pub const DEFAULT_BATCH_DELAY: Duration = Duration::from_micros(200);

impl Producer {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One attempt to put `loan`'s descriptor into the lane; the caller holds the state
    /// lock (`_locked`). A full lane is `BusError::Full` except under
    /// [`Backpressure::DropOldest`], which makes room.
    fn try_push(&self, _locked: &mut State, loan: Loan, flags: u8) -> Result<(), SendError> {
        if !Arc::ptr_eq(&loan.shared, &self.shared) {
            return Err(SendError {
                error: BusError::InvalidConfig("the loan belongs to another bus".into()),
                loan,
            });
        }
        let words = loan.descriptor(flags).encode();
        let lane = &self.handle.lane;
        // Under drop-oldest, a push after a successful drop finds room unless the lane
        // is being corrupted; a few rounds bound the loop either way.
        for _ in 0..4 {
            let op = self.shared.enter();
            if lane.closed() & CONSUMER_GONE != 0 {
                drop(op);
                let error = BusError::EndpointGone(self.name.clone());
                return Err(SendError { error, loan });
            }
            match lane.push(words) {
                Ok(()) => {
                    self.shared.held.remove(&self.shared.view, loan.held);
                    let mut loan = loan;
                    loan.held = u32::MAX;
                    drop(op);
                    self.notify();
                    return Ok(());
                }
                Err(LaneError::Corrupt) => {
                    drop(op);
                    self.shared.count_corrupt();
                    let error = BusError::Corrupt("lane counters");
                    return Err(SendError { error, loan });
                }
                Err(_full) if self.policy == Backpressure::DropOldest => {
                    if let Ok(Some(old)) = lane.drop_oldest() {
                        release_descriptor(&self.shared, &Descriptor::decode(old));
                        let header = self.shared.view.header();
                        header.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_full) => break,
            }
        }
        Err(SendError {
            error: BusError::Full,
            loan,
        })
    }

    /// When a batch opened at `now` is due (`u64::MAX`: never).
    fn deadline(&self, now: u64) -> u64 {
        deadline(now, self.delay_ns.load(Ordering::Relaxed))
    }

    /// Takes the pending batch out of `st`, ready to push.
    fn take_batch(&self, st: &mut State) -> Option<Loan> {
        let mut b = st.batch.take()?;
        self.due.store(u64::MAX, Ordering::SeqCst);
        // `used` never exceeds the loan's length, so this cannot fail.
        let _ = b.loan.set_len(b.used);
        Some(b.loan)
    }

    /// Puts back a batch whose push failed, so no message is lost; it is retried by
    /// the next flush, and by the flusher at `due`.
    fn restore_batch(&self, st: &mut State, mut loan: Loan, due: u64) {
        let used = loan.len;
        // Back to the full buffer so more records fit; `take_batch` shortened it.
        if loan.set_len(BATCH_BYTES).is_err() {
            return;
        }
        st.batch = Some(PendingBatch {
            loan,
            used,
            // The count only paces the age check in `send_batched`.
            records: 0,
            due,
        });
        self.due.store(due, Ordering::SeqCst);
    }

    /// For the flusher: sends the pending batch if it is due at `now`. Never blocks.
    /// Returns when the flusher should look again (`u64::MAX`: nothing pending).
    pub(crate) fn flush_from_timer(&self, now: u64, retry_at: u64) -> u64 {
        let Ok(mut st) = self.state.try_lock() else {
            // The sender is in a call: it is not quiet, and checks the batch's age
            // itself while it keeps sending. Look again one delay later (retrying sooner
            // would preempt it again and again, on its own CPU if it is pinned).
            return self.deadline(now);
        };
        match st.batch.as_ref().map(|b| b.due) {
            None => return u64::MAX,
            Some(due) if due > now => return due,
            Some(_) => {}
        }
        let Some(loan) = self.take_batch(&mut st) else {
            return u64::MAX;
        };
        match self.try_push(&mut st, loan, FLAG_BATCH) {
            Ok(()) => u64::MAX,
            Err(e) => {
                self.restore_batch(&mut st, e.loan, retry_at);
                retry_at
            }
        }
    }

    /// Wakes the consumer if it is parked.
    fn notify(&self) {
        if let Some(ep) = self.shared.view.endpoint(self.to.index) {
            wake_if_waiting(&ep.waiters, &ep.notify);
        }
    }
}

impl Sender {
    pub(crate) fn new(shared: &Arc<Shared>, name: &str) -> Result<Sender, BusError> {
        super::registry::check_name(name)?;
        let to = find_endpoint(&shared.view, name)
            .ok_or_else(|| BusError::NoSuchEndpoint(name.into()))?;
        let handle = claim_lane(&shared.view, shared.me, to)?;
        let policy = shared
            .view
            .endpoint(to.index)
            .map(|e| Backpressure::from_u32(e.policy.load(Ordering::Relaxed)))
            .unwrap_or_default();
        let p = Producer {
            shared: shared.clone(),
            to,
            name: name.into(),
            handle,
            policy,
            state: Mutex::new(State { batch: None }),
            delay_ns: AtomicU64::new(nanos(DEFAULT_BATCH_DELAY)),
            due: AtomicU64::new(u64::MAX),
        };
        Ok(Sender {
            p: Arc::new(p),
            wait: WaitStrategy::default(),
            flusher: None,
        })
    }

    /// How a send blocked by a full lane waits (default: spin, then park).
    pub fn set_wait(&mut self, wait: WaitStrategy) {
        self.wait = wait;
    }

    /// The endpoint this sender delivers to.
    pub fn endpoint(&self) -> &str {
        &self.p.name
    }

    /// Borrows a buffer of `len` bytes from the pool to write a message into.
    ///
    /// When the pool has no free slot for `len` bytes and the endpoint's policy is
    /// [`Backpressure::Block`], this waits until a buffer is given back (the pool is
    /// full because messages are in flight: consumers free them); otherwise it fails
    /// with [`BusError::Pool`] at once, as [`Sender::try_loan`] always does.
    pub fn loan(&self, len: usize) -> Result<Loan, BusError> {
        let p = &self.p;
        if p.policy != Backpressure::Block {
            return self.try_loan(len);
        }
        let mut rounds = 0u32;
        let start = Instant::now();
        let mut last_check = start;
        loop {
            match Loan::new(&p.shared, len) {
                Err(BusError::Pool(PoolError::Exhausted { .. })) => {}
                other => return other,
            }
            if p.handle.lane.closed() & CONSUMER_GONE != 0 {
                return Err(BusError::EndpointGone(p.name.clone()));
            }
            rounds = rounds.saturating_add(1);
            if rounds < 64 {
                core::hint::spin_loop();
            } else if rounds < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
            if last_check.elapsed() >= LIVENESS_CHECK {
                last_check = Instant::now();
                // Buffers held by a dead process come back through repair.
                p.shared.check_peers(false)?;
                if !endpoint_live(&p.shared.view, p.to) {
                    return Err(BusError::EndpointGone(p.name.clone()));
                }
            }
        }
    }

    /// Borrows a buffer of `len` bytes, failing at once if the pool has none free.
    pub fn try_loan(&self, len: usize) -> Result<Loan, BusError> {
        Loan::new(&self.p.shared, len)
    }

    /// Sends a copy of `data` (a loan, a copy into it, and a send).
    pub fn send_copy(&mut self, data: &[u8]) -> Result<(), BusError> {
        let mut loan = self.loan(data.len())?;
        loan.copy_from_slice(data);
        self.send(loan).map_err(|e| e.error)
    }

    /// Sends a copy of `data` compressed with LZ4 (block format); the receiver gets the
    /// original bytes back. Costs a compression here and a decompression there: worth
    /// it for large, compressible payloads.
    pub fn send_compressed(&mut self, data: &[u8]) -> Result<(), BusError> {
        let mut loan = self.loan(max_compressed(data.len()))?;
        let n = compress(data, &mut loan)?;
        loan.set_len(n)?;
        self.flush()?;
        self.send_flagged(loan, FLAG_LZ4).map_err(|e| e.error)
    }

    /// How long a batch may wait for more messages before it is sent anyway (default
    /// 200 µs). A background thread of this process (one for all senders, started by the
    /// first batched send, parked while no batch is pending) sends batches that reach
    /// this age; `Duration::MAX` turns that off for this sender, which must then call
    /// [`Sender::flush`]. Applies from the next batch on.
    pub fn set_batch_delay(&mut self, delay: Duration) {
        self.p.delay_ns.store(nanos(delay), Ordering::Relaxed);
    }

    /// Queues a copy of a small message in the sender's current batch (a 64 KiB pool
    /// buffer); the batch is sent as one descriptor when it is full, when it is older
    /// than the batch delay (by a background thread if the sender has gone quiet), on
    /// [`Sender::flush`], before any unbatched send (so order is kept), and when the
    /// sender is dropped. The receiver gets each message separately. A message too big
    /// for a batch is sent on its own.
    pub fn send_batched(&mut self, data: &[u8]) -> Result<(), BusError> {
        let need = record_size(data.len());
        if need > BATCH_BYTES {
            self.flush()?;
            return self.send_copy(data);
        }
        let mut st = self.p.lock();
        if st
            .batch
            .as_ref()
            .is_some_and(|b| b.used + need > BATCH_BYTES)
        {
            drop(st);
            self.flush()?;
            st = self.p.lock();
        }
        let mut opened = None;
        if st.batch.is_none() {
            // Waiting for pool space (under `Block`) must not hold the lock.
            drop(st);
            let loan = self.loan(BATCH_BYTES)?;
            st = self.p.lock();
            let due = self.p.deadline(now_ns());
            st.batch = Some(PendingBatch {
                loan,
                used: 0,
                records: 0,
                due,
            });
            self.p.due.store(due, Ordering::SeqCst);
            opened = Some(due);
        }
        let Some(batch) = st.batch.as_mut() else {
            return Err(BusError::Corrupt("batch state"));
        };
        batch.used = write_record(&mut batch.loan, batch.used, data);
        batch.records += 1;
        // Every record takes at least 8 bytes.
        let full = batch.used + 8 > BATCH_BYTES;
        let late = batch.records % 64 == 0 && now_ns() >= batch.due;
        drop(st);
        if let Some(due) = opened.filter(|&d| d != u64::MAX) {
            self.watch(due)?;
        }
        if full || late {
            self.flush()?;
        }
        Ok(())
    }

    /// Makes sure the flusher will look at this sender by `due`.
    fn watch(&mut self, due: u64) -> Result<(), BusError> {
        let flusher = match &self.flusher {
            Some(f) => f,
            None => {
                let f = Flusher::get()?;
                f.register(self.p.clone());
                self.flusher.insert(f)
            }
        };
        flusher.wake_by(due);
        Ok(())
    }

    /// Sends the pending batch, if any, now. On failure the batch stays pending (no
    /// message is lost) and is tried again by the next flush.
    pub fn flush(&mut self) -> Result<(), BusError> {
        let Some(loan) = self.p.take_batch(&mut self.p.lock()) else {
            return Ok(());
        };
        self.send_flagged(loan, FLAG_BATCH).map_err(|e| {
            let mut st = self.p.lock();
            let due = self.p.deadline(now_ns());
            self.p.restore_batch(&mut st, e.loan, due);
            e.error
        })
    }

    /// Sends the pending batch if it is older than the batch delay.
    pub fn flush_if_due(&mut self) -> Result<(), BusError> {
        let due = self.p.lock().batch.as_ref().map(|b| b.due);
        match due {
            Some(due) if now_ns() >= due => self.flush(),
            _ => Ok(()),
        }
    }

    /// Sends a loaned buffer: its descriptor goes into the lane, the bytes stay where
    /// they are. When the lane is full the endpoint's [`Backpressure`] policy applies.
    /// A pending batch is flushed first.
    pub fn send(&mut self, loan: Loan) -> Result<(), SendError> {
        if let Err(error) = self.flush() {
            return Err(SendError { error, loan });
        }
        self.send_flagged(loan, 0)
    }

    /// Pushes `loan` with `flags`, waiting for room under [`Backpressure::Block`].
    fn send_flagged(&mut self, mut loan: Loan, flags: u8) -> Result<(), SendError> {
        let mut waited_since: Option<Instant> = None;
        loop {
            let pushed = self.p.try_push(&mut self.p.lock(), loan, flags);
            match pushed {
                Err(e)
                    if matches!(e.error, BusError::Full)
                        && self.p.policy == Backpressure::Block =>
                {
                    loan = e.loan;
                    let since = *waited_since.get_or_insert_with(Instant::now);
                    if let Err(error) = self.wait_for_space(since) {
                        return Err(SendError { error, loan });
                    }
                }
                other => return other,
            }
        }
    }

    /// Pushes raw descriptor words into the lane, as a buggy or hostile peer writing
    /// shared memory could; for tests of the receiver's validation. Not part of the
    /// supported API.
    #[doc(hidden)]
    pub fn push_raw_descriptor(&mut self, words: [u64; 2]) -> Result<(), BusError> {
        let p = &self.p;
        let st = p.lock();
        let op = p.shared.enter();
        let r = p.handle.lane.push(words);
        drop(op);
        drop(st);
        p.notify();
        r.map_err(|_| BusError::Full)
    }

    /// Sends a loan with raw descriptor flags, as a buggy or hostile peer could; for
    /// tests of the receiver's validation. Not part of the supported API.
    #[doc(hidden)]
    pub fn send_with_raw_flags(&mut self, loan: Loan, flags: u8) -> Result<(), SendError> {
        self.send_flagged(loan, flags)
    }

    /// One round of waiting for the consumer to make room: spin, then park on the lane's
    /// `space` word; checks that the consumer is alive every 100 ms.
    fn wait_for_space(&self, since: Instant) -> Result<(), BusError> {
        let p = &self.p;
        let view = &p.shared.view;
        let rec = view
            .lane_record(p.handle.index)
            .ok_or(BusError::Corrupt("lane index"))?;
        let lane = &p.handle.lane;
        for _ in 0..self.wait.spins().min(10_000) {
            if lane.len() < lane.capacity() as usize {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        if self.wait == WaitStrategy::Spin {
            // Busy-polling never parks; it only checks now and then that the consumer
            // is still there.
            if since.elapsed() >= LIVENESS_CHECK {
                p.shared.check_peers(false)?;
                if !endpoint_live(view, p.to) {
                    lane.close(CONSUMER_GONE);
                }
            }
            return Ok(());
        }
        let seen = rec.space.load(Ordering::Acquire);
        rec.sender_waiting.store(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if lane.len() < lane.capacity() as usize || lane.closed() & CONSUMER_GONE != 0 {
            rec.sender_waiting.store(0, Ordering::Relaxed);
            return Ok(());
        }
        let outcome = shm::wait(&rec.space, seen, Some(LIVENESS_CHECK));
        rec.sender_waiting.store(0, Ordering::Relaxed);
        if outcome == WaitOutcome::TimedOut && since.elapsed() >= LIVENESS_CHECK {
            p.shared.check_peers(false)?;
            if !endpoint_live(view, p.to) {
                lane.close(CONSUMER_GONE);
            }
        }
        Ok(())
    }
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("endpoint", &self.p.name)
            .field("lane", &self.p.handle.index)
            .finish()
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.flush();
        if let Some(f) = self.flusher.take() {
            f.unregister(&self.p);
        }
        // A batch the flush could not send goes back to the pool with its loan.
        self.p.lock().batch = None;
        super::receiver::close_lane(&self.p.shared, &self.p.handle, PRODUCER_GONE);
    }
}
