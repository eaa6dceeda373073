//! Gossip membership from the outside: merge algebra (proptest), convergence under
//! reordered delivery, partitions, refutation, crash and leave detection, metadata,
//! key rotation on a running cluster, a battery of rejected datagrams, and the
//! simulator's determinism and sanity.
//!
//! Most tests drive real [`Membership`] state machines through [`Net`], a small
//! deterministic in-test network: a virtual clock, an in-flight queue with random
//! latencies (and optional loss, shuffling of simultaneous deliveries and a drop
//! predicate for partitions), all drawn from a seeded splitmix64 generator.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;
use shoal_core::membership::{
    merge, Config, DatagramError, Event, Member, MemberTable, Membership, Meta, Status,
};
use shoal_core::sim::{self, addr_of, index_of, Protocol, Scenario, SimConfig};
use shoal_core::time::Instant;
use shoal_core::wire::{Codec, CodecConfig, Key, Keyring, Reject};

// ---------------------------------------------------------------------------------
// Harness

/// splitmix64: the test's only source of randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const LABEL: &str = "membership-test";

fn id(i: usize) -> String {
    format!("m{i}")
}

/// A datagram on its way: `(arrival, order, from, to, bytes)`.
type Flight = Reverse<(Instant, u64, usize, usize, Vec<u8>)>;

/// N members at `10.0.0.(i+1):7946`, a virtual clock and the datagrams in flight.
struct Net {
    now: Instant,
    nodes: Vec<Membership>,
    /// False: crashed or stopped (no timers, nothing delivered to or from it).
    up: Vec<bool>,
    flights: BinaryHeap<Flight>,
    order: u64,
    rng: Rng,
    /// One-way latency, uniform in `[lo, hi]` microseconds.
    latency: (u64, u64),
    loss: f64,
    /// Probability that a datagram is delivered twice (the copy is a replay).
    dup: f64,
    /// Deliver simultaneous datagrams in random order.
    shuffle: bool,
    /// `(from, to)` datagrams for which this is true are dropped (checked when sent
    /// and when due).
    cut: Box<dyn Fn(usize, usize) -> bool>,
    /// Every event of every member, with its time.
    events: Vec<Vec<(Instant, Event)>>,
    /// Datagrams a member refused (`handle_datagram` errors).
    refused: u64,
}

impl Net {
    /// `n` members built by `codec(i)`. With `converged`, every member starts from a
    /// table that already holds everyone (as after a completed join).
    fn new(
        n: usize,
        seed: u64,
        cfg: &Config,
        converged: bool,
        codec: impl Fn(usize) -> CodecConfig,
    ) -> Net {
        let mut rng = Rng(seed);
        let mut shared = MemberTable::new();
        if converged {
            for i in 0..n {
                shared.insert(Member::new(&id(i), addr_of(i), Meta::default()));
            }
        }
        let nodes = (0..n)
            .map(|i| {
                let codec = Codec::new(codec(i), rng.next()).expect("codec");
                let local = Member::new(&id(i), addr_of(i), Meta::default());
                Membership::new(
                    cfg.clone(),
                    local,
                    codec,
                    rng.next(),
                    shared.clone(),
                    Instant::ZERO,
                )
                .expect("membership")
            })
            .collect();
        Net {
            now: Instant::ZERO,
            nodes,
            up: vec![true; n],
            flights: BinaryHeap::new(),
            order: 0,
            rng,
            latency: (1_000, 30_000),
            loss: 0.0,
            dup: 0.0,
            shuffle: false,
            cut: Box::new(|_, _| false),
            events: vec![Vec::new(); n],
            refused: 0,
        }
    }

    fn n(&self) -> usize {
        self.nodes.len()
    }

    /// Adds a member built by the test (at index `n()`, address `addr_of(n())`).
    fn add(&mut self, m: Membership) {
        self.nodes.push(m);
        self.up.push(true);
        self.events.push(Vec::new());
    }

    fn dropped(&self, from: usize, to: usize) -> bool {
        !self.up[from] || !self.up[to] || (self.cut)(from, to)
    }

    /// Moves every member's datagrams into flight and its events into the log.
    fn drain(&mut self) {
        for i in 0..self.n() {
            while let Some(t) = self.nodes[i].poll_transmit() {
                let Some(to) = index_of(t.to).filter(|&j| j < self.n()) else {
                    continue;
                };
                if self.dropped(i, to) || (self.loss > 0.0 && self.rng.unit() < self.loss) {
                    continue;
                }
                let copies = if self.rng.unit() < self.dup { 2 } else { 1 };
                for _ in 0..copies {
                    let (lo, hi) = self.latency;
                    let lat = lo + self.rng.below(hi - lo + 1);
                    let at = self.now + Duration::from_micros(lat);
                    self.order += 1;
                    let bytes = t.payload.clone();
                    self.flights.push(Reverse((at, self.order, i, to, bytes)));
                }
            }
            while let Some(e) = self.nodes[i].poll_event() {
                self.events[i].push((self.now, e));
            }
        }
    }

    /// Advances to the next timer or delivery, if it is not after `limit`; returns
    /// whether it did.
    fn step(&mut self, limit: Instant) -> bool {
        self.drain();
        let timer = (0..self.n())
            .filter(|&i| self.up[i])
            .map(|i| self.nodes[i].poll_timeout())
            .min()
            .unwrap_or(Instant::MAX);
        let flight = self.flights.peek().map_or(Instant::MAX, |f| f.0 .0);
        let t = timer.min(flight);
        if t > limit {
            self.now = limit;
            return false;
        }
        self.now = self.now.max(t);
        let mut due = Vec::new();
        while self.flights.peek().is_some_and(|f| f.0 .0 <= self.now) {
            due.push(self.flights.pop().expect("peeked").0);
        }
        if self.shuffle {
            for k in (1..due.len()).rev() {
                let j = self.rng.below(k as u64 + 1) as usize;
                due.swap(k, j);
            }
        }
        for (_, _, from, to, bytes) in due {
            if self.dropped(from, to) {
                continue;
            }
            if self.nodes[to]
                .handle_datagram(self.now, addr_of(from), &bytes)
                .is_err()
            {
                self.refused += 1;
            }
        }
        for i in 0..self.n() {
            if self.up[i] && self.nodes[i].poll_timeout() <= self.now {
                self.nodes[i].handle_timeout(self.now);
            }
        }
        self.drain();
        true
    }

    fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        let mut steps_here = 0u32;
        let mut last = self.now;
        while self.step(limit) {
            if self.now == last {
                steps_here += 1;
                assert!(steps_here < 100_000, "livelock at {}", self.now);
            } else {
                last = self.now;
                steps_here = 0;
            }
        }
    }

    /// Runs until `done` holds (checked every 50 ms) or `max` passed; returns the time
    /// it took.
    fn run_until(&mut self, max: Duration, mut done: impl FnMut(&Net) -> bool) -> Option<Duration> {
        let start = self.now;
        loop {
            if done(self) {
                return Some(self.now - start);
            }
            if self.now - start >= max {
                return None;
            }
            self.run_for(Duration::from_millis(50));
        }
    }

    /// Every up member has exactly the up members live, all alive.
    fn converged(&self) -> bool {
        let want: Vec<String> = (0..self.n()).filter(|&i| self.up[i]).map(id).collect();
        (0..self.n()).filter(|&i| self.up[i]).all(|i| {
            let live = self.nodes[i].live_members();
            let mut ids: Vec<String> = live.iter().map(|m| m.id().to_string()).collect();
            ids.sort();
            let mut w = want.clone();
            w.sort();
            ids == w && live.iter().all(|m| m.status() == Status::Alive)
        })
    }

    /// Every up member holds the same table.
    fn same_tables(&self) -> bool {
        let mut d = (0..self.n())
            .filter(|&i| self.up[i])
            .map(|i| self.nodes[i].table().digest());
        let first = d.next();
        d.all(|x| Some(x) == first)
    }

    /// Events of kind `kind` about member `about` seen by member `at`.
    fn count(&self, at: usize, kind: &str, about: usize) -> usize {
        let who = id(about);
        self.events[at]
            .iter()
            .filter(|(_, e)| e.kind() == kind && e.member().id() == who)
            .count()
    }

    /// Events of kind `kind` about anyone, at anyone.
    fn count_all(&self, kind: &str) -> usize {
        self.events
            .iter()
            .flatten()
            .filter(|(_, e)| e.kind() == kind)
            .count()
    }

    fn status(&self, at: usize, of: usize) -> Option<Status> {
        self.nodes[at].member(&id(of)).map(|m| m.status())
    }
}

fn plain(_: usize) -> CodecConfig {
    CodecConfig::new(LABEL)
}

fn key(n: u8) -> Key {
    Key::from_bytes([n; 32])
}

fn keyed(ring: Keyring) -> CodecConfig {
    CodecConfig {
        keyring: Some(ring),
        ..CodecConfig::new(LABEL)
    }
}

// ---------------------------------------------------------------------------------
// 1. Merge algebra

fn meta_variant(v: usize) -> Meta {
    match v {
        0 => Meta::default(),
        1 => Meta {
            role: "QueryEngine".into(),
            weight: 100,
            zone: None,
        },
        _ => Meta {
            role: "QueryEngine".into(),
            weight: 100,
            zone: Some("rack-2".into()),
        },
    }
}

fn status_of(s: u8) -> Status {
    Status::from_u8(s).expect("0..4")
}

/// A record of member `m{who}`: version and status 0..4, one of three addresses and
/// three metadata variants.
fn record(who: usize) -> impl Strategy<Value = Member> {
    (0u64..4, 0u64..4, 0u8..4, 0usize..3, 0usize..3).prop_map(move |(inc, hb, st, a, m)| {
        let addr = SocketAddr::new(addr_of(a).ip(), 7946 + (a as u16 % 2));
        Member::new(&id(who), addr, meta_variant(m)).with_version(inc, hb, status_of(st))
    })
}

fn records_of_many() -> impl Strategy<Value = (Vec<Member>, Vec<Member>)> {
    prop::collection::vec((0usize..4).prop_flat_map(record), 0..24)
        .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
}

