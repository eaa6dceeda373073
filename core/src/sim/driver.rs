//! The event loop: members, the network, the scenario's steps and the metrics.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

use super::agent::{Agent, EventKind};
use super::classic::Classic;
use super::net::{addr_of, index_of, Item, Queue};
use super::report::{Percentiles, Report};
use super::{Protocol, Scenario, SimConfig};
use crate::hash::{mix64, node_hash};
use crate::membership::{Member, MemberTable, Membership, Meta, Status, Transmit};
use crate::rng::Rng;
use crate::time::Instant;
use crate::wire::{Codec, CodecConfig, Key, Keyring, ReplayConfig};

/// A crash being watched: who has marked the victim failed, and when.
struct Watch {
    victim: usize,
    at: Instant,
    detected: Vec<Option<Duration>>,
}

pub(super) struct Driver {
    cfg: SimConfig,
    now: Instant,
    queue: Queue,
    agents: Vec<Option<Agent>>,
    wake: Vec<(Instant, u64)>,
    rng: Rng,
    keys: Vec<u64>,
    index: BTreeMap<u64, usize>,
    started: Vec<Instant>,
    group: Vec<u8>,
    split: bool,
    shared: Option<MemberTable>,
    // metrics
    t0: Instant,
    reached: Vec<Option<Duration>>,
    watches: Vec<Watch>,
    false_failures: u64,
    load_window: (Instant, Instant),
    load_msgs: u64,
    load_bytes: u64,
    lost: u64,
    delivered: u64,
    event_buf: Vec<(EventKind, u64)>,
    failed_buf: Vec<u64>,
    /// Record datagrams and events for [`super::Cluster`].
    pub(super) record: bool,
    pub(super) messages: Vec<(u32, u32)>,
    pub(super) events: Vec<super::ClusterEvent>,
}

fn member_id(i: usize) -> alloc::string::String {
    format!("node-{i}")
}

/// Runs one simulation and returns its measurements.
pub fn run(cfg: &SimConfig) -> Report {
    let mut d = Driver::new(cfg.clone());
    d.setup();
    d.main_loop();
    d.report()
}

