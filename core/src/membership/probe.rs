//! Failure detection: SWIM probes with indirect probes, Lifeguard suspicion and local
//! health.
//!
//! Every `probe_interval` this member pings the next live member of its own random
//! round ([`ProbeOrder`]: a random start and a random stride coprime with the live
//! count, drawn anew each round and whenever the count changes), so each member is
//! probed within one pass and different members probe in different orders (a shared
//! order would make every member probe the same one at the same time, leaving a
//! failed member unprobed for most of a pass). With no ack after
//! `probe_timeout` it asks `indirect_probes` others to ping the target for it; each
//! relays the ack, or answers with a nack when the target stays silent, which tells
//! this member its own network is working. With no ack by the end of the interval the
//! target becomes suspect. A suspicion turns into a failure after a timeout that starts
//! at `β·min` and shrinks toward `min = α·log10(N)·probe_interval` as independent
//! members confirm it (Lifeguard). Local health rises with missed acks and nacks and
//! with refutations of this member, and stretches probe timing so a member that is
//! itself slow does not accuse healthy ones.

use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

use super::engine::Membership;
use super::event::Event;
use super::member::Status;
use super::message::Msg;
use crate::time::Instant;

/// Most ping requests relayed at once (a flood of requests cannot grow memory).
const MAX_RELAYS: usize = 256;
/// Most suspects waiting for a confirming probe.
const MAX_TO_CONFIRM: usize = 16;

/// This member's order of probing: a permutation of the live ranks
/// `(start + step · stride) mod live`, `stride` coprime with `live`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeOrder {
    live: u64,
    start: u64,
    stride: u64,
    step: u64,
}

impl ProbeOrder {
    /// The next live rank to probe, with `live >= 1` members; starts a new random round
    /// when the last one is done or the live count changed.
    pub(crate) fn next(&mut self, live: usize, rng: &mut crate::rng::Rng) -> usize {
        let live = live.max(1) as u64;
        if live != self.live || self.step >= live {
            self.live = live;
            self.step = 0;
            self.start = rng.below(live as usize) as u64;
            self.stride = 1;
            if live > 2 {
                // Coprime strides are common (6/π² of them): a few draws suffice.
                for _ in 0..64 {
                    let s = 1 + rng.below(live as usize - 1) as u64;
                    if gcd(s, live) == 1 {
                        self.stride = s;
                        break;
                    }
                }
            }
        }
        let rank = (self.start + self.step * self.stride) % live;
        self.step += 1;
        rank as usize
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The probe in flight.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) target: u64,
    /// The target's version when the probe started: a failed probe of an older life
    /// says nothing about a newer one.
    pub(crate) version: (u64, u64),
    pub(crate) seq: u32,
    pub(crate) indirect_at: Instant,
    pub(crate) deadline: Instant,
    pub(crate) indirect: bool,
    pub(crate) nacks_expected: u32,
    pub(crate) nacks: u32,
}

impl Probe {
    pub(crate) fn next_deadline(&self) -> Instant {
        if self.indirect {
            self.deadline
        } else {
            self.indirect_at
        }
    }
}

/// A ping this member sends on behalf of another.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pub(crate) seq: u32,
    pub(crate) requester: SocketAddr,
    pub(crate) their_seq: u32,
    pub(crate) deadline: Instant,
}

/// A member this member suspects, and who else does.
#[derive(Debug, Clone)]
pub(crate) struct Suspicion {
    pub(crate) start: Instant,
    pub(crate) deadline: Instant,
    pub(crate) version: (u64, u64),
    pub(crate) accusers: Vec<u64>,
}

impl Membership {
    fn stretch(&self, d: Duration) -> Duration {
        d * (self.health + 1)
    }

