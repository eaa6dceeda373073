//! `Member` and `MembershipEvent`: a member record and a membership change, as plain
//! JavaScript objects (snapshots; they do not change afterwards).

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use shoal_core::membership as core;

/// A member of the cluster as one node sees it.
#[napi(object)]
#[derive(Clone)]
pub struct Member {
    /// The member's id.
    pub id: String,
    /// The address it is reached at, `"ip:port"` (UDP gossip, TCP routing).
    pub address: String,
    /// `"alive"`, `"suspect"` (a probe failed), `"dead"` (declared failed) or `"left"`.
    #[napi(ts_type = "'alive' | 'suspect' | 'dead' | 'left'")]
    pub status: String,
    /// Whether it is alive or suspect (it still holds its keys).
    pub live: bool,
    /// Bumped by the member itself to refute a suspicion or announce new metadata.
    pub incarnation: BigInt,
    /// The role it announces (free-form, may be empty).
    pub role: String,
    /// Its placement weight (0: it holds no keys).
    pub weight: u32,
    /// Its failure domain (absent when it has none).
    pub zone: Option<String>,
}

impl From<&core::Member> for Member {
    fn from(m: &core::Member) -> Member {
        let meta = m.meta();
        Member {
            id: m.id().into(),
            address: m.addr().to_string(),
            status: m.status().as_str().into(),
            live: m.status().is_live(),
            incarnation: BigInt::from(m.incarnation()),
            role: meta.role.clone(),
            weight: meta.weight,
            zone: meta.zone.clone(),
        }
    }
}

/// A change in a node's view of the cluster.
#[napi(object)]
#[derive(Clone)]
pub struct MembershipEvent {
    /// `"joined"`, `"updated"`, `"suspected"`, `"refuted"`, `"failed"` or `"left"`.
    #[napi(ts_type = "'joined' | 'updated' | 'suspected' | 'refuted' | 'failed' | 'left'")]
    pub kind: String,
    /// The member the event is about, as it was at the event.
    pub member: Member,
}

impl From<&core::Event> for MembershipEvent {
    fn from(e: &core::Event) -> MembershipEvent {
        MembershipEvent {
            kind: e.kind().into(),
            member: e.member().into(),
        }
    }
}
