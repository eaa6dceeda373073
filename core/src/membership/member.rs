//! One member record and the order in which records replace each other.
//!
//! A record is what gossip carries about a member: who it is (id, address, metadata),
//! which life it is in (`incarnation`), how many announcements it has made in that
//! life (`heartbeat`) and what the sender believes about it (`status`).
//!
//! Records merge by taking the greater of the two under one total order:
//! incarnation first, then the source's rule — the higher heartbeat wins, and on a tie
//! the worse status wins (alive < suspect < dead < left) — and finally the record hash,
//! so two different records never tie. Because merge is "max under a total order" it
//! is commutative, associative and idempotent, and every member that has seen the same
//! records holds the same state whatever order they arrived in.
//!
//! Only a member itself raises its incarnation or heartbeat; others only make its
//! status worse at the version they know. So "suspect at (3, 7)" is overturned only by
//! the member announcing (3, 8) or (4, 0): fresher evidence that it is alive.

use alloc::string::String;
use alloc::sync::Arc;
use core::cmp::Ordering;
use core::fmt;
use core::net::SocketAddr;

use crate::hash::{mix64, node_hash};
use xxhash_rust::xxh3::xxh3_64;

/// What a member's record says about its liveness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Answering probes (or not yet shown otherwise).
    Alive = 0,
    /// A probe failed; it is declared dead unless it refutes within the suspicion timeout.
    Suspect = 1,
    /// Declared failed.
    Dead = 2,
    /// Left the cluster on purpose.
    Left = 3,
}

impl Status {
    /// The status for a wire byte, if valid.
    pub fn from_u8(b: u8) -> Option<Status> {
        match b {
            0 => Some(Status::Alive),
            1 => Some(Status::Suspect),
            2 => Some(Status::Dead),
            3 => Some(Status::Left),
            _ => None,
        }
    }

    /// Alive or suspect: still a member that gets probed and gossiped to.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Alive | Status::Suspect)
    }

    /// Lower-case name (`"alive"`, `"suspect"`, `"dead"`, `"left"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Alive => "alive",
            Status::Suspect => "suspect",
            Status::Dead => "dead",
            Status::Left => "left",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Metadata a member announces about itself; placement reads `weight` and `zone`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Free-form role ("QueryEngine", "router", ...); may be empty.
    pub role: String,
    /// Placement weight (for example the vnode count: 100, 80, 120, 60); 0 means "holds
    /// no keys".
    pub weight: u32,
    /// Failure domain for zone-distinct replicas; `None` if not set.
    pub zone: Option<String>,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            role: String::new(),
            weight: 1,
            zone: None,
        }
    }
}

/// A member record. Cheap to clone (the id and metadata are shared).
#[derive(Clone, PartialEq, Eq)]
pub struct Member {
    id: Arc<str>,
    addr: SocketAddr,
    meta: Arc<Meta>,
    incarnation: u64,
    heartbeat: u64,
    status: Status,
    key: u64,
    content: u64,
}

impl Member {
    /// An alive record at incarnation 0, heartbeat 0.
    pub fn new(id: &str, addr: SocketAddr, meta: Meta) -> Member {
        Member::from_parts(Arc::from(id), addr, Arc::new(meta), 0, 0, Status::Alive)
    }

    /// A record from all its parts (used by decoders and snapshots).
    pub fn from_parts(
        id: Arc<str>,
        addr: SocketAddr,
        meta: Arc<Meta>,
        incarnation: u64,
        heartbeat: u64,
        status: Status,
    ) -> Member {
        let key = node_hash(id.as_bytes());
        let content = content_hash(key, &addr, &meta);
        Member {
            id,
            addr,
            meta,
            incarnation,
            heartbeat,
            status,
            key,
            content,
        }
    }

    /// The member's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id, shared.
    pub fn id_arc(&self) -> &Arc<str> {
        &self.id
    }

    /// `XXH3-64(id)`: the key members are stored and compared under.
    pub fn key(&self) -> u64 {
        self.key
    }

    /// The address gossip reaches the member at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The member's metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The metadata, shared.
    pub fn meta_arc(&self) -> &Arc<Meta> {
        &self.meta
    }

    /// Life counter: raised by the member when it refutes a suspicion or restarts.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Announcement counter within the incarnation (raised on metadata updates).
    pub fn heartbeat(&self) -> u64 {
        self.heartbeat
    }

    /// `(incarnation, heartbeat)`.
    pub fn version(&self) -> (u64, u64) {
        (self.incarnation, self.heartbeat)
    }