impl Driver {
    pub(super) fn new(cfg: SimConfig) -> Driver {
        let n = cfg.nodes.max(1);
        let keys: Vec<u64> = (0..n).map(|i| node_hash(member_id(i).as_bytes())).collect();
        let index = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let mut agents = Vec::with_capacity(n);
        agents.resize_with(n, || None);
        Driver {
            rng: Rng::new(mix64(cfg.seed ^ 0x51u64)),
            now: Instant::ZERO,
            queue: Queue::default(),
            agents,
            wake: vec![(Instant::MAX, 0); n],
            keys,
            index,
            started: vec![Instant::ZERO; n],
            group: vec![0; n],
            split: false,
            shared: None,
            t0: Instant::ZERO,
            reached: vec![None; n],
            watches: Vec::new(),
            false_failures: 0,
            load_window: (Instant::ZERO, Instant::MAX),
            load_msgs: 0,
            load_bytes: 0,
            lost: 0,
            delivered: 0,
            event_buf: Vec::new(),
            failed_buf: Vec::new(),
            record: false,
            messages: Vec::new(),
            events: Vec::new(),
            cfg,
        }
    }

    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n)
    }

    fn unit(&mut self) -> f64 {
        self.rng.unit()
    }

    pub(super) fn n(&self) -> usize {
        self.agents.len()
    }

    fn codec(&mut self) -> Codec {
        let mut c = CodecConfig::new("shoal-sim");
        if self.cfg.authenticate {
            c.keyring = Some(Keyring::new(Key::from_bytes([7u8; 32])));
        }
        // Small replay memories: 100 000 members each hear from many senders.
        c.replay = ReplayConfig {
            max_sessions: 64,
            ..ReplayConfig::default()
        };
        let session = self.random();
        Codec::new(c, session).expect("valid simulator codec")
    }

    /// Starts member `i`; `converged` gives it the shared converged view.
    pub(super) fn start(&mut self, i: usize, converged: bool) {
        let now = self.now;
        let seed = self.random();
        let codec = self.codec();
        let id = member_id(i);
        let addr = addr_of(i);
        let seeds = [addr_of(0)];
        let agent = match self.cfg.protocol {
            Protocol::Shoal => {
                let mut mcfg = self.cfg.membership.clone();
                mcfg.gossip_fanout = self.cfg.fanout;
                let known = if converged {
                    self.shared.clone().unwrap_or_default()
                } else {
                    MemberTable::new()
                };
                let local = Member::new(&id, addr, Meta::default());
                let mut m = Membership::new(mcfg, local, codec, seed, known, now)
                    .expect("valid simulator config");
                if i != 0 {
                    m.join(now, &seeds);
                }
                Agent::Shoal(Box::new(m))
            }
            Protocol::Classic => {
                let mut ccfg = self.cfg.classic.clone();
                ccfg.fanout = self.cfg.fanout;
                let known: Vec<(u64, SocketAddr)> = if converged {
                    (0..self.converged_size())
                        .map(|j| (self.keys[j], addr_of(j)))
                        .collect()
                } else {
                    Vec::new()
                };
                let mut c = Classic::new(ccfg, &id, addr, codec, seed, &known, now);
                c.join(&seeds);
                Agent::Classic(Box::new(c))
            }
        };
        self.agents[i] = Some(agent);
        self.started[i] = now;
        self.after(i);
    }

    fn converged_size(&self) -> usize {
        match self.cfg.scenario {
            Scenario::Rumor => self.n() - 1,
            _ => self.n(),
        }
    }

    pub(super) fn setup(&mut self) {
        let n = self.n();
        let w = self.cfg.warmup;
        match self.cfg.scenario {
            Scenario::Join => {
                self.t0 = Instant::ZERO;
                self.load_window = (Instant::ZERO, Instant::MAX);
                self.start(0, false);
                for i in 1..n {
                    let at = if self.cfg.stagger.is_zero() {
                        Instant::ZERO
                    } else {
                        Instant::ZERO + self.cfg.stagger.mul_f64(self.unit())
                    };
                    self.queue.push(at, Item::Action(i));
                }
            }
            _ => {
                if self.cfg.protocol == Protocol::Shoal {
                    let mut t = MemberTable::new();
                    for j in 0..self.converged_size() {
                        t.insert(Member::new(&member_id(j), addr_of(j), Meta::default()));
                    }
                    self.shared = Some(t);
                }
                for i in 0..self.converged_size() {
                    self.start(i, true);
                }
                self.shared = None;
                let at = Instant::ZERO + w;
                self.t0 = at;
                self.load_window = (Instant::from_millis(1000), at);
                match self.cfg.scenario {
                    Scenario::Rumor | Scenario::Crash => self.queue.push(at, Item::Action(0)),
                    Scenario::Partition => {
                        self.queue.push(at, Item::Action(0));
                        self.queue.push(at + self.cfg.partition, Item::Action(1));
                    }
                    Scenario::Churn => {
                        self.load_window = (Instant::from_millis(1000), Instant::MAX);
                        self.queue.push(at, Item::Action(0));
                    }
                    Scenario::Steady => {
                        self.load_window = (Instant::from_millis(1000), Instant::MAX);
                    }
                    Scenario::Join => {}
                }
            }
        }
        self.queue
            .push(Instant::ZERO + self.cfg.check_interval, Item::Check);
    }

    fn action(&mut self, step: usize) {
        match self.cfg.scenario {
            Scenario::Join => self.start(step, false),
            Scenario::Rumor => {
                let i = self.n() - 1;
                self.start(i, false);
            }
            Scenario::Crash => {
                let victim = 1 + self.below(self.n() - 1);
                self.crash(victim);
            }
            Scenario::Partition => {
                if step == 0 {
                    let half = self.n() / 2;
                    for i in 0..self.n() {
                        self.group[i] = u8::from(i >= half);
                    }
                    self.split = true;
                } else {
                    self.split = false;
                    self.t0 = self.now;
                    self.reached.iter_mut().for_each(|r| *r = None);
                }
            }
            Scenario::Churn => {
                let down: Vec<usize> = (1..self.n())
                    .filter(|&i| self.agents[i].is_none())
                    .collect();
                let victim = 1 + self.below(self.n() - 1);
                if self.agents[victim].is_some() {
                    self.crash(victim);
                }
                if !down.is_empty() {
                    let r = down[self.below(down.len())];
                    self.start(r, false);
                }
                let next = self.now + self.cfg.churn_interval;
                self.queue.push(next, Item::Action(step + 1));
            }
            Scenario::Steady => {}
        }
    }

    pub(super) fn crash(&mut self, victim: usize) {
        self.agents[victim] = None;
        self.wake[victim].1 += 1;
        let n = self.n();
        self.watches.push(Watch {
            victim,
            at: self.now,
            detected: vec![None; n],
        });
    }

    /// After a member ran: send its datagrams, collect its failure marks, re-arm its
    /// timer.
    fn after(&mut self, i: usize) {
        let Some(agent) = self.agents[i].as_mut() else {
            return;
        };
        let mut out: Vec<Transmit> = Vec::new();
        while let Some(t) = agent.poll_transmit() {
            out.push(t);
        }
        self.event_buf.clear();
        agent.drain_events(&mut self.event_buf);
        let next = agent.poll_timeout();
        self.failed_buf.clear();
        for &(kind, key) in &self.event_buf {
            if kind == EventKind::Failed {
                self.failed_buf.push(key);
            }
            if self.record && self.events.len() < super::cluster::MAX_RECORDED {
                if let Some(&member) = self.index.get(&key) {
                    self.events.push(super::ClusterEvent {
                        at: self.now,
                        observer: i,
                        kind,
                        member,
                    });
                }
            }
        }
        let in_window = self.now >= self.load_window.0 && self.now < self.load_window.1;
        for t in out {
            if in_window {
                self.load_msgs += 1;
                self.load_bytes += t.payload.len() as u64;
            }
            let Some(to) = index_of(t.to).filter(|&j| j < self.n()) else {
                continue;
            };
            if self.record && self.messages.len() < super::cluster::MAX_RECORDED {
                self.messages.push((i as u32, to as u32));
            }
            if self.split && self.group[i] != self.group[to] {
                self.lost += 1;
                continue;
            }
            if self.cfg.net.loss > 0.0 && self.unit() < self.cfg.net.loss {
                self.lost += 1;
                continue;
            }
            let (lo, hi) = self.cfg.net.latency;
            let lat = lo + (hi.saturating_sub(lo)).mul_f64(self.unit());
            self.queue.push(
                self.now + lat,
                Item::Deliver {
                    to,
                    from: i,
                    bytes: t.payload,
                },
            );
        }
        // Only churn restarts members; elsewhere every failure mark of an up member is
        // false.
        let grace = if self.cfg.scenario == Scenario::Churn {
            Duration::from_secs(10)
        } else {
            Duration::ZERO
        };
        let failed = core::mem::take(&mut self.failed_buf);
        for k in &failed {
            if let Some(&j) = self.index.get(k) {
                let up_long =
                    self.agents[j].is_some() && self.now.saturating_since(self.started[j]) > grace;
                if up_long && self.cfg.scenario != Scenario::Partition {
                    self.false_failures += 1;
                }
            }
        }
        self.failed_buf = failed;
        if next != self.wake[i].0 {
            self.wake[i].0 = next;
            self.wake[i].1 += 1;
            let generation = self.wake[i].1;
            self.queue.push(
                next.max(self.now),
                Item::Wake {
                    node: i,
                    generation,
                },
            );
        }
    }

    fn main_loop(&mut self) {
        self.run_until(Instant::ZERO + self.cfg.duration);
    }

    /// Runs every event due at or before `end`; stops early (returning true) when the
    /// scenario's measurements are complete. Afterwards the clock reads `end` unless
    /// it stopped early.
    pub(super) fn run_until(&mut self, end: Instant) -> bool {
        while let Some(at) = self.queue.peek_time() {
            if at > end {
                break;
            }
            let Some((at, item)) = self.queue.pop() else {
                break;
            };
            self.now = at;
            match item {
                Item::Deliver { to, from, bytes } => {
                    if let Some(a) = self.agents[to].as_mut() {
                        self.delivered += 1;
                        a.handle_datagram(at, addr_of(from), &bytes);
                        self.after(to);
                    }
                }
                Item::Wake { node, generation } => {
                    if generation == self.wake[node].1 {
                        self.wake[node].0 = Instant::MAX;
                        if let Some(a) = self.agents[node].as_mut() {
                            a.handle_timeout(at);
                            self.after(node);
                        }
                    }
                }
                Item::Action(step) => self.action(step),
                Item::Check => {
                    if self.check() {
                        return true;
                    }
                    self.queue.push(at + self.cfg.check_interval, Item::Check);
                }
            }
        }
        self.now = self.now.max(end);
        false
    }

    /// Samples the metrics; returns true when the run can stop.
    fn check(&mut self) -> bool {
        let now = self.now;
        let since = now.saturating_since(self.t0);
        // Detection of crashes.
        for w in &mut self.watches {
            let vk = self.keys[w.victim];
            for (j, a) in self.agents.iter().enumerate() {
                let Some(a) = a else { continue };
                if w.detected[j].is_none()
                    && !matches!(a.status_of(vk), Some(Status::Alive | Status::Suspect))
                {
                    w.detected[j] = Some(now.saturating_since(w.at));
                }
            }
        }
        match self.cfg.scenario {
            Scenario::Join | Scenario::Partition => {
                if now < self.t0 || (self.cfg.scenario == Scenario::Partition && self.split) {
                    return false;
                }
                let up = self.agents.iter().filter(|a| a.is_some()).count();
                let total_started = self.n();
                for j in 0..self.n() {
                    let Some(a) = &self.agents[j] else { continue };
                    if self.reached[j].is_none()
                        && a.live_count() == total_started
                        && up == total_started
                    {
                        self.reached[j] = Some(since);
                    }
                }
                self.reached.iter().all(|r| r.is_some())
            }
            Scenario::Rumor => {
                if now < self.t0 {
                    return false;
                }
                let target = self.keys[self.n() - 1];
                for j in 0..self.n() - 1 {
                    let Some(a) = &self.agents[j] else { continue };
                    if self.reached[j].is_none()
                        && matches!(a.status_of(target), Some(Status::Alive | Status::Suspect))
                    {
                        self.reached[j] = Some(since);
                    }
                }
                self.reached[..self.n() - 1].iter().all(|r| r.is_some())
            }
            Scenario::Crash => self.watches.first().is_some_and(|w| {
                w.detected
                    .iter()
                    .enumerate()
                    .all(|(j, d)| d.is_some() || self.agents[j].is_none())
            }),
            Scenario::Churn | Scenario::Steady => false,
        }
    }

    fn report(&self) -> Report {
        let n = self.n();
        let converged = match self.cfg.scenario {
            Scenario::Rumor => Percentiles::from_times(&self.reached[..n - 1], n - 1),
            Scenario::Join | Scenario::Partition => Percentiles::from_times(&self.reached, n),
            _ => Percentiles::default(),
        };
        let mut detection_times = Vec::new();
        let mut first: Option<Duration> = None;
        let mut detection = Percentiles::default();
        for (wi, w) in self.watches.iter().enumerate() {
            let times: Vec<Option<Duration>> = w
                .detected
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != w.victim)
                .map(|(_, d)| *d)
                .collect();
            detection_times.extend(times.iter().flatten().copied());
            let f = times.iter().flatten().min().copied();
            if wi == 0 {
                first = f;
                let up = times.len();
                detection = Percentiles::from_times(&times, up);
            }
        }
        let (w0, mut w1) = self.load_window;
        if w1 <= w0 {
            w1 = Instant::MAX;
        }
        let span = self
            .now
            .min(w1)
            .saturating_since(w0)
            .as_secs_f64()
            .max(1e-9);
        let members = self.agents.iter().filter(|a| a.is_some()).count().max(1) as f64;
        Report {
            protocol: self.cfg.protocol,
            scenario: self.cfg.scenario,
            nodes: n,
            fanout: self.cfg.fanout,
            loss: self.cfg.net.loss,
            seed: self.cfg.seed,
            round: self.cfg.round(),
            converged,
            detection_first: first,
            detection,
            detection_times,
            false_failures: self.false_failures,
            msgs_per_member_sec: self.load_msgs as f64 / members / span,
            bytes_per_member_sec: self.load_bytes as f64 / members / span,
            lost: self.lost,
            delivered: self.delivered,
            simulated: self.now.saturating_since(Instant::ZERO),
        }
    }
}

