//! What the membership layer tells its user.

use alloc::vec::Vec;
use core::net::SocketAddr;

use super::member::Member;

/// A change in this member's view of the cluster, from
/// [`Membership::poll_event`](super::Membership::poll_event).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A member was seen for the first time, or came back after being declared dead or
    /// leaving (a restart: its incarnation is higher).
    Joined(Member),
    /// A live member announced new metadata or a new address.
    Updated(Member),
    /// A member is suspected of having failed; it is declared failed unless it refutes.
    Suspected(Member),
    /// A suspected or dead member (possibly this one) proved it is alive.
    Refuted(Member),
    /// A member was declared failed.
    Failed(Member),
    /// A member left on purpose.
    Left(Member),
}

impl Event {
    /// The member the event is about.
    pub fn member(&self) -> &Member {
        match self {
            Event::Joined(m)
            | Event::Updated(m)
            | Event::Suspected(m)
            | Event::Refuted(m)
            | Event::Failed(m)
            | Event::Left(m) => m,
        }
    }

    /// Lower-case name of the kind (`"joined"`, `"failed"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Joined(_) => "joined",
            Event::Updated(_) => "updated",
            Event::Suspected(_) => "suspected",
            Event::Refuted(_) => "refuted",
            Event::Failed(_) => "failed",
            Event::Left(_) => "left",
        }
    }
}

/// A datagram to send, from [`Membership::poll_transmit`](super::Membership::poll_transmit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination address.
    pub to: SocketAddr,
    /// The sealed datagram (at most [`MAX_DATAGRAM`](crate::wire::MAX_DATAGRAM) bytes).
    pub payload: Vec<u8>,
}

/// Counters of what this member sent, received and rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed out by `poll_transmit`.
    pub sent_packets: u64,
    /// Bytes in those datagrams.
    pub sent_bytes: u64,
    /// Datagrams accepted by `handle_datagram`.
    pub received_packets: u64,
    /// Bytes in those datagrams.
    pub received_bytes: u64,
    /// Datagrams rejected by the wire layer (label, key, tag, replay, ...); the reasons
    /// are counted in [`Membership::wire_rejects`](super::Membership::wire_rejects).
    pub rejected_packets: u64,
    /// Authenticated datagrams whose payload did not decode.
    pub malformed_packets: u64,
    /// Outgoing packets the codec refused to seal (should stay 0).
    pub seal_failures: u64,
    /// Probes started.
    pub probes: u64,
    /// Probes that got no ack, directly or indirectly.
    pub failed_probes: u64,
    /// Anti-entropy exchanges this member started.
    pub syncs: u64,
    /// Records received that changed this member's table.
    pub applied_updates: u64,
    /// Times this member refuted a suspicion or death of itself.
    pub refutations: u64,
    /// Members this member declared failed.
    pub declared_failed: u64,
    /// Packets from members whose placement digest differed from ours while their
    /// membership digest was equal: the same members, different placement settings.
    pub placement_mismatches: u64,
}