    /// What this record says about liveness.
    pub fn status(&self) -> Status {
        self.status
    }

    /// This record with another status at the same version.
    pub fn with_status(&self, status: Status) -> Member {
        Member {
            status,
            ..self.clone()
        }
    }

    /// This record at another version and status (same id, address and metadata).
    pub fn with_version(&self, incarnation: u64, heartbeat: u64, status: Status) -> Member {
        Member {
            incarnation,
            heartbeat,
            status,
            ..self.clone()
        }
    }

    /// This record with new address and metadata, at the given version, alive.
    pub fn with_content(
        &self,
        addr: SocketAddr,
        meta: Arc<Meta>,
        incarnation: u64,
        heartbeat: u64,
    ) -> Member {
        Member::from_parts(
            self.id.clone(),
            addr,
            meta,
            incarnation,
            heartbeat,
            Status::Alive,
        )
    }

    /// Hash of the whole record (content, version and status); the anti-entropy
    /// summaries XOR these.
    pub fn record_hash(&self) -> u64 {
        let mut b = [0u8; 25];
        b[..8].copy_from_slice(&self.content.to_le_bytes());
        b[8..16].copy_from_slice(&self.incarnation.to_le_bytes());
        b[16..24].copy_from_slice(&self.heartbeat.to_le_bytes());
        b[24] = self.status as u8;
        xxh3_64(&b)
    }

    /// The merge order (see the module docs): `Greater` means `self` replaces `other`.
    pub fn precedence(&self, other: &Member) -> Ordering {
        (self.incarnation, self.heartbeat, self.status)
            .cmp(&(other.incarnation, other.heartbeat, other.status))
            .then_with(|| self.record_hash().cmp(&other.record_hash()))
    }

    /// True if `self` would replace `other` in a merge.
    pub fn supersedes(&self, other: &Member) -> bool {
        self.precedence(other) == Ordering::Greater
    }

    /// Whether id, address and metadata are the same (version and status aside).
    pub fn same_content(&self, other: &Member) -> bool {
        self.content == other.content && self.id == other.id
    }
}

/// The merge of two records for the same member: the one that takes precedence.
pub fn merge(a: &Member, b: &Member) -> Member {
    if b.supersedes(a) {
        b.clone()
    } else {
        a.clone()
    }
}

fn content_hash(key: u64, addr: &SocketAddr, meta: &Meta) -> u64 {
    let mut h = mix64(key ^ 0x5348_4f41_4c00_0001);
    let mut eat = |bytes: &[u8]| h = mix64(h ^ xxh3_64(bytes)) ^ bytes.len() as u64;
    match addr {
        SocketAddr::V4(a) => eat(&a.ip().octets()),
        SocketAddr::V6(a) => eat(&a.ip().octets()),
    }
    eat(&addr.port().to_le_bytes());
    eat(meta.role.as_bytes());
    eat(&meta.weight.to_le_bytes());
    match &meta.zone {
        Some(z) => {
            eat(&[1]);
            eat(z.as_bytes())
        }
        None => eat(&[0]),
    }
    h
}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{} {} inc={} hb={}",
            self.id, self.addr, self.status, self.incarnation, self.heartbeat
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> Member {
        Member::new(id, "10.0.0.1:7000".parse().unwrap(), Meta::default())
    }

    #[test]
    fn source_rule_within_an_incarnation() {
        let a = m("a");
        let hb1 = a.with_version(0, 1, Status::Alive);
        let sus0 = a.with_status(Status::Suspect);
        assert!(
            hb1.supersedes(&sus0),
            "higher heartbeat wins over a worse status"
        );
        assert!(sus0.supersedes(&a), "same heartbeat: worse status wins");
        assert!(a.with_status(Status::Dead).supersedes(&sus0));
        assert!(a
            .with_status(Status::Left)
            .supersedes(&a.with_status(Status::Dead)));
        let inc1 = a.with_version(1, 0, Status::Alive);
        assert!(inc1.supersedes(&a.with_version(0, 99, Status::Dead)));
        assert_eq!(merge(&a, &sus0), merge(&sus0, &a));
    }

    #[test]
    fn content_changes_the_hash() {
        let a = m("a");
        let moved = a.with_content(
            "10.0.0.2:7000".parse().unwrap(),
            Arc::new(Meta::default()),
            0,
            0,
        );
        assert!(!a.same_content(&moved));
        assert_ne!(a.record_hash(), moved.record_hash());
        assert_ne!(a.precedence(&moved), Ordering::Equal);
        assert_eq!(a.key(), node_hash(b"a"));
    }
}
