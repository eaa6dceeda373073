//! Dissemination rounds and anti-entropy.
//!
//! **Gossip.** Every `gossip_interval` the queued records go to `gossip_fanout`
//! random live members (and, for `gossip_to_dead` after a death, sometimes to the dead
//! member, so one declared dead by mistake learns it and refutes). Each of these
//! packets also asks for the receiver's news; with nothing to push, a member still
//! asks `pull_fanout` members (one small datagram). A member answers a pull only when
//! the asker's membership digest differs from its own, with its queued broadcasts and
//! the records that changed in its view during the last 10 rounds. So the last
//! members to hear of a change pull it instead of waiting to be pushed to (push-pull:
//! the tail shrinks doubly exponentially), and a settled cluster answers nothing.
//!
//! **Push-pull by summary.** Every `sync_interval` this member sends a random live
//! member the 64 child summaries (count and XOR of record hashes) of its whole table.
//! The receiver compares them with its own: for each child that differs it pushes its
//! records when either side's subtree is small (`sync_leaf_records`) or the other side
//! has none, asks for the other side's records ("want") when it has none or both are
//! small, and otherwise sends the summaries of that child one level down, where the
//! roles swap. Equal tables cost one datagram; a single changed record costs a few
//! small ones whatever the cluster size; a new member receives everything. Every
//! datagram stays under the MTU.
//!
//! **Reconnect.** Every `reconnect_interval`, seeds that are not live members and one
//! random recently dead member are sent a join (our record and a root summary), so a
//! cluster split by a partition finds itself again; records dead for longer than
//! `dead_retention` are dropped.

use alloc::vec::Vec;
use core::net::SocketAddr;

use super::engine::Membership;
use super::member::Member;
use super::message::Msg;
use super::table::{child_prefix, Agg, MAX_DEPTH};
use crate::time::Instant;

impl Membership {
    pub(crate) fn gossip_round(&mut self, now: Instant) {
        if self.broadcasts.is_empty() {
            // Nothing to push: ask `pull_fanout` members for their news.
            for t in self.random_live(self.cfg.pull_fanout, &[]) {
                self.send(t.addr(), &[Msg::Pull], false);
            }
            return;
        }
        let mut targets = self.random_live(self.cfg.gossip_fanout, &[]);
        // Now and then, a member that died recently.
        if !self.dead_since.is_empty() && self.rng.below(4) == 0 {
            let i = self.rng.below(self.dead_since.len());
            if let Some((&k, &t)) = self.dead_since.iter().nth(i) {
                if now.saturating_since(t) < self.cfg.gossip_to_dead {
                    if let Some(m) = self.table.get(k) {
                        targets.push(m.clone());
                    }
                }
            }
        }
        for t in targets {
            self.send(t.addr(), &[Msg::Pull], true);
        }
    }

    pub(crate) fn start_sync(&mut self) {
        let Some(peer) = self.random_live(1, &[]).pop() else {
            return;
        };
        self.stats.syncs += 1;
        self.send_summary(peer.addr(), 0, 0);
    }

    fn send_summary(&mut self, to: SocketAddr, depth: u8, prefix: u64) {
        let children = alloc::boxed::Box::new(self.table.summary(depth, prefix));
        self.send(
            to,
            &[Msg::Summary {
                depth,
                prefix,
                children,
            }],
            false,
        );
    }

    /// Announces this member to `to` and starts an exchange with it (one datagram,
    /// or two when a long record and a full summary do not fit together).
    pub(crate) fn send_join(&mut self, to: SocketAddr) {
        let record = Msg::Update {
            member: self.me.clone(),
            accuser: 0,
            gossip: true,
        };
        let summary = Msg::Summary {
            depth: 0,
            prefix: 0,
            children: alloc::boxed::Box::new(self.table.summary(0, 0)),
        };
        let room = self.codec.max_payload() - super::message::HEADER_LEN;
        if record.len() + summary.len() <= room {
            self.send(to, &[record, summary], false);
        } else {
            self.send(to, &[record], false);
            self.send(to, &[summary], false);
        }
    }

