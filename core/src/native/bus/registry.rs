//! Named endpoints and the lanes that lead to them: finding, claiming and giving back
//! records in the segment's tables.
//!
//! Claims of endpoints and lanes are rare, so they take the registry lock (a word in
//! the header holding the claimer's token; a lock left by a dead process is taken
//! over). The hot paths (send, receive) never take it.

use core::sync::atomic::Ordering;
use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::config::Backpressure;
use super::error::BusError;
use super::layout::{claim, load_name, name_is, store_name, View, FREE, LIVE, MAX_NAME};
use super::procs::{proc_alive, Me};
use crate::pool::Lane;

/// Endpoint kinds: a consumer's queue.
pub(crate) const QUEUE: u32 = 0;
/// A topic: a name and a list of subscriber queues, owned by no process.
pub(crate) const TOPIC: u32 = 1;
/// `owner_proc` of records no process owns (topics).
pub(crate) const NO_OWNER: u32 = u32::MAX;

/// Lane close bits (in the pool lane's `closed` word).
pub(crate) const PRODUCER_GONE: u32 = 1;
/// The consumer closed its endpoint or died.
pub(crate) const CONSUMER_GONE: u32 = 2;

/// Checks an endpoint or topic name: 1..=64 bytes of `[A-Za-z0-9._/:-]`.
pub(crate) fn check_name(name: &str) -> Result<(), BusError> {
    let ok_char = |c: u8| c.is_ascii_alphanumeric() || b"._/:-".contains(&c);
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(BusError::InvalidName(std::format!(
            "endpoint name {name:?} must be 1 to {MAX_NAME} bytes long"
        )));
    }
    if !name.bytes().all(ok_char) {
        return Err(BusError::InvalidName(std::format!(
            "endpoint name {name:?} may only contain letters, digits and . _ / : -"
        )));
    }
    Ok(())
}

/// Holds the registry lock.
pub(crate) struct RegistryLock<'a> {
    view: &'a View,
    token: u64,
}

impl Drop for RegistryLock<'_> {
    fn drop(&mut self) {
        let _ = self.view.header().registry_lock.compare_exchange(
            self.token,
            0,
            Ordering::Release,
            Ordering::Relaxed,
        );
    }
}

