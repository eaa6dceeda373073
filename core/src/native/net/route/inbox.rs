//! The receiving side of routing: routed payloads for this member are handed to the
//! application's sink once per idempotency key `(origin, seq)`, however often they
//! arrive.
//!
//! Per origin the inbox keeps the sequence numbers delivered at or above the origin's
//! *floor* (every seq below it is acknowledged at the origin and never sent again), so
//! memory is bounded by the origin's window of unacknowledged payloads. Origins not
//! heard from for [`FORGET_AFTER`] are forgotten, at most [`MAX_ORIGINS`] are kept,
//! and at most [`MAX_SEEN`] seqs per origin.

use std::boxed::Box;
use std::collections::{BTreeSet, HashMap};
use std::string::{String, ToString};
use std::time::{Duration, Instant};

use super::frame::{code, Route};
use crate::router::Deliver;

/// Origins silent this long are forgotten.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Most origins remembered at once (the least recently heard is dropped).
pub(crate) const MAX_ORIGINS: usize = 4096;
/// Most delivered seqs remembered per origin above its floor.
pub(crate) const MAX_SEEN: usize = 1 << 20;

/// A [`Deliver`] with its error turned into text, so the node can hold any sink.
pub(crate) trait Sink: Send {
    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), String>;
}

struct Erased<D>(D);

impl<D: Deliver + Send> Sink for Erased<D> {
    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), String> {
        self.0
            .deliver(owner, key, payload)
            .map_err(|e| e.to_string())
    }
}

/// Boxes a [`Deliver`] as a sink.
pub(crate) fn sink<D: Deliver + Send + 'static>(d: D) -> Box<dyn Sink> {
    Box::new(Erased(d))
}

#[derive(Default)]
struct Seen {
    floor: u64,
    above: BTreeSet<u64>,
    last: Option<Instant>,
}

/// What became of one routed payload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Handed to the sink now.
    Delivered,
    /// Delivered before: acknowledged again, not handed over again.
    Duplicate,
    /// Not delivered: a `NACK` code and reason.
    Refused(u8, String),
}

/// Routed-payload counters of one node.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct InboxCounters {
    pub delivered: u64,
    pub duplicates: u64,
    pub refused: u64,
}

/// The node's routed-payload inbox.
#[derive(Default)]
pub(crate) struct Inbox {
    sink: Option<Box<dyn Sink>>,
    origins: HashMap<u64, Seen>,
    pub counters: InboxCounters,
}

impl Inbox {
    /// Sets (or with `None` removes) the sink routed payloads go to.
    pub fn set_sink(&mut self, sink: Option<Box<dyn Sink>>) {
        self.sink = sink;
    }

    /// Takes one routed payload addressed to member `me`.
    pub fn accept(&mut self, me: &str, f: &Route<'_>, now: Instant) -> Outcome {
        let out = self.decide(me, f, now);
        match out {
            Outcome::Delivered => self.counters.delivered += 1,
            Outcome::Duplicate => self.counters.duplicates += 1,
            Outcome::Refused(..) => self.counters.refused += 1,
        }
        out
    }

    fn decide(&mut self, me: &str, f: &Route<'_>, now: Instant) -> Outcome {
        if f.owner != me {
            let why = std::format!("{me:?} is not {:?} (stale placement)", f.owner);
            return Outcome::Refused(code::NOT_OWNER, why);
        }
        if self.sink.is_none() {
            let why = "this node takes no routed payloads (no sink)".to_string();
            return Outcome::Refused(code::NO_SINK, why);
        }
        if !self.origins.contains_key(&f.origin) {
            self.make_room(now);
        }
        let Some(sink) = self.sink.as_mut() else {
            return Outcome::Refused(code::NO_SINK, "no sink".to_string());
        };
        let seen = self.origins.entry(f.origin).or_default();
        seen.last = Some(now);
        if f.floor > seen.floor {
            seen.floor = f.floor;
            seen.above = seen.above.split_off(&f.floor);
        }
        if f.seq < seen.floor || seen.above.contains(&f.seq) {
            return Outcome::Duplicate;
        }
        if let Err(e) = sink.deliver(f.owner, f.key, f.payload) {
            return Outcome::Refused(code::SINK_FAILED, e);
        }
        seen.above.insert(f.seq);
        if seen.above.len() > MAX_SEEN {
            // Only an origin that ignores its own window gets here.
            seen.above.pop_first();
        }
        Outcome::Delivered
    }

