//! One simulated member: shoal's [`Membership`] or the source's [`Classic`] gossip,
//! behind one face for the event loop.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::classic::Classic;
use crate::membership::{Event, Membership, Status, Transmit};
use crate::time::Instant;

/// The kind of a membership event, as [`Event::kind`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Seen for the first time, or back after a failure or leave.
    Joined,
    /// New metadata or address.
    Updated,
    /// Suspected of having failed.
    Suspected,
    /// Proved it is alive after a suspicion.
    Refuted,
    /// Declared failed.
    Failed,
    /// Left on purpose.
    Left,
}

impl EventKind {
    /// The kind of `e`.
    pub fn of(e: &Event) -> EventKind {
        match e {
            Event::Joined(_) => EventKind::Joined,
            Event::Updated(_) => EventKind::Updated,
            Event::Suspected(_) => EventKind::Suspected,
            Event::Refuted(_) => EventKind::Refuted,
            Event::Failed(_) => EventKind::Failed,
            Event::Left(_) => EventKind::Left,
        }
    }

    /// Lower-case name (`"joined"`, `"failed"`, ...), as [`Event::kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Joined => "joined",
            EventKind::Updated => "updated",
            EventKind::Suspected => "suspected",
            EventKind::Refuted => "refuted",
            EventKind::Failed => "failed",
            EventKind::Left => "left",
        }
    }
}

pub(crate) enum Agent {
    Shoal(Box<Membership>),
    Classic(Box<Classic>),
}

impl Agent {
    pub(crate) fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        match self {
            Agent::Shoal(m) => {
                let _ = m.handle_datagram(now, from, bytes);
            }
            Agent::Classic(c) => {
                let _ = c.handle_datagram(now, from, bytes);
            }
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self {
            Agent::Shoal(m) => m.handle_timeout(now),
            Agent::Classic(c) => c.handle_timeout(now),
        }
    }

    pub(crate) fn poll_timeout(&self) -> Instant {
        match self {
            Agent::Shoal(m) => m.poll_timeout(),
            Agent::Classic(c) => c.poll_timeout(),
        }
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Agent::Shoal(m) => m.poll_transmit(),
            Agent::Classic(c) => c.poll_transmit(),
        }
    }

    /// The membership events of this member since the last call, as (kind, member
    /// key). The classic protocol reports only failures.
    pub(crate) fn drain_events(&mut self, out: &mut Vec<(EventKind, u64)>) {
        match self {
            Agent::Shoal(m) => {
                while let Some(e) = m.poll_event() {
                    out.push((EventKind::of(&e), e.member().key()));
                }
            }
            Agent::Classic(c) => {
                while let Some(k) = c.poll_failed() {
                    out.push((EventKind::Failed, k));
                }
            }
        }
    }

    /// Leaves on purpose (shoal); the classic protocol has no leave, so it just stops
    /// answering, like a crash.
    pub(crate) fn leave(&mut self, now: Instant) {
        if let Agent::Shoal(m) = self {
            m.leave(now);
        }
    }

    pub(crate) fn live_count(&self) -> usize {
        match self {
            Agent::Shoal(m) => m.table().live(),
            Agent::Classic(c) => c.live_count(),
        }
    }

    pub(crate) fn status_of(&self, key: u64) -> Option<Status> {
        match self {
            Agent::Shoal(m) => m.table().get(key).map(|r| r.status()),
            Agent::Classic(c) => c.status_of(key),
        }
    }
}
