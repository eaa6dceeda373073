//! [`Cluster`]: the simulator driven step by step from outside — crash, restart, join,
//! leave, partition and heal on demand, with every datagram and membership event
//! recorded — for interactive views (the browser's gossip view) and tests.

use alloc::vec::Vec;
use core::time::Duration;

use super::agent::EventKind;
use super::driver::Driver;
use super::{Scenario, SimConfig};
use crate::membership::Status;
use crate::time::Instant;

/// At most this many datagrams (and, separately, events) are kept between two
/// [`Cluster::take_messages`] ([`Cluster::take_events`]) calls; later ones are dropped,
/// so a view that stops reading does not grow memory without bound.
pub const MAX_RECORDED: usize = 1 << 16;

/// A membership event seen by one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterEvent {
    /// When (simulated time).
    pub at: Instant,
    /// The member that saw it.
    pub observer: usize,
    /// What happened.
    pub kind: EventKind,
    /// The member it is about.
    pub member: usize,
}

/// A simulated cluster under outside control. It starts with `config.nodes` members
/// that all know each other (member `i` is `"node-i"`, member 0 the seed); nothing
/// happens to it unless asked. The same config, seed and calls give the same run.
pub struct Cluster {
    d: Driver,
}

impl Cluster {
    /// A converged cluster of `config.nodes` members (the config's scenario,
    /// duration and warm-up are ignored).
    pub fn new(config: &SimConfig) -> Cluster {
        let mut cfg = config.clone();
        cfg.scenario = Scenario::Steady;
        cfg.warmup = Duration::ZERO;
        let mut d = Driver::new(cfg);
        d.record = true;
        d.setup();
        Cluster { d }
    }

    /// Simulated time now.
    pub fn now(&self) -> Instant {
        self.d.now()
    }

    /// Members so far (up or down).
    pub fn size(&self) -> usize {
        self.d.n()
    }

    /// Runs the cluster forward by `d` of simulated time.
    pub fn advance(&mut self, d: Duration) {
        let end = self.d.now() + d;
        self.d.run_until(end);
    }

    /// Whether member `i` is running.
    pub fn is_up(&self, i: usize) -> bool {
        self.d.is_up(i)
    }

    /// Stops member `i` without a goodbye (no-op if it is down or out of range).
    pub fn crash(&mut self, i: usize) {
        if self.is_up(i) {
            self.d.crash(i);
        }
    }

    /// Starts member `i` again with an empty view; it rejoins through member 0 (no-op
    /// if it is up or out of range).
    pub fn restart(&mut self, i: usize) {
        if i < self.size() && !self.is_up(i) {
            self.d.start(i, false);
        }
    }

    /// Adds a new member that knows only member 0 (a rumor to spread); its index.
    pub fn join(&mut self) -> usize {
        self.d.add_member()
    }

    /// Member `i` leaves on purpose (the classic protocol has no leave: it just
    /// stops).
    pub fn leave(&mut self, i: usize) {
        if self.is_up(i) {
            self.d.leave(i);
        }
    }

    /// Splits the network into halves `[0, n/2)` and `[n/2, n)`: no datagram crosses.
    pub fn partition(&mut self) {
        self.d.set_split(true);
    }

    /// Joins the halves again.
    pub fn heal(&mut self) {
        self.d.set_split(false);
    }

    /// Whether the network is split.
    pub fn is_partitioned(&self) -> bool {
        self.d.is_split()
    }

    /// How `observer` sees `member`; `None` when the observer is down or does not
    /// know the member.
    pub fn status(&self, observer: usize, member: usize) -> Option<Status> {
        self.d.status(observer, member)
    }

    /// Datagrams sent since the last call, as (from, to).
    pub fn take_messages(&mut self) -> Vec<(u32, u32)> {
        core::mem::take(&mut self.d.messages)
    }

    /// Membership events since the last call, in time order.
    pub fn take_events(&mut self) -> Vec<ClusterEvent> {
        core::mem::take(&mut self.d.events)
    }