/// Takes the registry lock (waits up to 5 s; takes it over from a dead holder).
pub(crate) fn lock(view: &View, me: Me) -> Result<RegistryLock<'_>, BusError> {
    let word = &view.header().registry_lock;
    let token = me.token();
    let start = Instant::now();
    loop {
        let cur = word.load(Ordering::Relaxed);
        if cur == 0 {
            if word
                .compare_exchange(0, token, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(RegistryLock { view, token });
            }
            continue;
        }
        let holder = ((cur & 0xffff_ffff) as u32).checked_sub(1);
        let alive = holder.is_some_and(|i| proc_alive(view, i, (cur >> 32) as u32));
        if !alive
            && word
                .compare_exchange(cur, token, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return Ok(RegistryLock { view, token });
        }
        if start.elapsed() > Duration::from_secs(5) {
            return Err(BusError::PeerStalled);
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// A live endpoint: index and epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EndpointId {
    pub index: u32,
    pub epoch: u32,
}

/// Finds the live queue endpoint called `name`.
pub(crate) fn find_endpoint(view: &View, name: &str) -> Option<EndpointId> {
    find_kind(view, name, QUEUE)
}

fn find_kind(view: &View, name: &str, kind: u32) -> Option<EndpointId> {
    (0..view.layout.max_endpoints).find_map(|i| {
        let rec = view.endpoint(i)?;
        (rec.state.load(Ordering::Acquire) == LIVE
            && rec.kind.load(Ordering::Relaxed) == kind
            && name_is(rec, name.as_bytes()))
        .then(|| EndpointId {
            index: i,
            epoch: rec.epoch.load(Ordering::Relaxed),
        })
    })
}

/// Whether endpoint `id` is still the live record it was.
pub(crate) fn endpoint_live(view: &View, id: EndpointId) -> bool {
    view.endpoint(id.index).is_some_and(|rec| {
        rec.state.load(Ordering::Acquire) == LIVE && rec.epoch.load(Ordering::Relaxed) == id.epoch
    })
}

/// Claims endpoint `name` for this process. Fails if a live process already consumes
/// it; an endpoint left by a dead process must be repaired first (the caller does that
/// and retries).
pub(crate) fn claim_endpoint(
    view: &View,
    me: Me,
    name: &str,
    policy: Backpressure,
) -> Result<EndpointId, BusError> {
    check_name(name)?;
    let _lock = lock(view, me)?;
    if let Some(id) = find_endpoint(view, name) {
        let rec = view
            .endpoint(id.index)
            .ok_or(BusError::Corrupt("endpoint index"))?;
        let owner = rec.owner_proc.load(Ordering::Relaxed);
        let owner_epoch = rec.owner_epoch.load(Ordering::Relaxed);
        return Err(if proc_alive(view, owner, owner_epoch) {
            BusError::EndpointTaken(name.into())
        } else {
            BusError::PeerStalled
        });
    }
    claim_record(view, (me.index, me.epoch), name.as_bytes(), QUEUE, policy)
}

/// Fills a free endpoint record (the caller holds the registry lock).
fn claim_record(
    view: &View,
    owner: (u32, u32),
    name: &[u8],
    kind: u32,
    policy: Backpressure,
) -> Result<EndpointId, BusError> {
    for i in 0..view.layout.max_endpoints {
        let Some(rec) = view.endpoint(i) else { break };
        let Some(epoch) = claim(view, &rec.state) else {
            continue;
        };
        rec.epoch.store(epoch, Ordering::Relaxed);
        rec.owner_proc.store(owner.0, Ordering::Relaxed);
        rec.owner_epoch.store(owner.1, Ordering::Relaxed);
        rec.kind.store(kind, Ordering::Relaxed);
        rec.policy.store(policy as u32, Ordering::Relaxed);
        rec.waiters.store(0, Ordering::Relaxed);
        for s in &rec.subscribers {
            s.store(0, Ordering::Relaxed);
        }
        store_name(rec, name);
        rec.state.store(LIVE, Ordering::Release);
        return Ok(EndpointId { index: i, epoch });
    }
    Err(BusError::Capacity("endpoints (BusConfig::max_endpoints)"))
}

/// Finds topic `name`, creating it if needed.
pub(crate) fn topic(view: &View, me: Me, name: &str) -> Result<EndpointId, BusError> {
    check_name(name)?;
    let _lock = lock(view, me)?;
    match find_kind(view, name, TOPIC) {
        Some(id) => Ok(id),
        None => claim_record(
            view,
            (NO_OWNER, 0),
            name.as_bytes(),
            TOPIC,
            Backpressure::Block,
        ),
    }
}

/// A subscriber list entry: `(index + 1) | (epoch << 16)` (the epoch's low 16 bits).
fn subscriber_entry(id: EndpointId) -> u32 {
    (id.index + 1) | (id.epoch << 16)
}

/// The live endpoint a subscriber entry names, if it still exists.
fn live_subscriber(view: &View, v: u32) -> Option<EndpointId> {
    let index = (v & 0xffff).checked_sub(1)?;
    let rec = view.endpoint(index)?;
    let epoch = rec.epoch.load(Ordering::Relaxed);
    (rec.state.load(Ordering::Acquire) == LIVE && epoch & 0xffff == v >> 16)
        .then_some(EndpointId { index, epoch })
}

/// Creates an anonymous queue owned by this process and adds it to `topic`'s
/// subscribers.
pub(crate) fn subscribe(
    view: &View,
    me: Me,
    topic: EndpointId,
    policy: Backpressure,
) -> Result<EndpointId, BusError> {
    let _lock = lock(view, me)?;
    let rec = view
        .endpoint(topic.index)
        .ok_or(BusError::Corrupt("topic index"))?;
    let free = rec
        .subscribers
        .iter()
        .find(|s| {
            let v = s.load(Ordering::Relaxed);
            v == 0 || live_subscriber(view, v).is_none()
        })
        .ok_or(BusError::Capacity("subscribers of one topic (16)"))?;
    let sub = claim_record(view, (me.index, me.epoch), b"", QUEUE, policy)?;
    free.store(subscriber_entry(sub), Ordering::Relaxed);
    rec.version.fetch_add(1, Ordering::Release);
    Ok(sub)
}

/// Removes a subscriber queue from `topic`'s list.
pub(crate) fn unsubscribe(view: &View, topic: EndpointId, sub: EndpointId) {
    let Some(rec) = view.endpoint(topic.index) else {
        return;
    };
    let entry = subscriber_entry(sub);
    for s in &rec.subscribers {
        if s.compare_exchange(entry, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            rec.version.fetch_add(1, Ordering::Release);
        }
    }
}

/// The live subscriber queues of `topic`.
pub(crate) fn subscribers(view: &View, topic: EndpointId) -> Vec<EndpointId> {
    let Some(rec) = view.endpoint(topic.index) else {
        return Vec::new();
    };
    rec.subscribers
        .iter()
        .filter_map(|s| live_subscriber(view, s.load(Ordering::Acquire)))
        .collect()
}

/// Gives an endpoint record back (its lanes are closed separately).
pub(crate) fn release_endpoint(view: &View, id: EndpointId) {
    if let Some(rec) = view.endpoint(id.index) {
        if rec.epoch.load(Ordering::Relaxed) == id.epoch {
            let _ = rec
                .state
                .compare_exchange(LIVE, FREE, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

/// The name stored in an endpoint record (for error messages).
pub(crate) fn endpoint_name(view: &View, index: u32) -> String {
    let Some(rec) = view.endpoint(index) else {
        return String::new();
    };
    let (buf, len) = load_name(rec);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// A lane this process produces into or consumes from.
pub(crate) struct LaneHandle {
    pub index: u32,
    pub epoch: u32,
    pub lane: Lane,
}

/// Opens the ring of lane `index` (validating its header).
pub(crate) fn attach_lane(view: &View, index: u32, epoch: u32) -> Result<LaneHandle, BusError> {
    let (base, len) = view
        .lane_region(index)
        .ok_or(BusError::Corrupt("lane index"))?;
    // SAFETY: the region lies inside the mapping that `view`'s owner keeps alive.
    let lane = unsafe { Lane::attach(base, len) }?;
    if lane.capacity() != view.layout.lane_capacity {
        return Err(BusError::Corrupt(
            "lane capacity differs from the bus header",
        ));
    }
    Ok(LaneHandle { index, epoch, lane })
}

/// Claims a new lane from this process to `to` and tells the consumer about it.
pub(crate) fn claim_lane(view: &View, me: Me, to: EndpointId) -> Result<LaneHandle, BusError> {
    let _lock = lock(view, me)?;
    if !endpoint_live(view, to) {
        return Err(BusError::EndpointGone(endpoint_name(view, to.index)));
    }
    for i in 0..view.layout.max_lanes {
        let Some(rec) = view.lane_record(i) else {
            break;
        };
        let Some(epoch) = claim(view, &rec.state) else {
            continue;
        };
        let (base, len) = view.lane_region(i).ok_or(BusError::Corrupt("lane index"))?;
        // SAFETY: the region lies inside the live mapping, and the CLAIMING state makes
        // this process its only user until it is published below.
        let lane = match unsafe { Lane::init(base, len, view.layout.lane_capacity) } {
            Ok(lane) => lane,
            Err(e) => {
                rec.state.store(FREE, Ordering::Release);
                return Err(e.into());
            }
        };
        rec.epoch.store(epoch, Ordering::Relaxed);
        rec.producer_proc.store(me.index, Ordering::Relaxed);
        rec.producer_epoch.store(me.epoch, Ordering::Relaxed);
        rec.consumer.store(to.index, Ordering::Relaxed);
        rec.consumer_epoch.store(to.epoch, Ordering::Relaxed);
        rec.sender_waiting.store(0, Ordering::Relaxed);
        rec.state.store(LIVE, Ordering::Release);
        if let Some(ep) = view.endpoint(to.index) {
            ep.version.fetch_add(1, Ordering::Release);
        }
        return Ok(LaneHandle {
            index: i,
            epoch,
            lane,
        });
    }
    Err(BusError::Capacity("lanes (BusConfig::max_lanes)"))
}

/// The live lanes leading to endpoint `to`.
pub(crate) fn lanes_to(view: &View, to: EndpointId) -> impl Iterator<Item = (u32, u32)> + '_ {
    (0..view.layout.max_lanes).filter_map(move |i| {
        let rec = view.lane_record(i)?;
        (rec.state.load(Ordering::Acquire) == LIVE
            && rec.consumer.load(Ordering::Relaxed) == to.index
            && rec.consumer_epoch.load(Ordering::Relaxed) == to.epoch)
            .then(|| (i, rec.epoch.load(Ordering::Relaxed)))
    })
}
