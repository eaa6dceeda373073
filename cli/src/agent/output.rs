//! How `shoal agent` and `shoal status` print members, events and status: text lines
//! for people, JSON (one object per line for events) for programs.

use serde_json::{json, Value};
use shoal_core::membership::{Event, Member};
use shoal_core::native::net::NodeStatus;

/// A member as JSON.
pub fn member_json(m: &Member) -> Value {
    let meta = m.meta();
    json!({
        "id": m.id(),
        "addr": m.addr().to_string(),
        "status": m.status().as_str(),
        "incarnation": m.incarnation(),
        "role": meta.role,
        "weight": meta.weight,
        "zone": meta.zone,
    })
}

/// One event line.
pub fn event_line(e: &Event, json: bool) -> String {
    let m = e.member();
    if json {
        let mut v = member_json(m);
        v["event"] = json!(e.kind());
        return v.to_string();
    }
    format!(
        "{} {} {} incarnation={} role={} weight={}{}",
        e.kind(),
        m.id(),
        m.addr(),
        m.incarnation(),
        if m.meta().role.is_empty() {
            "-"
        } else {
            &m.meta().role
        },
        m.meta().weight,
        m.meta()
            .zone
            .as_deref()
            .map(|z| format!(" zone={z}"))
            .unwrap_or_default()
    )
}

/// A status as JSON.
pub fn status_json(s: &NodeStatus) -> Value {
    let counters: serde_json::Map<String, Value> = s
        .counters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "local": member_json(&s.local),
        "live": s.live(),
        "membership_digest": format!("{:016x}", s.membership_digest),
        "placement_digest": format!("{:016x}", s.placement_digest),
        "members": s.members.iter().map(member_json).collect::<Vec<_>>(),
        "counters": counters,
    })
}

/// A status as a table.
pub fn status_text(s: &NodeStatus) -> String {
    let mut out = format!(
        "agent {} at {} (incarnation {})\nmembers: {} live of {} known\nmembership digest {:016x}  placement digest {:016x}\n\n",
        s.local.id(),
        s.local.addr(),
        s.local.incarnation(),
        s.live(),
        s.members.len(),
        s.membership_digest,
        s.placement_digest
    );
    let id_w = s
        .members
        .iter()
        .map(|m| m.id().len())
        .max()
        .unwrap_or(2)
        .max(2);
    out += &format!(
        "  {:id_w$}  {:21}  {:7}  {:>11}  {:14}  {:>6}  zone\n",
        "id", "address", "status", "incarnation", "role", "weight"
    );
    for m in &s.members {
        let meta = m.meta();
        out += &format!(
            "  {:id_w$}  {:21}  {:7}  {:>11}  {:14}  {:>6}  {}\n",
            m.id(),
            m.addr().to_string(),
            m.status().as_str(),
            m.incarnation(),
            if meta.role.is_empty() {
                "-"
            } else {
                &meta.role
            },
            meta.weight,
            meta.zone.as_deref().unwrap_or("-")
        );
    }
    out += "\ncounters (non-zero)\n";
    for (k, v) in s.counters.iter().filter(|(_, v)| *v != 0) {
        out += &format!("  {k:30} {v}\n");
    }
    out
}