    /// Whether every up member sees every other up member alive and no down member
    /// alive or suspect.
    pub fn converged(&self) -> bool {
        let n = self.size();
        (0..n).filter(|&i| self.is_up(i)).all(|i| {
            (0..n).filter(|&j| j != i).all(|j| {
                let s = self.status(i, j);
                if self.is_up(j) {
                    s == Some(Status::Alive)
                } else {
                    !s.is_some_and(Status::is_live)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Protocol;

    fn cluster(protocol: Protocol, n: usize, seed: u64) -> Cluster {
        let mut cfg = SimConfig::new(protocol, n, Scenario::Steady);
        cfg.seed = seed;
        Cluster::new(&cfg)
    }

    fn run_until_converged(c: &mut Cluster, limit: Duration) -> bool {
        let end = c.now() + limit;
        while c.now() < end {
            c.advance(Duration::from_millis(100));
            if c.converged() {
                return true;
            }
        }
        false
    }

    #[test]
    fn starts_converged_and_stays_so() {
        let mut c = cluster(Protocol::Shoal, 12, 1);
        assert!(c.converged());
        c.advance(Duration::from_secs(5));
        assert!(c.converged());
        assert!(!c.take_messages().is_empty(), "members gossip");
        assert_eq!(c.now(), Instant::ZERO + Duration::from_secs(5));
    }

    #[test]
    fn a_crash_is_detected_and_a_restart_rejoins() {
        let mut c = cluster(Protocol::Shoal, 12, 2);
        c.advance(Duration::from_secs(1));
        c.crash(5);
        assert!(!c.is_up(5));
        assert!(!c.converged(), "others still see node-5 alive");
        assert!(run_until_converged(&mut c, Duration::from_secs(60)));
        let events = c.take_events();
        assert!(events
            .iter()
            .any(|e| e.member == 5 && e.kind == EventKind::Failed));
        assert!(
            events
                .iter()
                .filter(|e| e.kind == EventKind::Failed)
                .all(|e| e.member == 5),
            "no false failures"
        );
        c.restart(5);
        assert!(run_until_converged(&mut c, Duration::from_secs(60)));
        assert!((0..12)
            .filter(|&i| i != 5)
            .all(|i| c.status(i, 5) == Some(Status::Alive)));
    }

    #[test]
    fn a_joiner_spreads_and_a_leaver_is_left() {
        let mut c = cluster(Protocol::Shoal, 10, 3);
        let j = c.join();
        assert_eq!(j, 10);
        assert_eq!(c.size(), 11);
        assert!(run_until_converged(&mut c, Duration::from_secs(30)));
        assert!((0..10).all(|i| c.status(i, j) == Some(Status::Alive)));
        c.leave(3);
        assert!(run_until_converged(&mut c, Duration::from_secs(30)));
        assert!(c
            .take_events()
            .iter()
            .any(|e| e.member == 3 && e.kind == EventKind::Left));
    }

    #[test]
    fn a_partition_splits_views_and_healing_merges_them() {
        let mut c = cluster(Protocol::Shoal, 10, 4);
        c.partition();
        assert!(c.is_partitioned());
        c.advance(Duration::from_secs(30));
        // Across the cut, members no longer see each other alive.
        assert_ne!(c.status(0, 9), Some(Status::Alive));
        assert!(!c.converged());
        c.heal();
        assert!(run_until_converged(&mut c, Duration::from_secs(120)));
    }

    #[test]
    fn same_seed_same_run() {
        let run = |seed| {
            let mut c = cluster(Protocol::Shoal, 8, seed);
            c.crash(3);
            c.advance(Duration::from_secs(20));
            (c.take_messages(), c.take_events())
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).0, run(8).0);
    }

    #[test]
    fn unread_records_stay_bounded() {
        let mut c = cluster(Protocol::Shoal, 40, 6);
        // Far more datagrams than the cap, none taken until the end.
        c.advance(Duration::from_secs(600));
        assert_eq!(c.take_messages().len(), MAX_RECORDED);
        c.advance(Duration::from_secs(1));
        let fresh = c.take_messages().len();
        assert!(
            fresh > 0 && fresh < MAX_RECORDED,
            "recording resumes after a take"
        );
    }

    #[test]
    fn the_classic_protocol_detects_a_crash_too() {
        let mut c = cluster(Protocol::Classic, 8, 5);
        c.crash(2);
        assert!(run_until_converged(&mut c, Duration::from_secs(120)));
    }
}