/// Interactive control, for [`super::Cluster`].
impl Driver {
    pub(super) fn now(&self) -> Instant {
        self.now
    }

    pub(super) fn is_up(&self, i: usize) -> bool {
        self.agents.get(i).is_some_and(Option::is_some)
    }

    /// How `observer` sees `member` (`None`: down observer or unknown member).
    pub(super) fn status(&self, observer: usize, member: usize) -> Option<Status> {
        let a = self.agents.get(observer)?.as_ref()?;
        a.status_of(*self.keys.get(member)?)
    }

    /// Adds a member slot and starts a fresh member there that knows only member 0.
    pub(super) fn add_member(&mut self) -> usize {
        let i = self.n();
        let key = node_hash(member_id(i).as_bytes());
        self.keys.push(key);
        self.index.insert(key, i);
        self.agents.push(None);
        self.wake.push((Instant::MAX, 0));
        self.started.push(self.now);
        self.group.push(u8::from(self.split && i >= self.n() / 2));
        self.reached.push(None);
        for w in &mut self.watches {
            w.detected.push(None);
        }
        self.start(i, false);
        i
    }

    /// Member `i` leaves on purpose: it says goodbye, then stops.
    pub(super) fn leave(&mut self, i: usize) {
        let now = self.now;
        if let Some(a) = self.agents[i].as_mut() {
            a.leave(now);
            self.after(i);
            self.agents[i] = None;
            self.wake[i].1 += 1;
        }
    }

    /// Splits the members into halves `[0, n/2)` and `[n/2, n)` (true) or heals.
    pub(super) fn set_split(&mut self, split: bool) {
        let half = self.n() / 2;
        for (i, g) in self.group.iter_mut().enumerate() {
            *g = u8::from(i >= half);
        }
        self.split = split;
    }

    pub(super) fn is_split(&self) -> bool {
        self.split
    }
}
