//! `Member` and `Event`: a member record and a membership change, as frozen Python
//! values.

use pyo3::prelude::*;
use shoal_core::membership as core;

/// A member of the cluster as one node sees it.
#[pyclass(module = "shoal._native", frozen, get_all, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Member {
    /// The member's id.
    id: String,
    /// The address it is reached at, `"ip:port"` (UDP gossip, TCP routing).
    address: String,
    /// `"alive"`, `"suspect"` (a probe failed), `"dead"` (declared failed) or `"left"`.
    status: &'static str,
    /// Bumped by the member itself to refute a suspicion or announce new metadata.
    incarnation: u64,
    /// The role it announces (free-form, may be empty).
    role: String,
    /// Its placement weight (0: it holds no keys).
    weight: u32,
    /// Its failure domain, if any.
    zone: Option<String>,
}

impl From<&core::Member> for Member {
    fn from(m: &core::Member) -> Member {
        let meta = m.meta();
        Member {
            id: m.id().into(),
            address: m.addr().to_string(),
            status: m.status().as_str(),
            incarnation: m.incarnation(),
            role: meta.role.clone(),
            weight: meta.weight,
            zone: meta.zone.clone(),
        }
    }
}

#[pymethods]
impl Member {
    /// Whether the member is alive or suspect (it still holds its keys).
    #[getter]
    fn live(&self) -> bool {
        matches!(self.status, "alive" | "suspect")
    }

    fn __repr__(&self) -> String {
        let zone = match &self.zone {
            Some(z) => format!("{z:?}"),
            None => "None".into(),
        };
        format!(
            "Member(id={:?}, address={:?}, status={:?}, incarnation={}, role={:?}, weight={}, zone={zone})",
            self.id, self.address, self.status, self.incarnation, self.role, self.weight
        )
    }
}

/// A change in a node's view of the cluster.
#[pyclass(module = "shoal._native", frozen, get_all, eq)]
#[derive(Clone, PartialEq)]
pub struct Event {
    /// `"joined"`, `"updated"`, `"suspected"`, `"refuted"`, `"failed"` or `"left"`.
    kind: &'static str,
    /// The member the event is about, as it was at the event.
    member: Member,
}

impl From<&core::Event> for Event {
    fn from(e: &core::Event) -> Event {
        Event {
            kind: e.kind(),
            member: e.member().into(),
        }
    }
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        format!("Event(kind={:?}, member={:?})", self.kind, self.member.id)
    }
}
