//! The JSON the page reads (`bindings-wasm/API.md`, "Live mode"): snapshots, member
//! events and action events. Field names are the contract's; nothing else is added.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use shoal_core::membership::{Event, Member, Status};
use shoal_core::native::net::NodeStatus;

use super::cluster::VNODES;
use super::traffic::Counters;

/// The contract's name of a status (`dead` is called `failed`, as its event is).
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Alive => "alive",
        Status::Suspect => "suspect",
        Status::Dead => "failed",
        Status::Left => "left",
    }
}

fn member(m: &Member, up: bool) -> Value {
    let meta = m.meta();
    json!({
        "id": m.id(),
        "addr": m.addr().to_string(),
        "status": status_name(m.status()),
        "incarnation": m.incarnation(),
        "role": meta.role,
        "weight": meta.weight,
        "zone": meta.zone,
        "up": up,
    })
}

/// A snapshot: the observer's view of every member it knows (itself included), with
/// `up` from `up` (the demo's processes; the observer, in the demo's own process, is
/// always up), and the traffic counters.
pub fn snapshot(
    time_ms: u64,
    status: &NodeStatus,
    up: &BTreeMap<String, bool>,
    traffic: &Counters,
) -> Value {
    let observer = status.local.id();
    let members: Vec<Value> = status
        .members
        .iter()
        .map(|m| {
            let is_up = m.id() == observer || up.get(m.id()).copied().unwrap_or(false);
            member(m, is_up)
        })
        .collect();
    json!({
        "timeMs": time_ms,
        "observer": observer,
        "placement": {"kind": "ring", "hash": "xxh3", "vnodes": VNODES},
        "members": members,
        "traffic": {
            "routed": traffic.routed,
            "delivered": traffic.delivered,
            "perOwner": traffic.per_owner,
        },
    })
}

/// A membership event as the observer saw it.
pub fn member_event(time_ms: u64, e: &Event, observer: &str) -> Value {
    json!({
        "timeMs": time_ms,
        "kind": e.kind(),
        "id": e.member().id(),
        "observer": observer,
    })
}

/// Something the demo did to an agent: `kill` or `restart`.
pub fn action(time_ms: u64, kind: &str, id: &str) -> Value {
    json!({"timeMs": time_ms, "kind": kind, "id": id})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_is_called_failed() {
        assert_eq!(status_name(Status::Dead), "failed");
        assert_eq!(status_name(Status::Suspect), "suspect");
    }

    #[test]
    fn an_action_has_the_contract_fields() {
        let v = action(1290, "kill", "agent-3");
        assert_eq!(v, json!({"timeMs": 1290, "kind": "kill", "id": "agent-3"}));
    }
}