fn table_of(records: &[Member]) -> MemberTable {
    let mut t = MemberTable::new();
    for r in records {
        let merged = match t.get(r.key()) {
            Some(old) => merge(old, r),
            None => r.clone(),
        };
        t.insert(merged);
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_is_commutative_associative_idempotent(
        a in record(0), b in record(0), c in record(0),
    ) {
        prop_assert_eq!(merge(&a, &b), merge(&b, &a));
        prop_assert_eq!(merge(&merge(&a, &b), &c), merge(&a, &merge(&b, &c)));
        prop_assert_eq!(merge(&a, &a), a.clone());
        // The result is one of the inputs, and the source's rule picks it.
        let m = merge(&a, &b);
        prop_assert!(m == a || m == b);
        let other = if m == a { &b } else { &a };
        prop_assert!(m.version() >= other.version());
        if m.version() == other.version() {
            prop_assert!(m.status() >= other.status(), "tie: the worse status wins");
        }
        if a.incarnation() != b.incarnation() {
            prop_assert_eq!(m.incarnation(), a.incarnation().max(b.incarnation()));
        }
    }

    #[test]
    fn tables_merged_in_any_order_agree((records, shuffled) in records_of_many()) {
        let t1 = table_of(&records);
        let t2 = table_of(&shuffled);
        let rev: Vec<Member> = records.iter().rev().cloned().collect();
        let t3 = table_of(&rev);
        prop_assert_eq!(t1.digest(), t2.digest());
        prop_assert_eq!(t1.digest(), t3.digest());
        prop_assert_eq!(t1.members(), t2.members());
        prop_assert_eq!(t1.members(), t3.members());
        // Each member's record is the merge of all its records.
        let mut ids: Vec<&str> = records.iter().map(|r| r.id()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(t1.len(), ids.len());
        let mut live = 0;
        for who in ids {
            let winner = records
                .iter()
                .filter(|r| r.id() == who)
                .fold(None::<Member>, |acc, r| Some(acc.map_or(r.clone(), |x| merge(&x, r))))
                .expect("present");
            live += usize::from(winner.status().is_live());
            prop_assert_eq!(t1.get(winner.key()), Some(&winner));
        }
        prop_assert_eq!(t1.live(), live);
    }
}

// ---------------------------------------------------------------------------------
// 2. Convergence under random delivery orders

#[test]
fn joins_converge_under_shuffled_delivery() {
    for seed in 1..=5 {
        shuffled_join(seed, 0.0);
    }
    for seed in 6..=8 {
        shuffled_join(seed, 0.05);
    }
}

fn shuffled_join(seed: u64, loss: f64) {
    let n = 8 + (seed as usize % 5);
    let mut net = Net::new(n, seed, &Config::default(), false, plain);
    net.shuffle = true;
    net.loss = loss;
    net.dup = loss;
    // Widely varying latencies reorder datagrams between and within senders.
    net.latency = (0, 80_000);
    let mut order: Vec<usize> = (1..n).collect();
    for k in (1..order.len()).rev() {
        let j = net.rng.below(k as u64 + 1) as usize;
        order.swap(k, j);
    }
    for i in order {
        let wait = Duration::from_micros(net.rng.below(400_000));
        net.run_for(wait);
        let now = net.now;
        net.nodes[i].join(now, &[addr_of(0)]);
    }
    let took = net.run_until(Duration::from_secs(60), Net::converged);
    assert!(took.is_some(), "seed {seed}: {n} members did not converge");
    // Once every view is complete, the tables become identical.
    let same = net.run_until(Duration::from_secs(30), Net::same_tables);
    assert!(
        same.is_some(),
        "seed {seed}: tables differ after convergence"
    );
    // And it stays so (under loss, a suspicion may be pending at any one moment, but
    // it is refuted and nobody is declared failed).
    net.run_for(Duration::from_secs(20));
    let settled = net.run_until(Duration::from_secs(10), |net| {
        net.converged() && net.same_tables()
    });
    assert!(settled.is_some(), "seed {seed}: flapped");
    assert_eq!(net.count_all("failed"), 0, "seed {seed}: false failures");
    // Duplicates are refused as replays, and nothing else is refused.
    let replays: u64 = net.nodes.iter().map(|m| m.wire_rejects().replayed).sum();
    assert_eq!(net.refused, replays, "seed {seed}");
    assert!(
        loss == 0.0 || replays > 0,
        "seed {seed}: no duplicates delivered"
    );
    for i in 0..n {
        assert_eq!(net.nodes[i].live_members().len(), n);
        // Everyone saw everyone else join exactly once.
        for j in (0..n).filter(|&j| j != i) {
            assert_eq!(net.count(i, "joined", j), 1, "seed {seed}: {i} about {j}");
        }
    }
}

// ---------------------------------------------------------------------------------
// 3. Deterministic replay of the simulator

#[test]
fn simulation_replays_exactly() {
    let mut cfg = SimConfig::new(Protocol::Shoal, 50, Scenario::Join);
    cfg.net.loss = 0.05;
    cfg.seed = 7;
    let a = sim::run(&cfg);
    let b = sim::run(&cfg);
    assert_eq!(a, b);
    assert!(a.converged.all.is_some(), "{a:?}");
    assert!(a.lost > 0 && a.delivered > 0);
    cfg.seed = 8;
    let c = sim::run(&cfg);
    assert_ne!(a, c, "another seed gives another run");
    assert!(
        a.lost != c.lost || a.delivered != c.delivered || a.converged != c.converged,
        "the measured run itself differs, not only the seed field"
    );
}

// ---------------------------------------------------------------------------------
// 4. Partition, then heal

#[test]
fn simulated_partition_heals() {
    let mut cfg = SimConfig::new(Protocol::Shoal, 20, Scenario::Partition);
    cfg.partition = Duration::from_secs(20);
    cfg.duration = Duration::from_secs(120);
    let r = sim::run(&cfg);
    assert!(r.converged.all.is_some(), "{r:?}");
    assert!(r.lost > 0, "the partition dropped datagrams");
}

#[test]
fn partition_then_heal_converges() {
    split_and_heal(41);
    split_briefly(42);
}

/// A 20 s split healed whatever each side concluded meanwhile (some members dead,
/// some suspect, some still alive in the other side's view).
fn split_briefly(seed: u64) {
    let n = 12;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(3));
    net.cut = Box::new(|a, b| (a % 2) != (b % 2));
    net.run_for(Duration::from_secs(20));
    assert!(
        net.count_all("failed") > 0,
        "seed {seed}: the split went unnoticed"
    );
    net.cut = Box::new(|_, _| false);
    let took = net.run_until(Duration::from_secs(60), Net::converged);
    assert!(took.is_some(), "seed {seed}: did not heal");
    assert!(net
        .run_until(Duration::from_secs(30), Net::same_tables)
        .is_some());
}

fn split_and_heal(seed: u64) {
    let n = 10;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(3));
    assert!(net.converged());
    // Split 0..5 | 5..10 until each side has declared the other side dead.
    net.cut = Box::new(|a, b| (a < 5) != (b < 5));
    let apart = net.run_until(Duration::from_secs(120), |net| {
        (0..n).all(|i| {
            (0..n).all(|j| {
                let want = if (i < 5) == (j < 5) {
                    Status::Alive
                } else {
                    Status::Dead
                };
                net.status(i, j) == Some(want)
            })
        })
    });
    assert!(
        apart.is_some(),
        "seed {seed}: the halves did not see each other fail"
    );
    net.cut = Box::new(|_, _| false);
    let took = net.run_until(Duration::from_secs(60), Net::converged);
    assert!(took.is_some(), "seed {seed}: did not heal");
    assert!(net
        .run_until(Duration::from_secs(30), Net::same_tables)
        .is_some());
    // Every member came back: each side raised its incarnation to refute its death.
    for i in 0..n {
        assert!(net.nodes[i].local().incarnation() >= 1, "{i}");
    }
}

