//! The membership state machine: its state, its public API, and packet I/O.
//!
//! Sans-IO in the quinn-proto / smoltcp shape: the driver passes datagrams in with
//! [`Membership::handle_datagram`], calls [`Membership::handle_timeout`] when the
//! instant from [`Membership::poll_timeout`] has passed, and drains
//! [`Membership::poll_transmit`] (datagrams to send) and [`Membership::poll_event`]
//! (view changes) after every call. Nothing here blocks, sleeps or reads a clock.
//!
//! The protocol parts live in sibling files: `probe.rs` (failure detection and
//! suspicion), `apply.rs` (merging records, refutation, events), `sync.rs`
//! (anti-entropy), `broadcast.rs` (dissemination queue).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::broadcast::Broadcasts;
use super::config::Config;
use super::event::{Event, Stats, Transmit};
use super::member::{Member, Meta, Status};
use super::message::{decode_packet, Header, Msg, HEADER_LEN};
use super::probe::{Probe, Relay, Suspicion};
use super::table::MemberTable;
use crate::rng::Rng;
use crate::time::Instant;
use crate::wire::{Codec, Reject, RejectCounters, Writer};

/// Most recent changes kept for answering pulls.
const RECENT_MAX: usize = 64;
/// Gossip rounds a change stays "recent".
const RECENT_ROUNDS: u32 = 10;

/// Why [`Membership::handle_datagram`] dropped a datagram. Each is also counted in
/// [`Membership::stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatagramError {
    /// The wire layer rejected it (wrong label or key, bad tag, replay, ...).
    Rejected(Reject),
    /// It was authentic but its payload is not a valid membership packet.
    Malformed(crate::wire::DecodeError),
}

impl core::fmt::Display for DatagramError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DatagramError::Rejected(r) => write!(f, "datagram rejected: {r}"),
            DatagramError::Malformed(e) => write!(f, "malformed membership packet: {e}"),
        }
    }
}

impl core::error::Error for DatagramError {}

/// One member's view of the cluster and the protocol that keeps it current.
pub struct Membership {
    pub(crate) cfg: Config,
    pub(crate) me: Member,
    pub(crate) table: MemberTable,
    pub(crate) codec: Codec,
    pub(crate) rng: Rng,
    /// Seed addresses, each with the member key last heard from it (0 = never).
    pub(crate) seeds: Vec<(SocketAddr, u64)>,
    pub(crate) leaving: bool,
    pub(crate) placement_digest: u64,
    // Failure detection.
    pub(crate) probe: Option<Probe>,
    pub(crate) next_probe: Instant,
    pub(crate) probe_order: super::probe::ProbeOrder,
    /// Members others suspect that this member has not probed yet (probed next, every
    /// other slot, to confirm or refute quickly).
    pub(crate) to_confirm: VecDeque<u64>,
    pub(crate) last_probe_confirmed: bool,
    pub(crate) seq: u32,
    pub(crate) health: u32,
    pub(crate) relays: Vec<Relay>,
    pub(crate) suspicions: BTreeMap<u64, Suspicion>,
    // Dissemination and anti-entropy.
    pub(crate) broadcasts: Broadcasts,
    pub(crate) next_gossip: Instant,
    pub(crate) next_sync: Instant,
    pub(crate) next_reconnect: Instant,
    /// Records learned from anti-entropy since the last exchange started.
    pub(crate) learned_by_sync: u64,
    /// Packets whose sender's membership digest differed from ours, since the last
    /// exchange started.
    pub(crate) digest_mismatches: u64,
    /// Records that changed in our view recently, newest last (answers to pulls).
    pub(crate) recent: VecDeque<(Instant, Member)>,
    /// The latest instant passed in by the driver.
    pub(crate) now: Instant,
    /// When each dead or left member was declared so (for gossip-to-dead and retention).
    pub(crate) dead_since: BTreeMap<u64, Instant>,
    // Output.
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) stats: Stats,
    scratch: Vec<u8>,
}