    /// Forgets silent origins, and the least recently heard one when full.
    fn make_room(&mut self, now: Instant) {
        self.origins
            .retain(|_, s| s.last.is_some_and(|t| now.duration_since(t) < FORGET_AFTER));
        if self.origins.len() >= MAX_ORIGINS {
            let oldest = self
                .origins
                .iter()
                .min_by_key(|(_, s)| s.last)
                .map(|(&k, _)| k);
            if let Some(k) = oldest {
                self.origins.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::MemoryTransport;
    use std::sync::{Arc, Mutex};
    use std::vec::Vec;

    /// A sink recording payloads, shared with the test.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<Vec<u8>>>>);
    impl Deliver for Log {
        type Error = &'static str;
        fn deliver(&mut self, _o: &str, _k: &[u8], p: &[u8]) -> Result<(), &'static str> {
            if p == b"fail" {
                return Err("sink full");
            }
            self.0.lock().unwrap().push(p.to_vec());
            Ok(())
        }
    }

    fn route(seq: u64, floor: u64, payload: &[u8]) -> Route<'_> {
        Route {
            origin: 1,
            seq,
            floor,
            owner: "me",
            key: b"k",
            payload,
        }
    }

    #[test]
    fn delivers_each_idempotency_key_once() {
        let log = Log::default();
        let mut inbox = Inbox::default();
        let now = Instant::now();
        assert!(matches!(
            inbox.accept("me", &route(0, 0, b"a"), now),
            Outcome::Refused(code::NO_SINK, _)
        ));
        inbox.set_sink(Some(sink(log.clone())));
        assert_eq!(
            inbox.accept("me", &route(0, 0, b"a"), now),
            Outcome::Delivered
        );
        assert_eq!(
            inbox.accept("me", &route(5, 0, b"b"), now),
            Outcome::Delivered
        );
        assert_eq!(
            inbox.accept("me", &route(0, 0, b"a"), now),
            Outcome::Duplicate
        );
        assert_eq!(
            inbox.accept("me", &route(5, 0, b"b"), now),
            Outcome::Duplicate
        );
        // The floor moves past 0: 0 is forgotten but still a duplicate.
        assert_eq!(
            inbox.accept("me", &route(6, 3, b"c"), now),
            Outcome::Delivered
        );
        assert_eq!(
            inbox.accept("me", &route(0, 3, b"a"), now),
            Outcome::Duplicate
        );
        assert_eq!(inbox.origins[&1].above.len(), 2);
        assert_eq!(log.0.lock().unwrap().len(), 3);
        assert!(matches!(
            inbox.accept("other", &route(9, 3, b"d"), now),
            Outcome::Refused(code::NOT_OWNER, _)
        ));
        // A failed delivery is not remembered: the retry is delivered.
        assert!(matches!(
            inbox.accept("me", &route(7, 3, b"fail"), now),
            Outcome::Refused(code::SINK_FAILED, _)
        ));
        assert_eq!(
            inbox.accept("me", &route(7, 3, b"ok"), now),
            Outcome::Delivered
        );
        assert_eq!(inbox.counters.delivered, 4);
        assert_eq!(inbox.counters.duplicates, 3);
        assert_eq!(inbox.counters.refused, 3);
    }

    #[test]
    fn origins_are_bounded() {
        let mut inbox = Inbox::default();
        inbox.set_sink(Some(sink(MemoryTransport::new())));
        let now = Instant::now();
        for origin in 0..(MAX_ORIGINS as u64 + 10) {
            let mut f = route(0, 0, b"x");
            f.origin = origin;
            assert_eq!(inbox.accept("me", &f, now), Outcome::Delivered);
        }
        assert!(inbox.origins.len() <= MAX_ORIGINS);
        let later = now + FORGET_AFTER + Duration::from_secs(1);
        let mut f = route(0, 0, b"x");
        f.origin = u64::MAX;
        inbox.accept("me", &f, later);
        assert_eq!(inbox.origins.len(), 1);
    }
}