// ---------------------------------------------------------------------------------
// 5. Suspicion of a live member is refuted

#[test]
fn injected_suspicion_is_refuted() {
    injected_suspicion(5);
}

fn injected_suspicion(seed: u64) {
    let n = 8;
    let x = 3;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(2));
    // A newcomer whose (stale) view holds x as suspect at x's current version. Its
    // join exchange carries that record to x.
    let mut view = net.nodes[0].table().clone();
    let sus = view
        .get(net.nodes[x].local().key())
        .expect("x known")
        .with_status(Status::Suspect);
    assert_eq!(sus.version(), net.nodes[x].local().version());
    view.insert(sus);
    let codec = Codec::new(plain(n), 99).expect("codec");
    let witness = Membership::new(
        Config::default(),
        Member::new(&id(n), addr_of(n), Meta::default()),
        codec,
        99,
        view,
        net.now,
    )
    .expect("witness");
    net.add(witness);
    let now = net.now;
    net.nodes[n].join(now, &[addr_of(x)]);
    let refuted = net.run_until(Duration::from_secs(2), |net| net.count(x, "refuted", x) > 0);
    assert!(refuted.is_some(), "x did not refute");
    assert_eq!(net.count(x, "refuted", x), 1, "x refutes the suspicion");
    assert!(net.nodes[x].local().incarnation() >= 1);
    assert_eq!(net.nodes[x].stats().refutations, 1);
    let inc = net.nodes[x].local().incarnation();
    // The refutation spreads: everyone holds x alive at the new incarnation.
    let spread = net.run_until(Duration::from_secs(20), |net| {
        (0..n).all(|i| {
            net.nodes[i]
                .member(&id(x))
                .is_some_and(|m| m.status() == Status::Alive && m.incarnation() == inc)
        })
    });
    assert!(spread.is_some());
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.count_all("failed"), 0);
    assert!(net.converged());
}

/// Cuts x off (both directions) until someone suspects it, then reconnects it.
fn blip(seed: u64) -> Net {
    let n = 10;
    let x = 4;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(3));
    net.cut = Box::new(move |a, b| a == x || b == x);
    let suspected = net.run_until(Duration::from_secs(30), |net| {
        (0..n).any(|i| net.count(i, "suspected", x) > 0)
    });
    assert!(suspected.is_some(), "seed {seed}: nobody suspected x");
    net.cut = Box::new(|_, _| false);
    net
}

#[test]
fn short_blip_is_refuted_without_failure() {
    for seed in 1..=6 {
        blip_refuted(seed);
    }
}

fn blip_refuted(seed: u64) {
    let n = 10;
    let x = 4;
    let mut net = blip(seed);
    let cut_at = net.now;
    let ok = net.run_until(Duration::from_secs(30), |net| {
        net.count(x, "refuted", x) > 0 && net.converged()
    });
    assert!(ok.is_some(), "seed {seed}: x did not refute");
    net.run_for(Duration::from_secs(10));
    assert!(net.nodes[x].local().incarnation() >= 1);
    for i in 0..n {
        assert_eq!(
            net.count(i, "failed", x),
            0,
            "seed {seed}: {i} declared x failed after a blip (healed at {cut_at})"
        );
        if i != x && net.count(i, "suspected", x) > 0 {
            assert!(net.count(i, "refuted", x) > 0, "seed {seed}: {i}");
        }
        assert_eq!(net.status(i, x), Some(Status::Alive));
    }
    assert!(net.converged());
}

// ---------------------------------------------------------------------------------
// 6. Crash detection and graceful leave

#[test]
fn crashed_member_is_declared_dead_by_everyone() {
    crash(11);
}

fn crash(seed: u64) {
    let n = 10;
    let x = 6;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(3));
    net.up[x] = false;
    let took = net.run_until(Duration::from_secs(30), |net| {
        (0..n)
            .filter(|&i| i != x)
            .all(|i| net.status(i, x) == Some(Status::Dead))
    });
    assert!(took.is_some(), "crash not detected by everyone");
    net.run_for(Duration::from_secs(10));
    for i in (0..n).filter(|&i| i != x) {
        assert_eq!(net.status(i, x), Some(Status::Dead));
        assert_eq!(net.count(i, "failed", x), 1, "{i}");
        assert_eq!(net.nodes[i].live_members().len(), n - 1);
    }
    // Nobody else was declared failed.
    let failed = net.count_all("failed");
    assert_eq!(failed, n - 1);
}

#[test]
fn leaving_member_is_seen_as_left_not_failed() {
    leave(12);
}

fn leave(seed: u64) {
    let n = 8;
    let x = 2;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(3));
    let now = net.now;
    net.nodes[x].leave(now);
    assert_eq!(net.nodes[x].local().status(), Status::Left);
    // Keep the leaver running a little, then stop it.
    net.run_for(Duration::from_secs(2));
    net.up[x] = false;
    let took = net.run_until(Duration::from_secs(30), |net| {
        (0..n)
            .filter(|&i| i != x)
            .all(|i| net.status(i, x) == Some(Status::Left))
    });
    assert!(took.is_some(), "leave did not spread");
    net.run_for(Duration::from_secs(20));
    assert_eq!(net.count(x, "left", x), 1);
    for i in (0..n).filter(|&i| i != x) {
        assert_eq!(net.status(i, x), Some(Status::Left), "{i}");
        assert_eq!(net.count(i, "left", x), 1, "{i}");
        assert_eq!(net.count(i, "failed", x), 0, "{i}");
        assert_eq!(net.count(i, "suspected", x), 0, "{i}");
    }
    assert_eq!(net.count_all("failed"), 0);
    assert!(net.converged());
}

#[test]
fn left_member_can_come_back() {
    left_and_back(14);
}