impl Membership {
    /// The member `local` (its id, address and metadata; version and status are
    /// ignored) — build it with [`Member::new`].
    ///
    /// `codec` frames every datagram (cluster label, keys, encryption); `seed` seeds the
    /// protocol's random choices (pass OS randomness in production, a constant in
    /// tests). `known` starts the view from a table (a snapshot, or the simulator's
    /// shared converged table); pass `MemberTable::new()` to start alone. Call
    /// [`Membership::join`] to contact seeds.
    pub fn new(
        cfg: Config,
        local: Member,
        codec: Codec,
        seed: u64,
        known: MemberTable,
        now: Instant,
    ) -> Result<Membership, crate::Error> {
        cfg.validate().map_err(crate::Error::InvalidConfig)?;
        let meta = local.meta();
        let too_long = |s: &str| s.len() > super::message::MAX_NAME_LEN;
        if local.id().is_empty() || too_long(local.id()) {
            return Err(crate::Error::InvalidConfig(
                "member id must be 1 to 255 bytes",
            ));
        }
        if too_long(&meta.role) || meta.zone.as_deref().is_some_and(too_long) {
            return Err(crate::Error::InvalidConfig(
                "role and zone must be at most 255 bytes",
            ));
        }
        let fresh = local.with_version(0, 0, Status::Alive);
        let mut table = known;
        // Start above any life of ours the known table remembers (without touching a
        // shared table when it already holds exactly our record).
        let me = match table.get(fresh.key()) {
            Some(old) if old.same_content(&fresh) && old.status() == Status::Alive => old.clone(),
            Some(old) => fresh.with_version(old.incarnation() + 1, 0, Status::Alive),
            None => fresh,
        };
        if table.get(me.key()) != Some(&me) {
            table.insert(me.clone());
        }
        let mut rng = Rng::new(seed);
        let jitter = |rng: &mut Rng, d: core::time::Duration| {
            now + core::time::Duration::from_micros(rng.below(d.as_micros() as usize + 1) as u64)
        };
        let next_probe = jitter(&mut rng, cfg.probe_interval);
        let next_gossip = jitter(&mut rng, cfg.gossip_interval);
        let next_sync = jitter(&mut rng, cfg.sync_interval);
        let next_reconnect = now + cfg.reconnect_interval;
        Ok(Membership {
            cfg,
            me,
            table,
            codec,
            rng,
            seeds: Vec::new(),
            leaving: false,
            placement_digest: 0,
            probe: None,
            next_probe,
            probe_order: Default::default(),
            to_confirm: VecDeque::new(),
            last_probe_confirmed: false,
            seq: 0,
            health: 0,
            relays: Vec::new(),
            suspicions: BTreeMap::new(),
            broadcasts: Broadcasts::default(),
            next_gossip,
            next_sync,
            next_reconnect,
            learned_by_sync: 0,
            digest_mismatches: 0,
            recent: VecDeque::new(),
            now,
            dead_since: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            scratch: Vec::new(),
        })
    }

    // ----- queries -------------------------------------------------------------------

    /// This member's own current record.
    pub fn local(&self) -> &Member {
        &self.me
    }

    /// The whole view: every known record, including this member, suspects and
    /// recently dead or left members.
    pub fn table(&self) -> &MemberTable {
        &self.table
    }

    /// Live (alive or suspect) members, this one included, in key order.
    pub fn live_members(&self) -> Vec<Member> {
        let mut v = Vec::with_capacity(self.table.live());
        self.table.for_each(|m| {
            if m.status().is_live() {
                v.push(m.clone())
            }
        });
        v
    }

