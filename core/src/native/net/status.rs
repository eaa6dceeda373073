//! [`NodeStatus`]: a node's view of the cluster as the control endpoint reports it, and
//! its binary encoding (the payload of a status reply).

use std::string::String;
use std::vec::Vec;

use crate::membership::message::{decode_member, encode_member};
use crate::membership::{Member, Membership, Stats};
use crate::wire::{DecodeError, Reader, RejectCounters, Writer};

/// A node's view of the cluster at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    /// This member's own record (id, advertised address, incarnation, metadata).
    pub local: Member,
    /// Every member this node knows of, itself included, by id, with its status
    /// (alive, suspect, dead, left) and incarnation.
    pub members: Vec<Member>,
    /// Digest of the membership view (equal on members that agree on every record).
    pub membership_digest: u64,
    /// Digest of the placement layout (equal on members that place keys alike).
    pub placement_digest: u64,
    /// Named counters: packets sent, received, rejected (in total and by reason),
    /// probes, refutations, placement rebuilds and more.
    pub counters: Vec<(String, u64)>,
}

impl NodeStatus {
    /// The status of `m` with its placement digest and rebuild count.
    pub(crate) fn of(m: &Membership, placement_digest: u64, rebuilds: u64) -> NodeStatus {
        let mut members = Vec::new();
        m.table().for_each(|r| members.push(r.clone()));
        members.sort_by(|a, b| a.id().cmp(b.id()));
        let mut counters = Vec::new();
        stats_counters(m.stats(), &mut counters);
        reject_counters(m.wire_rejects(), &mut counters);
        counters.push(("placement_rebuilds".into(), rebuilds));
        NodeStatus {
            local: m.local().clone(),
            members,
            membership_digest: m.table().digest(),
            placement_digest,
            counters,
        }
    }

    /// Members whose status is alive or suspect.
    pub fn live(&self) -> usize {
        self.members.iter().filter(|m| m.status().is_live()).count()
    }

    /// The counter called `name`, if present.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| v)
    }

    /// Encodes the status (the control protocol's status reply).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.u8(VERSION);
        encode_member(&mut w, &self.local);
        w.u64(self.membership_digest).u64(self.placement_digest);
        w.varint(self.members.len() as u64);
        for m in &self.members {
            encode_member(&mut w, m);
        }
        w.varint(self.counters.len() as u64);
        for (name, value) in &self.counters {
            w.str(name).varint(*value);
        }
        out
    }

    /// Decodes [`NodeStatus::encode`]'s output; anything else is an error, never a
    /// panic.
    pub fn decode(bytes: &[u8]) -> Result<NodeStatus, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(DecodeError::Invalid("status version"));
        }
        let local = decode_member(&mut r)?;
        let membership_digest = r.u64()?;
        let placement_digest = r.u64()?;
        let n = r.varint()?;
        let mut members = Vec::new();
        for _ in 0..n {
            // Each record takes several bytes: a count beyond the input fails here.
            members.push(decode_member(&mut r)?);
        }
        let n = r.varint()?;
        let mut counters = Vec::new();
        for _ in 0..n {
            let name = r.str()?;
            counters.push((name.into(), r.varint()?));
        }
        r.finish()?;
        Ok(NodeStatus {
            local,
            members,
            membership_digest,
            placement_digest,
            counters,
        })
    }
}

const VERSION: u8 = 1;

fn stats_counters(s: &Stats, out: &mut Vec<(String, u64)>) {
    let pairs = [
        ("sent_packets", s.sent_packets),
        ("sent_bytes", s.sent_bytes),
        ("received_packets", s.received_packets),
        ("received_bytes", s.received_bytes),
        ("rejected_packets", s.rejected_packets),
        ("malformed_packets", s.malformed_packets),
        ("seal_failures", s.seal_failures),
        ("probes", s.probes),
        ("failed_probes", s.failed_probes),
        ("syncs", s.syncs),
        ("applied_updates", s.applied_updates),
        ("refutations", s.refutations),
        ("declared_failed", s.declared_failed),
        ("placement_mismatches", s.placement_mismatches),
    ];
    out.extend(pairs.iter().map(|&(n, v)| (String::from(n), v)));
}

fn reject_counters(r: &RejectCounters, out: &mut Vec<(String, u64)>) {
    let pairs = [
        ("rejected_too_long", r.too_long),
        ("rejected_too_short", r.too_short),
        ("rejected_bad_magic", r.bad_magic),
        ("rejected_unsupported_version", r.unsupported_version),
        ("rejected_bad_flags", r.bad_flags),
        ("rejected_label_mismatch", r.label_mismatch),
        ("rejected_missing_auth", r.missing_auth),
        ("rejected_unexpected_auth", r.unexpected_auth),
        ("rejected_unknown_key", r.unknown_key),
        ("rejected_bad_tag", r.bad_tag),
        ("rejected_replayed", r.replayed),
        ("rejected_too_old", r.too_old),
    ];
    out.extend(pairs.iter().map(|&(n, v)| (String::from(n), v)));
}