fn left_and_back(seed: u64) {
    let n = 6;
    let x = 4;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(2));
    let now = net.now;
    net.nodes[x].leave(now);
    net.run_for(Duration::from_secs(2));
    net.up[x] = false;
    let gone = net.run_until(Duration::from_secs(30), |net| {
        (0..n)
            .filter(|&i| i != x)
            .all(|i| net.status(i, x) == Some(Status::Left))
    });
    assert!(gone.is_some());
    // A new process with the same id joins again; its first record (0, 0) is older
    // than the "left" record (0, 1) the others hold, so it must outrank it.
    let now = net.now;
    let codec = Codec::new(plain(x), 0xcafe).expect("codec");
    let fresh = Member::new(&id(x), addr_of(x), Meta::default());
    net.nodes[x] = Membership::new(
        Config::default(),
        fresh,
        codec,
        0xcafe,
        MemberTable::new(),
        now,
    )
    .expect("membership");
    net.up[x] = true;
    net.nodes[x].join(now, &[addr_of(0)]);
    let back = net.run_until(Duration::from_secs(30), Net::converged);
    assert!(back.is_some(), "seed {seed}: the member did not come back");
    assert!(net.nodes[x].local().incarnation() >= 1);
    for i in (0..n).filter(|&i| i != x) {
        assert_eq!(net.count(i, "left", x), 1, "{i}");
        assert_eq!(net.count(i, "joined", x), 1, "{i}");
        assert_eq!(net.count(i, "failed", x), 0, "{i}");
    }
}

// ---------------------------------------------------------------------------------
// 7. Metadata updates

#[test]
fn metadata_update_propagates() {
    meta_update(13);
}

fn meta_update(seed: u64) {
    let n = 8;
    let x = 5;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(2));
    let meta = Meta {
        role: "router".into(),
        weight: 7,
        zone: Some("zone-b".into()),
    };
    let now = net.now;
    net.nodes[x].update_meta(now, meta.clone());
    assert_eq!(net.nodes[x].local().meta(), &meta);
    let took = net.run_until(Duration::from_secs(20), |net| {
        (0..n).all(|i| {
            net.nodes[i]
                .member(&id(x))
                .is_some_and(|m| m.meta() == &meta)
        })
    });
    assert!(took.is_some(), "metadata did not spread");
    net.run_for(Duration::from_secs(5));
    for i in (0..n).filter(|&i| i != x) {
        let updates: Vec<&Member> = net.events[i]
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Updated(m) if m.id() == id(x) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(updates.len(), 1, "{i}");
        assert_eq!(updates[0].meta(), &meta);
        assert_eq!(net.status(i, x), Some(Status::Alive));
    }
    assert!(net.same_tables());
}

// ---------------------------------------------------------------------------------
// 8. Key rotation on a running cluster

#[test]
fn key_rotation_keeps_the_cluster_together() {
    rotation(21);
}

fn rotation(seed: u64) {
    let n = 6;
    let (k1, k2) = (key(1), key(2));
    let mut net = Net::new(n, seed, &Config::default(), true, |_| {
        keyed(Keyring::new(key(1)))
    });
    net.run_for(Duration::from_secs(3));
    assert!(net.converged());
    let step = |net: &mut Net, what: &dyn Fn(&mut Keyring)| {
        for i in 0..n {
            let c = net.nodes[i].codec_mut();
            let mut ring = c.keyring().expect("keyed").clone();
            what(&mut ring);
            c.set_keyring(Some(ring)).expect("set keyring");
            // The cluster keeps running between members.
            net.run_for(Duration::from_millis(700));
            assert!(net.converged(), "diverged at member {i}");
        }
        net.run_for(Duration::from_secs(5));
        assert!(net.converged());
        assert_eq!(net.count_all("failed"), 0);
        assert_eq!(net.count_all("suspected"), 0);
        assert_eq!(net.refused, 0);
        for m in &net.nodes {
            assert_eq!(m.wire_rejects().total(), 0);
        }
    };
    step(&mut net, &|r| r.add(key(2)).expect("add"));
    step(&mut net, &|r| {
        r.set_primary(k2.fingerprint()).expect("primary")
    });
    step(&mut net, &|r| {
        r.remove(k1.fingerprint()).expect("remove");
    });
    for m in &mut net.nodes {
        let ring = m.codec_mut().keyring().expect("keyed");
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.primary().fingerprint(), k2.fingerprint());
    }
    // A datagram sealed with only the old key is now refused.
    let mut old = Codec::new(keyed(Keyring::new(key(1))), 0x0dd).expect("codec");
    let mut dgram = Vec::new();
    old.seal(b"anything at all", &mut dgram).expect("seal");
    let digest = net.nodes[0].table().digest();
    let before = net.nodes[0].stats().rejected_packets;
    let now = net.now;
    assert_eq!(
        net.nodes[0].handle_datagram(now, addr_of(1), &dgram),
        Err(DatagramError::Rejected(Reject::UnknownKey {
            fingerprint: k1.fingerprint()
        }))
    );
    assert_eq!(net.nodes[0].wire_rejects().unknown_key, 1);
    assert_eq!(net.nodes[0].stats().rejected_packets, before + 1);
    assert_eq!(net.nodes[0].table().digest(), digest);

    // Control: a member that jumps to a key nobody else has is cut off and declared
    // failed, so the zero-failure checks above are not vacuous.
    let x = n - 1;
    net.nodes[x]
        .codec_mut()
        .set_keyring(Some(Keyring::new(key(3))))
        .expect("set keyring");
    let cut_off = net.run_until(Duration::from_secs(30), |net| {
        (0..x).all(|i| net.status(i, x) == Some(Status::Dead))
    });
    assert!(cut_off.is_some(), "a member with a foreign key stayed in");
    assert!(net.nodes[0].wire_rejects().unknown_key > 1);
}

// ---------------------------------------------------------------------------------
// 9. Rejected and malformed datagrams never touch the view