    pub(crate) fn probe_timers(&mut self, now: Instant) {
        if let Some(p) = &self.probe {
            if !p.indirect && now >= p.indirect_at {
                let (target, seq) = (p.target, p.seq);
                let helpers = self.random_live(self.cfg.indirect_probes, &[target]);
                if let Some(addr) = self.table.get(target).map(|m| m.addr()) {
                    for h in &helpers {
                        let req = Msg::PingReq { seq, target, addr };
                        self.send(h.addr(), &[req], false);
                    }
                }
                if let Some(p) = &mut self.probe {
                    p.indirect = true;
                    p.nacks_expected = helpers.len() as u32;
                }
            }
        }
        if let Some(p) = &self.probe {
            if now >= p.deadline {
                let p = self.probe.take().expect("checked above");
                self.stats.failed_probes += 1;
                // Lifeguard: every missing nack counts against our own health; with
                // no helpers to send nacks, the failed probe itself does. When every
                // helper answered with a nack the network around us works and the
                // target is the one in trouble.
                let penalty = if p.nacks_expected > 0 {
                    p.nacks_expected.saturating_sub(p.nacks)
                } else {
                    1
                };
                self.health = (self.health + penalty).min(self.cfg.max_health);
                let same_life = self
                    .table
                    .get(p.target)
                    .is_some_and(|m| m.version() == p.version);
                if same_life {
                    self.suspect(now, p.target);
                }
            }
        }
        // Relays whose target stayed silent: tell the requester.
        let mut i = 0;
        while i < self.relays.len() {
            if now >= self.relays[i].deadline {
                let r = self.relays.swap_remove(i);
                self.send(r.requester, &[Msg::Nack { seq: r.their_seq }], false);
            } else {
                i += 1;
            }
        }
        if !self.leaving && self.probe.is_none() && now >= self.next_probe {
            self.start_probe(now);
            self.next_probe = now + self.stretch(self.cfg.probe_interval);
        }
    }

    fn start_probe(&mut self, now: Instant) {
        let live = self.table.live();
        if live < 2 {
            return;
        }
        let mut target = None;
        // Every other probe may go to a member someone else suspects: our own probe
        // then confirms the suspicion (shortening it) or carries it to the member so
        // it refutes at once.
        if !self.last_probe_confirmed {
            while let Some(k) = self.to_confirm.pop_front() {
                if let Some(m) = self.table.get(k) {
                    if m.status() == super::member::Status::Suspect {
                        target = Some(m.clone());
                        break;
                    }
                }
            }
        }
        self.last_probe_confirmed = target.is_some();
        for _ in 0..2 {
            if target.is_some() {
                break;
            }
            let rank = self.probe_order.next(live, &mut self.rng);
            if let Some(m) = self.table.nth_live(rank) {
                if m.key() != self.me.key() {
                    target = Some(m.clone());
                    break;
                }
            }
        }
        let Some(t) = target else { return };
        let seq = self.next_seq();
        self.stats.probes += 1;
        self.probe = Some(Probe {
            target: t.key(),
            version: t.version(),
            seq,
            indirect_at: now + self.stretch(self.cfg.probe_timeout),
            deadline: now + self.stretch(self.cfg.probe_interval),
            indirect: false,
            nacks_expected: 0,
            nacks: 0,
        });
        let mut msgs = Vec::with_capacity(2);
        msgs.push(Msg::Ping {
            seq,
            target: t.key(),
        });
        // Lifeguard's buddy system: tell a suspect it is suspected, so it refutes now.
        if t.status() == Status::Suspect {
            msgs.push(Msg::Update {
                member: t.clone(),
                accuser: 0,
                gossip: true,
            });
        }
        self.send(t.addr(), &msgs, true);
    }

    pub(crate) fn on_ping(&mut self, from: SocketAddr, seq: u32, target: u64) {
        if target == self.me.key() {
            self.send(from, &[Msg::Ack { seq }], true);
        }
    }

    pub(crate) fn on_ack(&mut self, _now: Instant, seq: u32) {
        if self.probe.as_ref().is_some_and(|p| p.seq == seq) {
            self.probe = None;
            self.health = self.health.saturating_sub(1);
            return;
        }
        if let Some(i) = self.relays.iter().position(|r| r.seq == seq) {
            let r = self.relays.swap_remove(i);
            self.send(r.requester, &[Msg::Ack { seq: r.their_seq }], true);
        }
    }

    pub(crate) fn on_nack(&mut self, seq: u32) {
        if let Some(p) = &mut self.probe {
            if p.seq == seq {
                p.nacks += 1;
            }
        }
    }

    pub(crate) fn on_ping_req(
        &mut self,
        now: Instant,
        from: SocketAddr,
        their_seq: u32,
        target: u64,
        addr: SocketAddr,
    ) {
        if self.relays.len() >= MAX_RELAYS || target == self.me.key() {
            return;
        }
        let seq = self.next_seq();
        self.relays.push(Relay {
            seq,
            requester: from,
            their_seq,
            // Leave the requester time to receive the nack before its own deadline.
            deadline: now + self.cfg.probe_timeout.mul_f64(0.8),
        });
        self.send(addr, &[Msg::Ping { seq, target }], true);
    }

