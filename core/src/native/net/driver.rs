//! The node's driver thread: the sans-IO membership core run over a UDP socket.
//!
//! One loop: run due timers, wait for a datagram until the next deadline (at most
//! [`MAX_WAIT`], so handle commands are picked up promptly), hand it to the core, send
//! what the core queued, fan events out to subscribers, and rebuild and swap the
//! placement layout when the placed members change.

use core::sync::atomic::Ordering;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant};
use std::vec::Vec;

use arc_swap::ArcSwap;

use super::config::NodeConfig;
use super::error::NetError;
use super::impair::Impaired;
use super::node::{lock, Command, Shared};
use super::random::random_u64;
use super::route::inbox::Inbox;
use super::state::{self, STATE_SYNC_EVERY};
use super::status::NodeStatus;
use crate::membership::{Member, MemberTable, Membership, PlacementFollower};
use crate::time::Instant;
use crate::wire::{Codec, CodecConfig, ReplayConfig};

/// Longest wait for a datagram before looking at commands again.
const MAX_WAIT: Duration = Duration::from_millis(20);
/// How often the published status is refreshed when nothing changed.
const STATUS_EVERY: Duration = Duration::from_millis(100);
/// Longest time spent spreading the goodbye after `leave`.
const LEAVE_GRACE: Duration = Duration::from_millis(500);

pub(crate) struct Driver {
    udp: UdpSocket,
    m: Membership,
    follower: PlacementFollower,
    start: StdInstant,
    /// Injected loss and delay (`None`: datagrams go out as they are).
    impaired: Option<Impaired>,
    /// Seals full-state pushes (a session of its own, see `state.rs`).
    state_codec: Codec,
    advertise: SocketAddr,
    seeds: Vec<SocketAddr>,
    /// The full-state exchange in flight, if any.
    syncing: Option<JoinHandle<()>>,
    next_state_sync: StdInstant,
    /// Full-state exchanges completed (as requester or answerer).
    state_syncs: u64,
}

impl Driver {
    /// The core, codec and placement for `cfg`, and the state shared with the handle.
    pub fn new(
        cfg: &NodeConfig,
        udp: UdpSocket,
        advertise: SocketAddr,
        id: &str,
    ) -> Result<(Driver, Shared), NetError> {
        cfg.impair.validate().map_err(NetError::InvalidConfig)?;
        let codec_cfg = CodecConfig {
            label: cfg.label.clone(),
            keyring: cfg.keyring.clone(),
            encrypt: cfg.encrypt,
            replay: ReplayConfig::default(),
        };
        let codec = Codec::new(codec_cfg.clone(), random_u64()?)?;
        let state_codec = Codec::new(codec_cfg, random_u64()?)?;
        let local = Member::new(id, advertise, cfg.meta.clone());
        let start = StdInstant::now();
        let mut m = Membership::new(
            cfg.protocol.clone(),
            local,
            codec,
            random_u64()?,
            MemberTable::new(),
            Instant::ZERO,
        )?;
        let mut follower = PlacementFollower::new(cfg.placement.clone())?;
        follower.sync(&mut m)?;
        m.join(Instant::ZERO, &cfg.seeds);
        let status = NodeStatus::of(&m, follower.digest(), follower.rebuilds());
        let shared = Shared {
            placement: ArcSwap::from_pointee(follower.clone()),
            status: ArcSwap::from_pointee(status),
            subscribers: Mutex::new(Vec::new()),
            commands: Mutex::new(Vec::new()),
            stop: false.into(),
            stopped: false.into(),
            id: id.into(),
            inbox: Mutex::new(Inbox::default()),
        };
        let impaired = if cfg.impair.is_none() {
            None
        } else {
            Some(Impaired::new(cfg.impair, random_u64()?))
        };
        let driver = Driver {
            udp,
            m,
            follower,
            start,
            impaired,
            state_codec,
            advertise,
            seeds: cfg.seeds.clone(),
            syncing: None,
            next_state_sync: StdInstant::now(),
            state_syncs: 0,
        };
        Ok((driver, shared))
    }

    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// Runs until the handle asks to leave (or stop) and the grace period is over.
    pub fn run(mut self, shared: Arc<Shared>) {
        let shared = &shared;
        let mut buf = std::vec![0u8; 65_536];
        let mut last_status = StdInstant::now();
        let mut leave_until: Option<StdInstant> = None;
        loop {
            let commands = core::mem::take(&mut *lock(&shared.commands));
            let mut own_meta_changed = false;
            for c in commands {
                let now = self.now();
                match c {
                    Command::UpdateMeta(meta) => {
                        self.m.update_meta(now, meta);
                        own_meta_changed = true;
                    }
                    Command::SetKeyring(k) => {
                        let _ = self.state_codec.set_keyring(Some(k.clone()));
                        let _ = self.m.codec_mut().set_keyring(Some(k));
                    }
                    Command::MergeState {
                        from,
                        packets,
                        reply,
                    } => self.merge_state(from, &packets, reply),
                    Command::Leave => {
                        if leave_until.is_none() {
                            self.m.leave(now);
                            let grace = (self.m.config().gossip_interval * 3).min(LEAVE_GRACE);
                            leave_until = Some(StdInstant::now() + grace);
                        }
                    }
                }
            }
            // Our own new weight or zone changes our own placement too; that raises no
            // membership event here, so re-sync now rather than on the next event.
            if own_meta_changed {
                self.sync_placement(shared);
            }
            if shared.stop.load(Ordering::Acquire)
                || leave_until.is_some_and(|t| StdInstant::now() >= t)
            {
                break;
            }
            let now = self.now();
            let mut due = self.m.poll_timeout();
            if let Some(t) = self.impaired.as_ref().and_then(Impaired::next_due) {
                due = due.min(now + t.saturating_duration_since(StdInstant::now()));
            }
            if self.m.poll_timeout() <= now {
                self.m.handle_timeout(now);
            } else {
                let wait = (due - now).clamp(Duration::from_micros(100), MAX_WAIT);
                let _ = self.udp.set_read_timeout(Some(wait));
                // Errors are timeouts or ICMP reports of an earlier send (a peer that
                // went away); the protocol handles both.
                if let Ok((n, from)) = self.udp.recv_from(&mut buf) {
                    let now = self.now();
                    let _ = self.m.handle_datagram(now, from, &buf[..n]);
                }
            }
            self.send_queued();
            if leave_until.is_none() {
                self.maybe_sync_state(shared);
            }
            let changed = self.dispatch_events(shared);
            if changed || last_status.elapsed() >= STATUS_EVERY {
                self.publish_status(shared);
                last_status = StdInstant::now();
            }
        }
        self.send_queued();
        self.publish_status(shared);
        shared.stopped.store(true, Ordering::Release);
        if let Some(t) = self.syncing.take() {
            let _ = t.join(); // bounded by the exchange's timeouts
        }
        // Dropping the senders ends every `Events` iterator.
        lock(&shared.subscribers).clear();
    }