/// Feeds `dgram` to `m` and checks the error, the counters and the table.
fn refuse(m: &mut Membership, dgram: &[u8], expect: &DatagramError, what: &str) {
    let digest = m.table().digest();
    let stats = m.stats().clone();
    let rejects = *m.wire_rejects();
    let got = m.handle_datagram(Instant::from_millis(10_000), addr_of(1), dgram);
    let got = got.expect_err(what);
    match (expect, &got) {
        // Random input: only the kind of error is predictable.
        (DatagramError::Malformed(_), DatagramError::Malformed(_)) => {}
        _ => assert_eq!(&got, expect, "{what}"),
    }
    let s = m.stats();
    match &got {
        DatagramError::Rejected(reason) => {
            assert_eq!(s.rejected_packets, stats.rejected_packets + 1, "{what}");
            assert_eq!(s.malformed_packets, stats.malformed_packets, "{what}");
            assert_eq!(m.wire_rejects().total(), rejects.total() + 1, "{what}");
            assert_eq!(
                m.wire_rejects().get(reason),
                rejects.get(reason) + 1,
                "{what}"
            );
        }
        DatagramError::Malformed(_) => {
            assert_eq!(s.malformed_packets, stats.malformed_packets + 1, "{what}");
            assert_eq!(s.rejected_packets, stats.rejected_packets, "{what}");
            assert_eq!(m.wire_rejects().total(), rejects.total(), "{what}");
        }
    }
    assert_eq!(s.received_packets, stats.received_packets, "{what}");
    assert_eq!(s.applied_updates, stats.applied_updates, "{what}");
    assert_eq!(m.table().digest(), digest, "{what}");
    assert!(m.poll_event().is_none(), "{what}");
}

#[test]
fn rejection_battery_against_a_keyed_member() {
    let ring = Keyring::new(key(9));
    let cfg = |session| Codec::new(keyed(ring.clone()), session).expect("codec");
    let t0 = Instant::ZERO;
    let member = |i: usize, session: u64| {
        Membership::new(
            Config::default(),
            Member::new(&id(i), addr_of(i), Meta::default()),
            cfg(session),
            session,
            MemberTable::new(),
            t0,
        )
        .expect("membership")
    };
    let mut target = member(0, 1);
    let mut peer = member(1, 2);
    peer.join(t0, &[addr_of(0)]);
    let real = peer.poll_transmit().expect("join datagram").payload;
    assert!(real.len() > 44);
    let tag_start = real.len() - 16;

    // Truncations of a real datagram, every length.
    for len in 0..real.len() {
        let reason = if len < 44 {
            Reject::TooShort { len }
        } else {
            Reject::BadTag
        };
        refuse(
            &mut target,
            &real[..len],
            &DatagramError::Rejected(reason),
            &format!("truncated to {len}"),
        );
    }
    // Oversized.
    let mut big = real.clone();
    big.resize(1401, 0);
    refuse(
        &mut target,
        &big,
        &DatagramError::Rejected(Reject::TooLong { len: 1401 }),
        "oversized",
    );
    // Random garbage (not starting with the magic).
    let mut rng = Rng(3);
    for round in 0..64 {
        let len = rng.below(1372) as usize + 28;
        let mut junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        junk[0] = b'X';
        refuse(
            &mut target,
            &junk,
            &DatagramError::Rejected(Reject::BadMagic),
            &format!("garbage {round}"),
        );
    }
    // One flipped bit anywhere past the magic, version and flags: the label hash,
    // fingerprint, session, sequence, payload or tag no longer verify.
    for at in [4, 8, 12, 20, 30, real.len() / 2, tag_start, real.len() - 1] {
        let mut bad = real.clone();
        bad[at] ^= 0x10;
        let reason = match at {
            4..=7 => Reject::LabelMismatch,
            8..=11 => Reject::UnknownKey {
                fingerprint: u32::from_le_bytes(bad[8..12].try_into().unwrap()),
            },
            _ => Reject::BadTag,
        };
        refuse(
            &mut target,
            &bad,
            &DatagramError::Rejected(reason),
            &format!("bit flipped at {at}"),
        );
    }
    let payload = b"not a membership packet".to_vec();
    // Wrong label, same key.
    let mut other = Codec::new(
        CodecConfig {
            keyring: Some(ring.clone()),
            ..CodecConfig::new("another-cluster")
        },
        5,
    )
    .expect("codec");
    let mut d = Vec::new();
    other.seal(&payload, &mut d).expect("seal");
    refuse(
        &mut target,
        &d,
        &DatagramError::Rejected(Reject::LabelMismatch),
        "wrong label",
    );
    // Wrong key, same label.
    let mut wrong = Codec::new(keyed(Keyring::new(key(10))), 6).expect("codec");
    wrong.seal(&payload, &mut d).expect("seal");
    refuse(
        &mut target,
        &d,
        &DatagramError::Rejected(Reject::UnknownKey {
            fingerprint: key(10).fingerprint(),
        }),
        "wrong key",
    );
    // Unauthenticated, to a keyed member.
    let mut open_codec = Codec::new(CodecConfig::new(LABEL), 7).expect("codec");
    open_codec.seal(&payload, &mut d).expect("seal");
    refuse(
        &mut target,
        &d,
        &DatagramError::Rejected(Reject::MissingAuth),
        "unauthenticated",
    );

    // The real datagram is accepted once (it changes the view)...
    let now = Instant::from_millis(10_000);
    target
        .handle_datagram(now, addr_of(1), &real)
        .expect("the real datagram is accepted");
    assert_eq!(target.stats().received_packets, 1);
    assert!(target.member(&id(1)).is_some(), "the joiner is known");
    while target.poll_event().is_some() {}
    // ...and refused when replayed.
    refuse(
        &mut target,
        &real,
        &DatagramError::Rejected(Reject::Replayed),
        "replayed",
    );

    // Authentic datagrams whose payload is not a membership packet.
    let mut sealer = Codec::new(keyed(ring.clone()), 8).expect("codec");
    let mut malformed: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0; 10],
        vec![0; 23],
        // A valid packet header and an unknown message tag.
        [vec![0u8; 24], vec![0xEE]].concat(),
        [vec![0u8; 24], vec![0x00, 1, 2, 3]].concat(),
        // A header and a ping cut short.
        [vec![0u8; 24], vec![1]].concat(),
    ];
    for _ in 0..32 {
        let len = rng.below(1300) as usize + 25;
        let mut p: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        p[24] = 0xF0 | (p[24] & 0x0F); // no such message tag
        malformed.push(p);
    }
    for (k, p) in malformed.iter().enumerate() {
        sealer.seal(p, &mut d).expect("seal");
        refuse(
            &mut target,
            &d,
            &DatagramError::Malformed(shoal_core::wire::DecodeError::UnexpectedEnd),
            &format!("authentic garbage {k}"),
        );
    }
    assert_eq!(target.stats().malformed_packets, malformed.len() as u64);
    assert_eq!(target.stats().received_packets, 1);
    let r = target.wire_rejects();
    assert_eq!(r.replayed, 1);
    assert_eq!(r.missing_auth, 1);
    assert_eq!(r.label_mismatch, 2);
    assert_eq!(r.too_long, 1);
    assert_eq!(r.bad_magic, 64);
    assert_eq!(r.too_short, 44);
    assert_eq!(target.stats().rejected_packets, r.total());
}

