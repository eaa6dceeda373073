//! [`Sender`]: the producer end of one lane to a named endpoint.

use core::sync::atomic::{fence, Ordering};
use std::string::String;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::batch::{record_size, write_record, BATCH_BYTES, FLAG_BATCH};

use super::compress::{compress, max_compressed, FLAG_LZ4};
use super::config::{Backpressure, WaitStrategy, LIVENESS_CHECK};
use super::error::BusError;
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
    shared: Arc<Shared>,
    to: EndpointId,
    name: String,
    handle: LaneHandle,
    policy: Backpressure,
    wait: WaitStrategy,
    batch: Option<PendingBatch>,
    batch_delay: Duration,
}

/// The batch a sender is filling.
struct PendingBatch {
    loan: Loan,
    used: usize,
    records: u32,
    started: Instant,
}

/// Default for [`Sender::set_batch_delay`].
pub const DEFAULT_BATCH_DELAY: Duration = Duration::from_micros(50);

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
        Ok(Sender {
            shared: shared.clone(),
            to,
            name: name.into(),
            handle,
            policy,
            wait: WaitStrategy::default(),
            batch: None,
            batch_delay: DEFAULT_BATCH_DELAY,
        })
    }

    /// How a send blocked by a full lane waits (default: spin, then park).
    pub fn set_wait(&mut self, wait: WaitStrategy) {
        self.wait = wait;
    }

    /// The endpoint this sender delivers to.
    pub fn endpoint(&self) -> &str {
        &self.name
    }

    /// Borrows a buffer of `len` bytes from the pool to write a message into.
    ///
    /// When the pool has no free slot for `len` bytes and the endpoint's policy is
    /// [`Backpressure::Block`], this waits until a buffer is given back (the pool is
    /// full because messages are in flight: consumers free them); otherwise it fails
    /// with [`BusError::Pool`] at once, as [`Sender::try_loan`] always does.
    pub fn loan(&self, len: usize) -> Result<Loan, BusError> {
        if self.policy != Backpressure::Block {
            return self.try_loan(len);
        }
        let mut rounds = 0u32;
        let start = Instant::now();
        let mut last_check = start;
        loop {
            match Loan::new(&self.shared, len) {
                Err(BusError::Pool(PoolError::Exhausted { .. })) => {}
                other => return other,
            }
            if self.handle.lane.closed() & CONSUMER_GONE != 0 {
                return Err(BusError::EndpointGone(self.name.clone()));
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
                self.shared.check_peers(false)?;
                if !endpoint_live(&self.shared.view, self.to) {
                    return Err(BusError::EndpointGone(self.name.clone()));
                }
            }
        }
    }

    /// Borrows a buffer of `len` bytes, failing at once if the pool has none free.
    pub fn try_loan(&self, len: usize) -> Result<Loan, BusError> {
        Loan::new(&self.shared, len)
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
        if self.batch.is_some() {
            self.flush()?;
        }
        self.send_flagged(loan, FLAG_LZ4).map_err(|e| e.error)
    }

    /// How long a batch may wait for more messages (default 50 µs). The age is checked
    /// by [`Sender::send_batched`] and [`Sender::flush_if_due`]; there is no timer
    /// thread, so a sender that goes quiet should call [`Sender::flush`].
    pub fn set_batch_delay(&mut self, delay: Duration) {
        self.batch_delay = delay;
    }

    /// Queues a copy of a small message in the sender's current batch (a 64 KiB pool
    /// buffer); the batch is sent as one descriptor when it is full, when it is older
    /// than the batch delay, on [`Sender::flush`], before any unbatched send (so order
    /// is kept), and when the sender is dropped. The receiver gets each message
    /// separately. A message too big for a batch is sent on its own.
    pub fn send_batched(&mut self, data: &[u8]) -> Result<(), BusError> {
        let need = record_size(data.len());
        if need > BATCH_BYTES {
            self.flush()?;
            return self.send_copy(data);
        }
        if self
            .batch
            .as_ref()
            .is_some_and(|b| b.used + need > BATCH_BYTES)
        {
            self.flush()?;
        }
        let batch = match self.batch.as_mut() {
            Some(b) => b,
            None => {
                let loan = self.loan(BATCH_BYTES)?;
                self.batch.insert(PendingBatch {
                    loan,
                    used: 0,
                    records: 0,
                    started: Instant::now(),
                })
            }
        };
        batch.used = write_record(&mut batch.loan, batch.used, data);
        batch.records += 1;
        let full = batch.used + 8 > BATCH_BYTES;
        if full || (batch.records % 64 == 0 && batch.started.elapsed() >= self.batch_delay) {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the pending batch, if any, now.
    pub fn flush(&mut self) -> Result<(), BusError> {
        let Some(mut b) = self.batch.take() else {
            return Ok(());
        };
        b.loan.set_len(b.used)?;
        self.send_flagged(b.loan, FLAG_BATCH).map_err(|e| e.error)
    }

    /// Sends the pending batch if it is older than the batch delay.
    pub fn flush_if_due(&mut self) -> Result<(), BusError> {
        match &self.batch {
            Some(b) if b.started.elapsed() >= self.batch_delay => self.flush(),
            _ => Ok(()),
        }
    }

    /// Sends a loaned buffer: its descriptor goes into the lane, the bytes stay where
    /// they are. When the lane is full the endpoint's [`Backpressure`] policy applies.
    /// A pending batch is flushed first.
    pub fn send(&mut self, loan: Loan) -> Result<(), SendError> {
        if self.batch.is_some() {
            if let Err(error) = self.flush() {
                return Err(SendError { error, loan });
            }
        }
        self.send_flagged(loan, 0)
    }

    fn send_flagged(&mut self, loan: Loan, flags: u8) -> Result<(), SendError> {
        if !Arc::ptr_eq(&loan.shared, &self.shared) {
            return Err(SendError {
                error: BusError::InvalidConfig("the loan belongs to another bus".into()),
                loan,
            });
        }
        let words = loan.descriptor(flags).encode();
        let mut waited_since: Option<Instant> = None;
        loop {
            let op = self.shared.enter();
            if self.handle.lane.closed() & CONSUMER_GONE != 0 {
                drop(op);
                return Err(SendError {
                    error: BusError::EndpointGone(self.name.clone()),
                    loan,
                });
            }
            match self.handle.lane.push(words) {
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
                    return Err(SendError {
                        error: BusError::Corrupt("lane counters"),
                        loan,
                    });
                }
                Err(_full) => match self.policy {
                    Backpressure::Error => {
                        drop(op);
                        return Err(SendError {
                            error: BusError::Full,
                            loan,
                        });
                    }
                    Backpressure::DropOldest => {
                        if let Ok(Some(old)) = self.handle.lane.drop_oldest() {
                            release_descriptor(&self.shared, &Descriptor::decode(old));
                            self.shared
                                .view
                                .header()
                                .dropped
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Backpressure::Block => {
                        drop(op);
                        let since = *waited_since.get_or_insert_with(Instant::now);
                        if let Err(error) = self.wait_for_space(since) {
                            return Err(SendError { error, loan });
                        }
                    }
                },
            }
        }
    }

    /// Pushes raw descriptor words into the lane, as a buggy or hostile peer writing
    /// shared memory could; for tests of the receiver's validation. Not part of the
    /// supported API.
    #[doc(hidden)]
    pub fn push_raw_descriptor(&mut self, words: [u64; 2]) -> Result<(), BusError> {
        let op = self.shared.enter();
        let r = self.handle.lane.push(words);
        drop(op);
        self.notify();
        r.map_err(|_| BusError::Full)
    }

    /// Sends a loan with raw descriptor flags, as a buggy or hostile peer could; for
    /// tests of the receiver's validation. Not part of the supported API.
    #[doc(hidden)]
    pub fn send_with_raw_flags(&mut self, loan: Loan, flags: u8) -> Result<(), SendError> {
        self.send_flagged(loan, flags)
    }

    /// Wakes the consumer if it is parked.
    fn notify(&self) {
        if let Some(ep) = self.shared.view.endpoint(self.to.index) {
            wake_if_waiting(&ep.waiters, &ep.notify);
        }
    }

    /// One round of waiting for the consumer to make room: spin, then park on the lane's
    /// `space` word; checks that the consumer is alive every 100 ms.
    fn wait_for_space(&self, since: Instant) -> Result<(), BusError> {
        let view = &self.shared.view;
        let rec = view
            .lane_record(self.handle.index)
            .ok_or(BusError::Corrupt("lane index"))?;
        let lane = &self.handle.lane;
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
                self.shared.check_peers(false)?;
                if !endpoint_live(view, self.to) {
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
            self.shared.check_peers(false)?;
            if !endpoint_live(view, self.to) {
                lane.close(CONSUMER_GONE);
            }
        }
        Ok(())
    }
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("endpoint", &self.name)
            .field("lane", &self.handle.index)
            .finish()
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.flush();
        super::receiver::close_lane(&self.shared, &self.handle, PRODUCER_GONE);
    }
}
