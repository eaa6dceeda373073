//! [`Publisher`]: one write, every subscriber reads it (fan-out by reference count).

use core::sync::atomic::Ordering;
use std::string::String;
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::config::{Backpressure, LIVENESS_CHECK};
use super::error::BusError;
use super::large::release_descriptor;
use super::loan::Loan;
use super::receiver::close_lane;
use super::registry::{
    self, claim_lane, endpoint_live, EndpointId, LaneHandle, CONSUMER_GONE, PRODUCER_GONE,
};
use super::sender::SendError;
use super::shared::Shared;
use super::signal::wake_if_waiting;
use crate::pool::Descriptor;

/// One subscriber as the publisher sees it.
struct Subscriber {
    id: EndpointId,
    handle: LaneHandle,
    policy: Backpressure,
}

/// Publishes to a topic: each message is written once and its descriptor goes into a
/// lane to every current subscriber; the buffer's reference count is the number of
/// subscribers it reached, and it returns to the pool when the last one drops it.
///
/// Each subscriber's own backpressure policy applies to its lane; a subscriber that
/// refuses (policy [`Backpressure::Error`] and full) simply misses that message.
pub struct Publisher {
    shared: Arc<Shared>,
    topic: EndpointId,
    name: String,
    subscribers: Vec<Subscriber>,
    seen_version: u32,
}

impl Publisher {
    pub(crate) fn new(shared: &Arc<Shared>, topic: &str) -> Result<Publisher, BusError> {
        let id = registry::topic(&shared.view, shared.me, topic)?;
        Ok(Publisher {
            shared: shared.clone(),
            topic: id,
            name: topic.into(),
            subscribers: Vec::new(),
            seen_version: u32::MAX,
        })
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.name
    }

    /// Borrows a buffer of `len` bytes to write a message into (fails at once if the
    /// pool is exhausted).
    pub fn loan(&self, len: usize) -> Result<Loan, BusError> {
        Loan::new(&self.shared, len)
    }

    /// Current subscribers (after picking up joins and leaves).
    pub fn subscriber_count(&mut self) -> Result<usize, BusError> {
        self.refresh()?;
        Ok(self.subscribers.len())
    }

    fn refresh(&mut self) -> Result<(), BusError> {
        let view = &self.shared.view;
        let rec = view
            .endpoint(self.topic.index)
            .ok_or(BusError::Corrupt("topic index"))?;
        let version = rec.version.load(Ordering::Acquire);
        if version == self.seen_version {
            return Ok(());
        }
        let current = registry::subscribers(view, self.topic);
        let shared = self.shared.clone();
        self.subscribers.retain(|s| {
            let keep = current.contains(&s.id) && s.handle.lane.closed() & CONSUMER_GONE == 0;
            if !keep {
                close_lane(&shared, &s.handle, PRODUCER_GONE);
            }
            keep
        });
        for id in current {
            if self.subscribers.iter().any(|s| s.id == id) {
                continue;
            }
            let policy = view
                .endpoint(id.index)
                .map(|e| Backpressure::from_u32(e.policy.load(Ordering::Relaxed)))
                .unwrap_or_default();
            match claim_lane(view, self.shared.me, id) {
                Ok(handle) => self.subscribers.push(Subscriber { id, handle, policy }),
                Err(BusError::EndpointGone(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        self.seen_version = version;
        Ok(())
    }

    /// Publishes a copy of `data`; returns how many subscribers it reached.
    pub fn publish_copy(&mut self, data: &[u8]) -> Result<usize, BusError> {
        let mut loan = self.loan(data.len())?;
        loan.copy_from_slice(data);
        self.publish(loan).map_err(|e| e.error)
    }

    /// Publishes a loaned buffer to every current subscriber without copying it;
    /// returns how many it reached (0 if there are none: the buffer goes back).
    pub fn publish(&mut self, loan: Loan) -> Result<usize, SendError> {
        if let Err(error) = self.refresh() {
            return Err(SendError { error, loan });
        }
        let n = self.subscribers.len() as u32;
        if n == 0 {
            return Ok(0);
        }
        let words = loan.descriptor(0).encode();
        let shared = self.shared.clone();
        {
            let _op = shared.enter();
            // One reference per subscriber before any of them can see it.
            if let Err(error) = loan.retain(n - 1) {
                return Err(SendError { error, loan });
            }
            shared.held.remove(&shared.view, loan.held);
        }
        let mut loan = loan;
        loan.held = u32::MAX;
        let mut reached = 0;
        for s in &self.subscribers {
            if push_one(&shared, s, words) {
                reached += 1;
                notify(&shared, s.id);
            } else {
                let _op = shared.enter();
                loan.release_one();
            }
        }
        Ok(reached)
    }
}

/// Pushes into one subscriber's lane under its policy; false if it was not delivered.
fn push_one(shared: &Shared, s: &Subscriber, words: [u64; 2]) -> bool {
    let start = Instant::now();
    let mut last_check = start;
    let mut rounds = 0u32;
    loop {
        if s.handle.lane.closed() & CONSUMER_GONE != 0 {
            return false;
        }
        let op = shared.enter();
        match s.handle.lane.push(words) {
            Ok(()) => return true,
            Err(crate::pool::LaneError::Full) => match s.policy {
                Backpressure::Error => return false,
                Backpressure::DropOldest => {
                    if let Ok(Some(old)) = s.handle.lane.drop_oldest() {
                        release_descriptor(shared, &Descriptor::decode(old));
                        shared.view.header().dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Backpressure::Block => {
                    drop(op);
                    rounds = rounds.saturating_add(1);
                    if rounds < 128 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(Duration::from_micros(20));
                    }
                    if last_check.elapsed() >= LIVENESS_CHECK {
                        last_check = Instant::now();
                        let _ = shared.check_peers(false);
                        if !endpoint_live(&shared.view, s.id) {
                            s.handle.lane.close(CONSUMER_GONE);
                        }
                    }
                }
            },
            Err(_) => {
                shared.count_corrupt();
                return false;
            }
        }
    }
}

fn notify(shared: &Shared, id: EndpointId) {
    if let Some(ep) = shared.view.endpoint(id.index) {
        wake_if_waiting(&ep.waiters, &ep.notify);
    }
}

impl core::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.name)
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        for s in core::mem::take(&mut self.subscribers) {
            close_lane(&self.shared, &s.handle, PRODUCER_GONE);
        }
    }
}