/// Unauthenticated-looking input must not reach a member without a keyring either,
/// and an authenticated datagram is refused there.
#[test]
fn plain_member_refuses_protected_datagrams() {
    let mut m = Membership::new(
        Config::default(),
        Member::new(&id(0), addr_of(0), Meta::default()),
        Codec::new(CodecConfig::new(LABEL), 1).expect("codec"),
        1,
        MemberTable::new(),
        Instant::ZERO,
    )
    .expect("membership");
    let mut c = Codec::new(keyed(Keyring::new(key(1))), 2).expect("codec");
    let mut d = Vec::new();
    c.seal(&[0u8; 40], &mut d).expect("seal");
    refuse(
        &mut m,
        &d,
        &DatagramError::Rejected(Reject::UnexpectedAuth),
        "authenticated to a plain member",
    );
}

// ---------------------------------------------------------------------------------
// 10. Classic versus shoal in the simulator

#[test]
fn classic_protocol_converges_a_join() {
    let cfg = SimConfig::new(Protocol::Classic, 20, Scenario::Join);
    let r = sim::run(&cfg);
    assert!(r.converged.all.is_some(), "{r:?}");
    assert_eq!(r.protocol, Protocol::Classic);
}

#[test]
fn shoal_detects_a_crash_without_false_failures() {
    let cfg = SimConfig::new(Protocol::Shoal, 30, Scenario::Crash);
    let r = sim::run(&cfg);
    assert!(r.detection_first.is_some(), "{r:?}");
    assert!(r.detection.all.is_some(), "{r:?}");
    assert_eq!(r.false_failures, 0, "{r:?}");
    // Detection within a few probe periods plus the suspicion timeout.
    assert!(r.detection.all.unwrap() < Duration::from_secs(20), "{r:?}");
}

// ---------------------------------------------------------------------------------
// Extra: restarts, oversized announcements, metadata of a suspect

#[test]
fn join_announcement_fits_with_long_names_in_a_large_cluster() {
    // The longest id, role and zone a member may have, in a known view of 150
    // members (most of the 64 root summary slots populated).
    let long = |c: char| std::iter::repeat_n(c, 255).collect::<String>();
    let meta = Meta {
        role: long('r'),
        weight: 1,
        zone: Some(long('z')),
    };
    let mut known = MemberTable::new();
    for i in 0..150 {
        known.insert(Member::new(&id(i), addr_of(i), Meta::default()));
    }
    let me = Member::new(&long('a'), addr_of(200), meta);
    let mut m = Membership::new(
        Config::default(),
        me,
        Codec::new(plain(0), 1).expect("codec"),
        1,
        known,
        Instant::ZERO,
    )
    .expect("valid names");
    m.join(Instant::ZERO, &[addr_of(0)]);
    let mut to_seed = 0;
    while let Some(t) = m.poll_transmit() {
        assert!(t.payload.len() <= 1400);
        to_seed += usize::from(t.to == addr_of(0));
    }
    assert!(to_seed > 0, "join() sent nothing to the seed");
}

#[test]
fn metadata_change_of_a_suspect_is_reported_as_updated() {
    let mut net = Net::new(0, 31, &Config::default(), false, plain);
    let x = Member::new(&id(0), addr_of(0), Meta::default());
    let obs = Member::new(&id(1), addr_of(1), Meta::default());
    // x knows the observer; the observer holds x as suspect at x's current version.
    let mut xs_view = MemberTable::new();
    xs_view.insert(obs.clone());
    let mut obs_view = MemberTable::new();
    obs_view.insert(x.with_status(Status::Suspect));
    let make = |m: &Member, view: MemberTable, s: u64| {
        let codec = Codec::new(plain(0), s).expect("codec");
        Membership::new(Config::default(), m.clone(), codec, s, view, Instant::ZERO)
            .expect("membership")
    };
    net.add(make(&x, xs_view, 1));
    net.add(make(&obs, obs_view, 2));
    let meta = Meta {
        role: "router".into(),
        weight: 40,
        zone: Some("zone-c".into()),
    };
    net.nodes[0].update_meta(Instant::ZERO, meta.clone());
    let seen = net.run_until(Duration::from_secs(10), |net| {
        net.nodes[1]
            .member(&id(0))
            .is_some_and(|m| m.meta() == &meta)
    });
    assert!(
        seen.is_some(),
        "the observer never learned the new metadata"
    );
    assert_eq!(net.status(1, 0), Some(Status::Alive));
    // The member proved alive *and* announced new metadata: a placement layer that
    // follows `Updated` must hear about the new weight and zone.
    assert_eq!(net.count(1, "refuted", 0), 1);
    assert_eq!(
        net.count(1, "updated", 0),
        1,
        "observer events: {:?}",
        net.events[1]
    );
}

#[test]
fn crashed_member_restarts_and_rejoins() {
    restart(51);
}

