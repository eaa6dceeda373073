//! The source article's protocol, for comparison: heartbeat counters and full-state
//! push gossip.
//!
//! Every heartbeat interval a member raises its own counter; every gossip interval it
//! sends its whole member list to `k` random members it does not consider dead (to its
//! seeds while it knows nobody). Merge: a higher heartbeat wins; on a tie the worse
//! status wins. A member not heard from (no higher heartbeat) for `failure_timeout` is
//! suspect, after `cleanup_timeout` dead, after both it is removed. It runs on the
//! same wire envelope as shoal's protocol so message counts and bytes compare.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

use crate::hash::node_hash;
use crate::membership::message::{decode_addr, encode_addr};
use crate::membership::{Status, Transmit};
use crate::rng::Rng;
use crate::time::Instant;
use crate::wire::{Codec, DecodeError, Reader, Writer};

/// Timing of the classic protocol (the source's defaults, gossip every 200 ms).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicConfig {
    /// Own heartbeat increment period.
    pub heartbeat_interval: Duration,
    /// Full-state push period.
    pub gossip_interval: Duration,
    /// Members pushed to per round.
    pub fanout: usize,
    /// Silence before "suspect".
    pub failure_timeout: Duration,
    /// Silence before "dead"; removal after this plus `failure_timeout`.
    pub cleanup_timeout: Duration,
}