    /// This member's own probe of `key` failed.
    pub(crate) fn suspect(&mut self, now: Instant, key: u64) {
        let Some(m) = self.table.get(key).cloned() else {
            return;
        };
        match m.status() {
            Status::Alive => {
                let s = m.with_status(Status::Suspect);
                self.store(&s);
                self.broadcasts.push(s.clone(), self.me.key());
                self.start_suspicion(now, key, s.version(), self.me.key());
                self.emit(Event::Suspected(s));
            }
            Status::Suspect => {
                if self.confirm(now, key, m.version(), self.me.key()) {
                    self.broadcasts.push(m, self.me.key());
                }
            }
            Status::Dead | Status::Left => {}
        }
    }

    pub(crate) fn start_suspicion(
        &mut self,
        now: Instant,
        key: u64,
        version: (u64, u64),
        accuser: u64,
    ) {
        if accuser != self.me.key()
            && self.to_confirm.len() < MAX_TO_CONFIRM
            && !self.to_confirm.contains(&key)
        {
            self.to_confirm.push_back(key);
        }
        let mut accusers = Vec::new();
        if accuser != 0 {
            accusers.push(accuser);
        }
        let timeout = self.cfg.suspicion_timeout(self.table.live(), 0);
        self.suspicions.insert(
            key,
            Suspicion {
                start: now,
                deadline: now + timeout,
                version,
                accusers,
            },
        );
    }

    /// Counts an independent accuser; returns true if it was new (then the suspicion
    /// is worth passing on).
    pub(crate) fn confirm(
        &mut self,
        now: Instant,
        key: u64,
        version: (u64, u64),
        accuser: u64,
    ) -> bool {
        if accuser == 0 {
            return false;
        }
        let n = self.table.live();
        let cap = self.cfg.suspicion_confirmations as usize + 1;
        let Some(s) = self.suspicions.get_mut(&key) else {
            self.start_suspicion(now, key, version, accuser);
            return true;
        };
        if s.version != version || s.accusers.contains(&accuser) || s.accusers.len() >= cap {
            return false;
        }
        s.accusers.push(accuser);
        let confirmations = s.accusers.len().saturating_sub(1) as u32;
        s.deadline = s.start + self.cfg.suspicion_timeout(n, confirmations);
        true
    }

    pub(crate) fn suspicion_timers(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .suspicions
            .iter()
            .filter(|(_, s)| now >= s.deadline)
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let Some(s) = self.suspicions.remove(&key) else {
                continue;
            };
            let Some(m) = self.table.get(key).cloned() else {
                continue;
            };
            if m.status() != Status::Suspect || m.version() != s.version {
                continue;
            }
            let dead = m.with_status(Status::Dead);
            self.store(&dead);
            self.broadcasts.push(dead.clone(), 0);
            self.dead_since.insert(key, now);
            self.stats.declared_failed += 1;
            self.emit(Event::Failed(dead));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProbeOrder;
    use crate::rng::Rng;
    use alloc::vec::Vec;

    #[test]
    fn a_round_visits_every_rank_once() {
        let mut rng = Rng::new(7);
        for live in 1..200usize {
            let mut order = ProbeOrder::default();
            let mut seen: Vec<usize> = (0..live).map(|_| order.next(live, &mut rng)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..live).collect::<Vec<_>>(), "live = {live}");
        }
    }

    #[test]
    fn members_probe_in_different_orders() {
        let live = 50;
        let rounds: Vec<Vec<usize>> = (0..20u64)
            .map(|seed| {
                let mut rng = Rng::new(seed);
                let mut order = ProbeOrder::default();
                (0..live).map(|_| order.next(live, &mut rng)).collect()
            })
            .collect();
        // When is rank 17 probed in each member's round: spread out, not all at once.
        let mut when: Vec<usize> = rounds
            .iter()
            .map(|r| r.iter().position(|&x| x == 17).unwrap())
            .collect();
        when.sort_unstable();
        when.dedup();
        assert!(when.len() >= 10, "{when:?}");
        assert!(when[0] < live / 4, "{when:?}");
    }

    #[test]
    fn a_new_live_count_starts_a_new_round() {
        let mut rng = Rng::new(1);
        let mut order = ProbeOrder::default();
        for _ in 0..3 {
            order.next(10, &mut rng);
        }
        let mut seen: Vec<usize> = (0..11).map(|_| order.next(11, &mut rng)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..11).collect::<Vec<_>>());
    }
}