fn restart(seed: u64) {
    let n = 8;
    let x = 3;
    let mut net = Net::new(n, seed, &Config::default(), true, plain);
    net.run_for(Duration::from_secs(2));
    net.up[x] = false;
    let dead = net.run_until(Duration::from_secs(30), |net| {
        (0..n)
            .filter(|&i| i != x)
            .all(|i| net.status(i, x) == Some(Status::Dead))
    });
    assert!(dead.is_some());
    // A new process with the same id and address, a fresh codec and an empty view.
    let codec = Codec::new(plain(x), 0xfeed).expect("codec");
    let fresh = Member::new(&id(x), addr_of(x), Meta::default());
    let now = net.now;
    net.nodes[x] = Membership::new(
        Config::default(),
        fresh,
        codec,
        0xfeed,
        MemberTable::new(),
        now,
    )
    .expect("membership");
    net.up[x] = true;
    net.events[x].clear();
    net.nodes[x].join(now, &[addr_of(0)]);
    let back = net.run_until(Duration::from_secs(30), Net::converged);
    assert!(back.is_some(), "the restarted member did not rejoin");
    net.run_for(Duration::from_secs(10));
    assert!(net.converged() && net.same_tables());
    // Its old life was declared dead at (0, 0): the new one must outrank it.
    assert!(net.nodes[x].local().incarnation() >= 1);
    for i in (0..n).filter(|&i| i != x) {
        assert_eq!(net.count(i, "failed", x), 1, "{i}");
        assert!(net.count(i, "joined", x) >= 1, "{i}: came back");
        assert_eq!(net.nodes[i].member(&id(x)), Some(net.nodes[x].local()));
    }
    assert_eq!(net.count_all("failed"), n - 1);
}

#[test]
fn probe_of_an_old_incarnation_does_not_suspect_the_new_one() {
    let mut net = Net::new(2, 61, &Config::default(), true, plain);
    let (a, x) = (0, 1);
    net.run_for(Duration::from_millis(100));
    // x crashes; wait for a's next probe of it (the only other member) to start.
    net.up[x] = false;
    let probes = net.nodes[a].stats().probes;
    let started = net.run_until(Duration::from_secs(5), |net| {
        net.nodes[a].stats().probes > probes
    });
    assert!(started.is_some());
    // 50 ms later, while that ping is unanswered, x restarts from a snapshot that
    // remembers its previous life, so it comes back at incarnation 1, and announces
    // itself to a.
    net.run_for(Duration::from_millis(50));
    let mut snapshot = MemberTable::new();
    snapshot.insert(net.nodes[a].local().clone());
    snapshot.insert(Member::new(&id(x), addr_of(x), Meta::default()).with_status(Status::Dead));
    let now = net.now;
    let codec = Codec::new(plain(x), 0xbeef).expect("codec");
    let fresh = Member::new(&id(x), addr_of(x), Meta::default());
    net.nodes[x] = Membership::new(Config::default(), fresh, codec, 0xbeef, snapshot, now)
        .expect("membership");
    assert_eq!(net.nodes[x].local().incarnation(), 1);
    net.up[x] = true;
    net.nodes[x].join(now, &[addr_of(a)]);
    let heard = net.run_until(Duration::from_millis(200), |net| {
        net.nodes[a].member(&id(x)).map(|m| m.version()) == Some((1, 0))
    });
    assert!(
        heard.is_some(),
        "a learned incarnation 1 before its probe timed out"
    );
    // The old ping's deadline passes. It says nothing about incarnation 1, which
    // answered everything since it started.
    net.run_for(Duration::from_secs(3));
    assert_eq!(
        net.count(a, "suspected", x),
        0,
        "a's events: {:?}",
        net.events[a]
    );
    assert_eq!(net.nodes[x].local().incarnation(), 1, "x had to refute");
    assert_eq!(net.nodes[x].stats().refutations, 0);
}

#[test]
fn stale_accusation_is_answered_with_the_current_record() {
    // Anti-entropy and reconnects are pushed far out: this test is about the direct
    // path between a prober holding a stale suspicion and the member it suspects.
    let cfg = Config {
        sync_interval: Duration::from_secs(600),
        sync_interval_busy: Duration::from_secs(600),
        reconnect_interval: Duration::from_secs(600),
        ..Config::default()
    };
    let mut net = Net::new(0, 71, &cfg, false, plain);
    let (a, x) = (0, 1);
    let a_rec = Member::new(&id(a), addr_of(a), Meta::default());
    let x_rec = Member::new(&id(x), addr_of(x), Meta::default());
    // a still holds x's first life as suspect; x has long since refuted it and
    // runs at incarnation 1 (its rumor of that is spent: nothing is queued).
    let mut a_view = MemberTable::new();
    a_view.insert(x_rec.with_status(Status::Suspect));
    let mut x_view = MemberTable::new();
    x_view.insert(a_rec.clone());
    x_view.insert(x_rec.with_status(Status::Dead));
    let make = |m: &Member, view: MemberTable, s: u64| {
        let codec = Codec::new(plain(0), s).expect("codec");
        Membership::new(cfg.clone(), m.clone(), codec, s, view, Instant::ZERO).expect("membership")
    };
    net.add(make(&a_rec, a_view, 1));
    net.add(make(&x_rec, x_view, 2));
    assert_eq!(net.nodes[x].local().version(), (1, 0));
    // Within a few probe periods a pings x (telling it of the suspicion, Lifeguard's
    // buddy system) and x answers; a must learn that x is alive at incarnation 1.
    let learned = net.run_until(Duration::from_secs(3), |net| {
        net.nodes[a]
            .member(&id(x))
            .map(|m| (m.version(), m.status()))
            == Some(((1, 0), Status::Alive))
    });
    assert!(net.nodes[a].stats().probes > 0 && net.nodes[x].stats().received_packets > 0);
    assert!(
        learned.is_some(),
        "a still holds {:?} after {} probes answered by x",
        net.nodes[a].member(&id(x)),
        net.nodes[a].stats().probes
    );
}

#[test]
fn short_blip_seed_531_is_refuted_without_failure() {
    blip_refuted(531);
}