    /// Our whole view as sealed packets for `to`, by the state codec.
    fn sealed_state(&mut self, to: SocketAddr) -> Vec<Vec<u8>> {
        core::mem::swap(self.m.codec_mut(), &mut self.state_codec);
        let packets = self.m.seal_state(to);
        core::mem::swap(self.m.codec_mut(), &mut self.state_codec);
        packets
    }

    /// Merges a peer's full state (from TCP); answers with ours when asked.
    fn merge_state(
        &mut self,
        from: SocketAddr,
        packets: &[Vec<u8>],
        reply: Option<mpsc::Sender<Vec<Vec<u8>>>>,
    ) {
        let now = self.now();
        for p in packets {
            let _ = self.m.handle_datagram(now, from, p);
        }
        if let Some(reply) = reply {
            let _ = reply.send(self.sealed_state(from));
        }
        self.state_syncs += 1;
    }

    /// Starts a full-state exchange when one is due: with the first seed on start,
    /// then with a random live member every [`STATE_SYNC_EVERY`].
    fn maybe_sync_state(&mut self, shared: &Arc<Shared>) {
        if StdInstant::now() < self.next_state_sync
            || self.syncing.as_ref().is_some_and(|t| !t.is_finished())
        {
            return;
        }
        self.next_state_sync = StdInstant::now() + STATE_SYNC_EVERY;
        let peer = if self.state_syncs == 0 && !self.seeds.is_empty() {
            self.seeds.first().copied()
        } else {
            self.m.random_live_addr()
        };
        let Some(peer) = peer.filter(|&p| p != self.advertise) else {
            return;
        };
        let packets = self.sealed_state(peer);
        let (shared, advertise) = (shared.clone(), self.advertise);
        self.syncing = std::thread::Builder::new()
            .name("shoal-node-sync".into())
            .spawn(move || {
                let _ = state::exchange(&shared, advertise, peer, &packets);
            })
            .ok();
    }

    fn send_queued(&mut self) {
        let Some(imp) = self.impaired.as_mut() else {
            while let Some(t) = self.m.poll_transmit() {
                let _ = self.udp.send_to(&t.payload, t.to);
            }
            return;
        };
        let now = StdInstant::now();
        while let Some(t) = self.m.poll_transmit() {
            if let Some((to, p)) = imp.offer(now, t.to, t.payload) {
                let _ = self.udp.send_to(&p, to);
            }
        }
        while let Some((to, p)) = imp.due(now) {
            let _ = self.udp.send_to(&p, to);
        }
    }

    /// Hands events to subscribers; on any, re-syncs placement and swaps in a new
    /// layout if it changed. Returns whether there were events.
    fn dispatch_events(&mut self, shared: &Shared) -> bool {
        let mut any = false;
        while let Some(e) = self.m.poll_event() {
            any = true;
            lock(&shared.subscribers).retain(|s| s.send(e.clone()).is_ok());
        }
        if any {
            self.sync_placement(shared);
        }
        any
    }

    /// Rebuilds the placement if the live members' weights or zones changed, and
    /// publishes it to readers.
    fn sync_placement(&mut self, shared: &Shared) {
        if self.follower.sync(&mut self.m).unwrap_or(false) {
            shared.placement.store(Arc::new(self.follower.clone()));
        }
    }

    fn publish_status(&self, shared: &Shared) {
        let mut s = NodeStatus::of(&self.m, self.follower.digest(), self.follower.rebuilds());
        if let Some(imp) = &self.impaired {
            s.counters.push(("impair_dropped".into(), imp.dropped));
        }
        s.counters.push(("state_syncs".into(), self.state_syncs));
        let routes = lock(&shared.inbox).counters;
        s.counters
            .push(("routes_delivered".into(), routes.delivered));
        s.counters
            .push(("routes_duplicate".into(), routes.duplicates));
        s.counters.push(("routes_refused".into(), routes.refused));
        shared.status.store(Arc::new(s));
    }
}
