//! Merging a received record into the view: precedence, the events it causes,
//! confirmations of suspicions, and self-refutation.
//!
//! Records about unknown members are added only if they are live: a dead or left
//! record for a member this one has never seen (or already forgot) is ignored, so
//! tombstones drain out of the cluster instead of circulating forever.

use super::engine::Membership;
use super::event::Event;
use core::net::SocketAddr;

use super::member::{Member, Status};
use super::message::Msg;
use crate::time::Instant;

impl Membership {
    /// Merges `rec`, received from `from`. `gossip` records that change the view are
    /// passed on.
    pub(crate) fn apply(
        &mut self,
        now: Instant,
        from: SocketAddr,
        rec: Member,
        accuser: u64,
        gossip: bool,
    ) {
        let key = rec.key();
        if key == self.me.key() {
            self.on_self(from, rec);
            return;
        }
        let Some(old) = self.table.get(key).cloned() else {
            if !rec.status().is_live() {
                return;
            }
            self.adopt(&rec, accuser, gossip);
            if rec.status() == Status::Suspect {
                self.start_suspicion(now, key, rec.version(), accuser);
            }
            self.emit(Event::Joined(rec));
            return;
        };
        if !rec.supersedes(&old) {
            // The same suspicion from someone else: a Lifeguard confirmation.
            if rec.status() == Status::Suspect
                && old.status() == Status::Suspect
                && rec.version() == old.version()
                && self.confirm(now, key, rec.version(), accuser)
                && gossip
            {
                self.broadcasts.push(old, accuser);
            }
            return;
        }
        self.adopt(&rec, accuser, gossip);
        // New metadata or address of a member that stays live is an update, whatever
        // else happened to its status.
        let content_changed =
            !old.same_content(&rec) && old.status().is_live() && rec.status().is_live();
        match (old.status(), rec.status()) {
            (Status::Suspect, Status::Alive) => {
                self.suspicions.remove(&key);
                self.emit(Event::Refuted(rec.clone()));
            }
            (Status::Dead | Status::Left, Status::Alive | Status::Suspect) => {
                self.dead_since.remove(&key);
                let suspect = rec.status() == Status::Suspect;
                self.emit(Event::Joined(rec.clone()));
                if suspect {
                    self.start_suspicion(now, key, rec.version(), accuser);
                    self.emit(Event::Suspected(rec.clone()));
                }
            }
            (Status::Alive, Status::Alive) => {}
            (Status::Alive, Status::Suspect) => {
                self.start_suspicion(now, key, rec.version(), accuser);
                self.emit(Event::Suspected(rec.clone()));
            }
            (Status::Suspect, Status::Suspect) => {
                // A suspicion of a newer version: start over at that version.
                self.start_suspicion(now, key, rec.version(), accuser);
            }
            (old_status, Status::Dead | Status::Left) => {
                self.suspicions.remove(&key);
                self.dead_since.insert(key, now);
                if old_status.is_live() {
                    let left = rec.status() == Status::Left;
                    self.emit(if left {
                        Event::Left(rec.clone())
                    } else {
                        Event::Failed(rec.clone())
                    });
                }
            }
        }
        if content_changed {
            self.emit(Event::Updated(rec));
        }
    }

    /// Takes a received record that changes the view: stores it, then passes a
    /// rumor on or counts what anti-entropy taught.
    fn adopt(&mut self, rec: &Member, accuser: u64, gossip: bool) {
        self.store(rec);
        self.stats.applied_updates += 1;
        if gossip {
            self.broadcasts.push(rec.clone(), accuser);
        } else {
            self.learned_by_sync += 1;
        }
    }

    /// A record about this member arrived. Anything at or above our version that is
    /// not exactly our current record — a suspicion, a death, or a previous life with
    /// a higher version — is refuted by starting a higher incarnation. An accusation
    /// older than our current version (the sender missed our refutation) is answered
    /// with our current record, so the sender cannot go on to declare us failed.
    fn on_self(&mut self, from: SocketAddr, rec: Member) {
        if self.leaving {
            return;
        }
        if rec.version() < self.me.version() {
            if rec.status() != Status::Alive {
                let me = Msg::Update {
                    member: self.me.clone(),
                    accuser: 0,
                    gossip: true,
                };
                self.send(from, &[me], false);
            }
            return;
        }
        if rec == self.me {
            return;
        }
        let incarnation = self.me.incarnation().max(rec.incarnation()) + 1;
        let me = self.me.with_version(incarnation, 0, Status::Alive);
        self.set_self(me.clone());
        self.stats.refutations += 1;
        self.health = (self.health + 1).min(self.cfg.max_health);
        self.emit(Event::Refuted(me));
    }
}