impl Default for ClassicConfig {
    fn default() -> Self {
        ClassicConfig {
            heartbeat_interval: Duration::from_secs(1),
            gossip_interval: Duration::from_millis(200),
            fanout: 3,
            failure_timeout: Duration::from_secs(5),
            cleanup_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
struct Peer {
    addr: SocketAddr,
    heartbeat: u64,
    status: Status,
    last_update: Instant,
}

/// Most bytes per entry: key, address (IPv6 at most), heartbeat (varint), status.
const ENTRY_MAX: usize = 8 + 19 + 10 + 1;

/// One member running the classic protocol.
pub struct Classic {
    cfg: ClassicConfig,
    key: u64,
    addr: SocketAddr,
    heartbeat: u64,
    codec: Codec,
    rng: Rng,
    peers: BTreeMap<u64, Peer>,
    /// Keys of peers not dead (gossip candidates); rebuilt when stale.
    candidates: Vec<u64>,
    candidates_stale: bool,
    live: usize,
    seeds: Vec<SocketAddr>,
    next_heartbeat: Instant,
    next_gossip: Instant,
    transmits: VecDeque<Transmit>,
    failed: VecDeque<u64>,
}

impl Classic {
    /// A member `id` at `addr`; `known` pre-seeds its list (a converged start).
    pub fn new(
        cfg: ClassicConfig,
        id: &str,
        addr: SocketAddr,
        codec: Codec,
        seed: u64,
        known: &[(u64, SocketAddr)],
        now: Instant,
    ) -> Classic {
        let key = node_hash(id.as_bytes());
        let mut peers = BTreeMap::new();
        for &(k, a) in known {
            if k != key {
                peers.insert(
                    k,
                    Peer {
                        addr: a,
                        heartbeat: 0,
                        status: Status::Alive,
                        last_update: now,
                    },
                );
            }
        }
        let live = peers.len() + 1;
        let mut rng = Rng::new(seed);
        let phase = |rng: &mut Rng, d: Duration| {
            now + Duration::from_micros(rng.below(d.as_micros() as usize + 1) as u64)
        };
        let next_heartbeat = phase(&mut rng, cfg.heartbeat_interval);
        let next_gossip = phase(&mut rng, cfg.gossip_interval);
        Classic {
            cfg,
            key,
            addr,
            heartbeat: 0,
            codec,
            rng,
            peers,
            candidates: Vec::new(),
            candidates_stale: true,
            live,
            seeds: Vec::new(),
            next_heartbeat,
            next_gossip,
            transmits: VecDeque::new(),
            failed: VecDeque::new(),
        }
    }

    /// Sets the seed addresses used while no member is known.
    pub fn join(&mut self, seeds: &[SocketAddr]) {
        self.seeds = seeds.iter().copied().filter(|s| *s != self.addr).collect();
    }

    /// Members (this one included) alive or suspect in this view.
    pub fn live_count(&self) -> usize {
        self.live
    }

    /// What this member believes about `key`.
    pub fn status_of(&self, key: u64) -> Option<Status> {
        if key == self.key {
            return Some(Status::Alive);
        }
        self.peers.get(&key).map(|p| p.status)
    }

    /// The next member this one declared dead.
    pub fn poll_failed(&mut self) -> Option<u64> {
        self.failed.pop_front()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When to call [`Classic::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Instant {
        self.next_heartbeat.min(self.next_gossip)
    }

    fn set_status(&mut self, key: u64, status: Status) {
        if let Some(p) = self.peers.get_mut(&key) {
            let was = p.status.is_live();
            p.status = status;
            match (was, status.is_live()) {
                (true, false) => self.live -= 1,
                (false, true) => self.live += 1,
                _ => {}
            }
            self.candidates_stale = true;
        }
    }

    /// Heartbeat, failure detection and gossip rounds.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.next_heartbeat {
            self.heartbeat += 1;
            self.next_heartbeat = now + self.cfg.heartbeat_interval;
            self.detect(now);
        }
        if now >= self.next_gossip {
            self.next_gossip = now + self.cfg.gossip_interval;
            self.gossip();
        }
    }

    fn detect(&mut self, now: Instant) {
        let (fail, clean) = (self.cfg.failure_timeout, self.cfg.cleanup_timeout);
        let mut changes: Vec<(u64, Option<Status>)> = Vec::new();
        for (k, p) in &self.peers {
            let silent = now.saturating_since(p.last_update);
            match p.status {
                Status::Alive if silent > fail => changes.push((*k, Some(Status::Suspect))),
                Status::Suspect if silent > clean => changes.push((*k, Some(Status::Dead))),
                Status::Dead | Status::Left if silent > clean + fail => changes.push((*k, None)),
                _ => {}
            }
        }
        for (k, s) in changes {
            match s {
                Some(Status::Dead) => {
                    self.set_status(k, Status::Dead);
                    self.failed.push_back(k);
                }
                Some(s) => self.set_status(k, s),
                None => {
                    if let Some(p) = self.peers.remove(&k) {
                        if p.status.is_live() {
                            self.live -= 1;
                        }
                    }
                    self.candidates_stale = true;
                }
            }
        }
    }

    fn gossip(&mut self) {
        if self.candidates_stale {
            self.candidates = self
                .peers
                .iter()
                .filter(|(_, p)| p.status != Status::Dead)
                .map(|(k, _)| *k)
                .collect();
            self.candidates_stale = false;
        }
        let mut targets: Vec<SocketAddr> = Vec::new();
        if self.candidates.is_empty() {
            targets.extend(self.seeds.iter().copied());
        } else {
            let n = self.cfg.fanout.min(self.candidates.len());
            let mut picked: Vec<u64> = Vec::with_capacity(n);
            let mut tries = 0;
            while picked.len() < n && tries < 8 * n {
                tries += 1;
                let r = self.rng.below(self.candidates.len());
                let k = self.candidates[r];
                if !picked.contains(&k) {
                    picked.push(k);
                }
            }
            targets.extend(
                picked
                    .iter()
                    .filter_map(|k| self.peers.get(k))
                    .map(|p| p.addr),
            );
        }
        if targets.is_empty() {
            return;
        }
        // The full state, split into datagrams.
        let budget = self.codec.max_payload();
        let mut packets: Vec<Vec<u8>> = Vec::new();
        let mut payload = Vec::with_capacity(budget);
        let entries = core::iter::once((self.key, self.addr, self.heartbeat, Status::Alive)).chain(
            self.peers
                .iter()
                .map(|(k, p)| (*k, p.addr, p.heartbeat, p.status)),
        );
        for (k, a, hb, st) in entries {
            if payload.is_empty() {
                Writer::new(&mut payload).u64(self.key);
            }
            let mut w = Writer::new(&mut payload);
            w.u64(k);
            encode_addr(&mut w, &a);
            w.varint(hb).u8(st as u8);
            if payload.len() + ENTRY_MAX > budget {
                packets.push(core::mem::take(&mut payload));
            }
        }
        if payload.len() > 8 {
            packets.push(payload);
        }
        for to in targets {
            for p in &packets {
                let mut out = Vec::with_capacity(p.len() + 64);
                if self.codec.seal(p, &mut out).is_ok() {
                    self.transmits.push_back(Transmit { to, payload: out });
                }
            }
        }
    }

    /// Merges a received full-state datagram. Returns an error for datagrams that
    /// fail the envelope or do not decode (they change nothing).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), DecodeError> {
        let mut plain = Vec::new();
        if self.codec.open(datagram, &mut plain).is_err() {
            return Err(DecodeError::Invalid("rejected by the envelope"));
        }
        let mut r = Reader::new(&plain);
        let sender = r.u64()?;
        let mut entries = Vec::new();
        while !r.is_empty() {
            let k = r.u64()?;
            let a = decode_addr(&mut r)?;
            let hb = r.varint()?;
            let st = Status::from_u8(r.u8()?).ok_or(DecodeError::Invalid("status"))?;
            entries.push((k, a, hb, st));
        }
        if sender != self.key && !self.peers.contains_key(&sender) {
            self.insert(sender, from, 0, Status::Alive, now);
        }
        for (k, a, hb, st) in entries {
            if k == self.key {
                continue;
            }
            match self.peers.get_mut(&k) {
                None => self.insert(k, a, hb, st, now),
                Some(p) => {
                    if hb > p.heartbeat || (hb == p.heartbeat && st > p.status) {
                        p.heartbeat = hb;
                        p.last_update = now;
                        self.set_status(k, st);
                    }
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, k: u64, addr: SocketAddr, hb: u64, st: Status, now: Instant) {
        self.peers.insert(
            k,
            Peer {
                addr,
                heartbeat: hb,
                status: st,
                last_update: now,
            },
        );
        if st.is_live() {
            self.live += 1;
        }
        self.candidates_stale = true;
    }
}