    /// The record of the member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.table.get(crate::hash::node_hash(id.as_bytes()))
    }

    /// Counters of traffic, probes and rejections.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Rejected datagrams by reason.
    pub fn wire_rejects(&self) -> &RejectCounters {
        self.codec.rejects()
    }

    /// Lifeguard local health: 0 is healthy; higher stretches probe timing.
    pub fn health(&self) -> u32 {
        self.health
    }

    /// Records waiting in the dissemination queue.
    pub fn pending_broadcasts(&self) -> usize {
        self.broadcasts.len()
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The wire codec (to rotate keys with its keyring methods).
    pub fn codec_mut(&mut self) -> &mut Codec {
        &mut self.codec
    }

    // ----- commands ------------------------------------------------------------------

    /// Contacts `seeds` (addresses of any existing members): announces this member
    /// and starts an anti-entropy exchange with each. Seeds that are not live members
    /// are contacted again every `reconnect_interval`, so a member started before its
    /// seeds, or cut off from them, finds them later.
    pub fn join(&mut self, now: Instant, seeds: &[SocketAddr]) {
        for s in seeds {
            if *s != self.me.addr() && !self.seeds.iter().any(|(a, _)| a == s) {
                self.seeds.push((*s, 0));
            }
        }
        let seeds: Vec<SocketAddr> = self.seeds.iter().map(|(a, _)| *a).collect();
        for s in seeds {
            self.send_join(s);
        }
        self.next_reconnect = now + self.cfg.sync_interval_busy;
    }

    /// Announces new metadata (role, weight, zone); it reaches every member by gossip.
    pub fn update_meta(&mut self, now: Instant, meta: Meta) {
        let me = self.me.with_content(
            self.me.addr(),
            Arc::new(meta),
            self.me.incarnation(),
            self.me.heartbeat() + 1,
        );
        self.set_self(me);
        let _ = now;
    }

    /// Leaves gracefully: marks this member left and sends that to several members at
    /// once (it is also gossiped while the driver keeps running). Keep driving for a
    /// few gossip intervals before stopping so the news spreads.
    pub fn leave(&mut self, now: Instant) {
        if self.leaving {
            return;
        }
        self.leaving = true;
        let me = self
            .me
            .with_version(self.me.incarnation(), self.me.heartbeat() + 1, Status::Left);
        self.set_self(me.clone());
        self.emit(Event::Left(me));
        self.probe = None;
        let n = (self.cfg.gossip_fanout * 2).max(1);
        for target in self.random_live(n, &[]) {
            self.send(target.addr(), &[], true);
        }
        let _ = now;
    }

    /// Sets the placement digest carried in every packet (see
    /// [`Stats::placement_mismatches`]). The placement helper calls this.
    pub fn set_placement_digest(&mut self, digest: u64) {
        self.placement_digest = digest;
    }

    pub(crate) fn set_self(&mut self, me: Member) {
        self.me = me.clone();
        self.store(&me);
        self.broadcasts.push(me, 0);
    }

    /// Writes a changed record into the view and remembers the change for answering
    /// pulls. Every record written after construction goes through here.
    pub(crate) fn store(&mut self, m: &Member) {
        self.table.insert(m.clone());
        let window = self.cfg.gossip_interval * RECENT_ROUNDS;
        while self.recent.len() >= RECENT_MAX
            || self
                .recent
                .front()
                .is_some_and(|(t, _)| self.now.saturating_since(*t) > window)
        {
            self.recent.pop_front();
        }
        self.recent.push_back((self.now, m.clone()));
    }

    /// Answers a pull: queued broadcasts, then recent changes, while they fit.
    fn send_news(&mut self, to: SocketAddr) {
        let budget = self.codec.max_payload();
        let mut payload = Vec::with_capacity(budget);
        self.header().encode(&mut Writer::new(&mut payload));
        self.fill(&mut payload, budget);
        let window = self.cfg.gossip_interval * RECENT_ROUNDS;
        let mut w = Writer::new(&mut payload);
        for (t, m) in self.recent.iter().rev() {
            if self.now.saturating_since(*t) > window {
                break;
            }
            // The record may have changed again since; send the current one.
            let Some(cur) = self.table.get(m.key()) else {
                continue;
            };
            if w.len() + super::message::update_len(cur, 0) > budget {
                break;
            }
            super::message::encode_update(&mut w, cur, 0, true);
        }
        if payload.len() > HEADER_LEN {
            self.seal(to, &payload);
        }
    }

    // ----- sans-IO interface ---------------------------------------------------------

    /// Handles one received datagram from `from`. Rejected or malformed datagrams are
    /// counted and returned as an error; they never change state.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), DatagramError> {
        self.now = self.now.max(now);
        let mut plain = core::mem::take(&mut self.scratch);
        if let Err(e) = self.codec.open(datagram, &mut plain) {
            self.scratch = plain;
            self.stats.rejected_packets += 1;
            return Err(DatagramError::Rejected(e));
        }
        let decoded = decode_packet(&plain);
        self.scratch = plain;
        let (header, msgs) = match decoded {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed_packets += 1;
                return Err(DatagramError::Malformed(e));
            }
        };
        self.stats.received_packets += 1;
        self.stats.received_bytes += datagram.len() as u64;
        if header.digest != self.table.digest() {
            self.digest_mismatches += 1;
        } else if header.placement != 0
            && self.placement_digest != 0
            && header.placement != self.placement_digest
        {
            self.stats.placement_mismatches += 1;
        }
        if let Some(seed) = self.seeds.iter_mut().find(|(a, _)| *a == from) {
            seed.1 = header.from;
        }
        let mut pull = false;
        for msg in msgs {
            if msg == Msg::Pull {
                pull = true;
                continue;
            }
            self.handle_msg(now, from, msg);
        }
        // Push-pull: answer a gossip round with our news if the views still differ.
        if pull && header.digest != self.table.digest() {
            self.send_news(from);
        }
        Ok(())
    }

    fn handle_msg(&mut self, now: Instant, from: SocketAddr, msg: Msg) {
        match msg {
            Msg::Ping { seq, target } => self.on_ping(from, seq, target),
            Msg::Ack { seq } => self.on_ack(now, seq),
            Msg::Nack { seq } => self.on_nack(seq),
            Msg::PingReq { seq, target, addr } => self.on_ping_req(now, from, seq, target, addr),
            Msg::Update {
                member,
                accuser,
                gossip,
            } => self.apply(now, from, member, accuser, gossip),
            Msg::Summary {
                depth,
                prefix,
                children,
            } => self.on_summary(from, depth, prefix, &children),
            Msg::Want {
                depth,
                prefix,
                mask,
            } => self.on_want(from, depth, prefix, mask),
            Msg::Pull => {}
        }
    }

    /// Runs every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.probe_timers(now);
        self.suspicion_timers(now);
        if now >= self.next_gossip {
            self.gossip_round(now);
            self.next_gossip = now + self.cfg.gossip_interval;
        }
        if now >= self.next_sync {
            // Busy while exchanges teach us something or peers' views differ from ours.
            // Catching up (the last exchange taught us records): go again after a
            // few gossip rounds. Peers' views differ: after `sync_interval_busy`.
            // Otherwise the calm `sync_interval`.
            let interval = if self.learned_by_sync > 0 {
                (self.cfg.gossip_interval * 2).min(self.cfg.sync_interval_busy)
            } else if self.digest_mismatches > 0 {
                self.cfg.sync_interval_busy
            } else {
                self.cfg.sync_interval
            };
            self.learned_by_sync = 0;
            self.digest_mismatches = 0;
            self.start_sync();
            self.next_sync = now + interval;
        }
        if now >= self.next_reconnect {
            self.reconnect(now);
            // Until a seed has answered (or while alone), retry joining quickly: a
            // lost join datagram must not cost a whole reconnect interval.
            let joining = self.table.live() <= 1
                || (!self.seeds.is_empty() && self.seeds.iter().all(|&(_, k)| k == 0));
            self.next_reconnect = now
                + if joining {
                    self.cfg.sync_interval_busy
                } else {
                    self.cfg.reconnect_interval
                };
        }
    }

    /// The next instant [`Membership::handle_timeout`] must be called at.
    pub fn poll_timeout(&self) -> Instant {
        let mut t = self
            .next_gossip
            .min(self.next_sync)
            .min(self.next_reconnect);
        if !self.leaving {
            t = t.min(self.next_probe);
        }
        if let Some(p) = &self.probe {
            t = t.min(p.next_deadline());
        }
        for r in &self.relays {
            t = t.min(r.deadline);
        }
        for s in self.suspicions.values() {
            t = t.min(s.deadline);
        }
        t
    }

    /// The next datagram to send, if any. Call until it returns `None`.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmits.pop_front()?;
        self.stats.sent_packets += 1;
        self.stats.sent_bytes += t.payload.len() as u64;
        Some(t)
    }

    /// The next event, if any. Call until it returns `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- packet building -----------------------------------------------------------

    fn header(&self) -> Header {
        Header {
            from: self.me.key(),
            digest: self.table.digest(),
            placement: self.placement_digest,
        }
    }

    /// Sends `msgs` to `to` in one packet, filled up with queued broadcasts if
    /// `piggyback`.
    pub(crate) fn send(&mut self, to: SocketAddr, msgs: &[Msg], piggyback: bool) {
        let budget = self.codec.max_payload();
        let mut payload = Vec::with_capacity(256);
        let mut w = Writer::new(&mut payload);
        self.header().encode(&mut w);
        for m in msgs {
            m.encode(&mut w);
        }
        if piggyback {
            self.fill(&mut payload, budget);
        }
        if payload.len() > HEADER_LEN || piggyback {
            self.seal(to, &payload);
        }
    }

    /// Appends queued broadcasts to `payload` while they fit in `budget`.
    pub(crate) fn fill(&mut self, payload: &mut Vec<u8>, budget: usize) {
        let limit = self.cfg.retransmit_limit(self.table.live());
        let mut chosen: Vec<u64> = Vec::new();
        {
            let mut w = Writer::new(payload);
            for (m, accuser) in self.broadcasts.candidates() {
                if budget.saturating_sub(w.len()) < 24 {
                    break;
                }
                if w.len() + super::message::update_len(m, accuser) <= budget {
                    super::message::encode_update(&mut w, m, accuser, true);
                    chosen.push(m.key());
                }
            }
        }
        for k in chosen {
            self.broadcasts.sent(k, limit);
        }
    }

    /// Sends records in as many packets as they need (no piggybacking).
    pub(crate) fn send_records(&mut self, to: SocketAddr, records: &[Member]) {
        let budget = self.codec.max_payload();
        let mut payload = Vec::with_capacity(budget);
        for m in records {
            let msg = Msg::Update {
                member: m.clone(),
                accuser: 0,
                gossip: false,
            };
            if payload.len() + msg.len() > budget && payload.len() > HEADER_LEN {
                self.seal(to, &payload);
                payload.clear();
            }
            if payload.is_empty() {
                self.header().encode(&mut Writer::new(&mut payload));
            }
            if payload.len() + msg.len() <= budget {
                msg.encode(&mut Writer::new(&mut payload));
            }
        }
        if payload.len() > HEADER_LEN {
            self.seal(to, &payload);
        }
    }

    fn seal(&mut self, to: SocketAddr, payload: &[u8]) {
        let mut out = Vec::with_capacity(payload.len() + 64);
        if self.codec.seal(payload, &mut out).is_ok() {
            self.transmits.push_back(Transmit { to, payload: out });
        } else {
            // Packets are built to fit, so this is a bug or an exhausted sequence.
            self.stats.seal_failures += 1;
        }
    }

    /// The address of a random live member other than this one (`None` when alone):
    /// a peer for an exchange outside the protocol, such as a full-state sync.
    pub fn random_live_addr(&mut self) -> Option<SocketAddr> {
        self.random_live(1, &[]).pop().map(|m| m.addr())
    }

    /// Up to `n` distinct random live members other than this one and `exclude`.
    pub(crate) fn random_live(&mut self, n: usize, exclude: &[u64]) -> Vec<Member> {
        let live = self.table.live();
        let mut out: Vec<Member> = Vec::with_capacity(n);
        let mut attempts = 0;
        while out.len() < n && attempts < 4 * n + 8 {
            attempts += 1;
            if live == 0 {
                break;
            }
            let Some(m) = self.table.nth_live(self.rng.below(live)) else {
                break;
            };
            let k = m.key();
            if k == self.me.key() || exclude.contains(&k) || out.iter().any(|o| o.key() == k) {
                continue;
            }
            out.push(m.clone());
        }
        out
    }

    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    pub(crate) fn emit(&mut self, e: Event) {
        if self.cfg.events {
            self.events.push_back(e);
        }
    }
}

impl core::fmt::Debug for Membership {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Membership")
            .field("me", &self.me)
            .field("members", &self.table.len())
            .field("live", &self.table.live())
            .finish_non_exhaustive()
    }
}