    pub(crate) fn on_summary(
        &mut self,
        from: SocketAddr,
        depth: u8,
        prefix: u64,
        theirs: &[Agg; 64],
    ) {
        let mine = self.table.summary(depth, prefix);
        let small = self.cfg.sync_leaf_records;
        let mut push = 0u64;
        let mut want = 0u64;
        let mut descended = false;
        for i in 0..64 {
            let (a, b) = (theirs[i], mine[i]);
            if a.count == b.count && a.hash == b.hash {
                continue;
            }
            let bit = 1u64 << i;
            if b.count == 0 {
                want |= bit;
            } else if a.count == 0 {
                push |= bit;
            } else if depth >= MAX_DEPTH || (a.count <= small && b.count <= small) {
                push |= bit;
                want |= bit;
            } else {
                descended = true;
                self.send_summary(from, depth + 1, child_prefix(prefix, depth, i));
            }
        }
        if depth == 0 && push == 0 && want == 0 && !descended {
            // Equal tables: still answer, so a joining member learns its seed is
            // there (and gets any queued news).
            self.send(from, &[], true);
            return;
        }
        if push != 0 {
            self.push_records(from, depth, prefix, push);
        }
        if want != 0 {
            self.send(
                from,
                &[Msg::Want {
                    depth,
                    prefix,
                    mask: want,
                }],
                false,
            );
        }
    }

    pub(crate) fn on_want(&mut self, from: SocketAddr, depth: u8, prefix: u64, mask: u64) {
        self.push_records(from, depth, prefix, mask);
    }

    fn push_records(&mut self, to: SocketAddr, depth: u8, prefix: u64, mask: u64) {
        let mut records: Vec<Member> = Vec::new();
        let mut bits = mask;
        while bits != 0 {
            let slot = bits.trailing_zeros() as usize;
            self.table
                .for_each_in(depth, prefix, slot, |m| records.push(m.clone()));
            bits &= bits - 1;
        }
        self.send_records(to, &records);
    }

    /// Seals every record of the view (this member's included) for `to`, in as many
    /// packets as they need, and returns them instead of queueing them: a full-state
    /// push for a stream transport such as TCP, where a view larger than a datagram
    /// arrives whole. The receiver hands each packet to
    /// [`handle_datagram`](Membership::handle_datagram) as if it came from `to`'s
    /// side, so it is authenticated and merged like any other.
    pub fn seal_state(&mut self, to: SocketAddr) -> Vec<Vec<u8>> {
        let mut records = Vec::new();
        self.table.for_each(|m| records.push(m.clone()));
        let queued = core::mem::take(&mut self.transmits);
        self.send_records(to, &records);
        let state = core::mem::replace(&mut self.transmits, queued);
        state.into_iter().map(|t| t.payload).collect()
    }

    pub(crate) fn reconnect(&mut self, now: Instant) {
        // Seeds never heard from, or whose member is no longer live.
        let lost: Vec<SocketAddr> = self
            .seeds
            .iter()
            .filter(|(_, k)| *k == 0 || !self.table.get(*k).is_some_and(|m| m.status().is_live()))
            .map(|(s, _)| *s)
            .collect();
        for s in lost {
            self.send_join(s);
        }
        // Forget long-dead members; re-probe one recently dead.
        let expired: Vec<u64> = self
            .dead_since
            .iter()
            .filter(|(_, &t)| now.saturating_since(t) >= self.cfg.dead_retention)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.dead_since.remove(&k);
            self.broadcasts.remove(k);
            self.table.remove(k);
        }
        if !self.dead_since.is_empty() {
            let i = self.rng.below(self.dead_since.len());
            let addr = self
                .dead_since
                .keys()
                .nth(i)
                .and_then(|k| self.table.get(*k))
                .map(|m| m.addr());
            if let Some(a) = addr {
                self.send_join(a);
            }
        }
    }
}
