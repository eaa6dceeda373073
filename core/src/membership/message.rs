//! The membership protocol's messages and their byte encoding (inside the wire
//! envelope).
//!
//! A packet is a header — the sender's key, its membership digest and its placement
//! digest — followed by messages until the end of the payload, each a tag byte and a
//! body. Decoding validates everything (tags, statuses, address families, lengths)
//! and never panics; a packet that fails to decode is dropped whole.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::member::{Member, Meta, Status};
use super::table::Agg;
use crate::wire::{varint_len, DecodeError, Reader, Writer};

/// Bytes of the packet header.
pub(crate) const HEADER_LEN: usize = 24;

/// What every packet starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// `XXH3-64(id)` of the sender.
    pub from: u64,
    /// The sender's membership digest ([`MemberTable::digest`](super::MemberTable::digest)).
    pub digest: u64,
    /// The sender's placement digest (0 when it keeps no placement).
    pub placement: u64,
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Msg {
    /// "Are you alive?" — answered with [`Msg::Ack`] by the member whose key is `target`.
    Ping { seq: u32, target: u64 },
    /// Answer to a ping (or a relayed answer to a ping request).
    Ack { seq: u32 },
    /// "Please ping `target` at `addr` for me and relay its ack."
    PingReq {
        seq: u32,
        target: u64,
        addr: SocketAddr,
    },
    /// "I relayed your ping request but the target did not answer in time."
    Nack { seq: u32 },
    /// A member record; `accuser` is the member that suspected it (0 if none).
    /// `gossip` records are rumors the receiver passes on; the others answer an
    /// anti-entropy exchange and are only merged.
    Update {
        member: Member,
        accuser: u64,
        gossip: bool,
    },
    /// Anti-entropy: the 64 child summaries of the records under a key prefix.
    Summary {
        depth: u8,
        prefix: u64,
        children: Box<[Agg; 64]>,
    },
    /// Anti-entropy: "send me your records in these children of this prefix".
    Want { depth: u8, prefix: u64, mask: u64 },
    /// Gossip round: "if your digest differs from the one in my header, send me your
    /// news" (the pull half of push-pull dissemination).
    Pull,
}

const PING: u8 = 1;
const ACK: u8 = 2;
const PING_REQ: u8 = 3;
const NACK: u8 = 4;
const UPDATE: u8 = 5;
const SUMMARY: u8 = 6;
const WANT: u8 = 7;
const RECORD: u8 = 8;
const PULL: u8 = 9;

/// Status byte flag: an accuser key follows.
const HAS_ACCUSER: u8 = 0x80;
/// Longest id, role or zone accepted (bytes).
pub const MAX_NAME_LEN: usize = 255;

impl Header {
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.u64(self.from).u64(self.digest).u64(self.placement);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
        Ok(Header {
            from: r.u64()?,
            digest: r.u64()?,
            placement: r.u64()?,
        })
    }
}

pub(crate) fn encode_addr(w: &mut Writer<'_>, a: &SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => w.u8(4).raw(&ip.octets()),
        IpAddr::V6(ip) => w.u8(6).raw(&ip.octets()),
    };
    w.u16(a.port());
}

fn addr_len(a: &SocketAddr) -> usize {
    if a.is_ipv4() {
        7
    } else {
        19
    }
}

pub(crate) fn decode_addr(r: &mut Reader<'_>) -> Result<SocketAddr, DecodeError> {
    let ip = match r.u8()? {
        4 => {
            let b = r.raw(4)?;
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
        6 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(r.raw(16)?);
            IpAddr::V6(Ipv6Addr::from(o))
        }
        _ => return Err(DecodeError::Invalid("address family")),
    };
    Ok(SocketAddr::new(ip, r.u16()?))
}

fn name<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a str, DecodeError> {
    let s = r.str()?;
    if s.len() > MAX_NAME_LEN {
        return Err(DecodeError::Invalid(what));
    }
    Ok(s)
}

/// Encoded size of a record with an optional accuser.
pub(crate) fn update_len(m: &Member, accuser: u64) -> usize {
    let meta = m.meta();
    let zone = meta.zone.as_deref().unwrap_or("");
    1 + varint_len(m.id().len() as u64)
        + m.id().len()
        + addr_len(&m.addr())
        + varint_len(m.incarnation())
        + varint_len(m.heartbeat())
        + 1
        + if accuser != 0 { 8 } else { 0 }
        + varint_len(meta.role.len() as u64)
        + meta.role.len()
        + varint_len(u64::from(meta.weight))
        + varint_len(zone.len() as u64)
        + zone.len()
}

pub(crate) fn encode_update(w: &mut Writer<'_>, m: &Member, accuser: u64, gossip: bool) {
    let meta = m.meta();
    w.u8(if gossip { UPDATE } else { RECORD }).str(m.id());
    encode_addr(w, &m.addr());
    w.varint(m.incarnation()).varint(m.heartbeat());
    if accuser != 0 {
        w.u8(m.status() as u8 | HAS_ACCUSER).u64(accuser);
    } else {
        w.u8(m.status() as u8);
    }
    w.str(&meta.role)
        .varint(u64::from(meta.weight))
        .str(meta.zone.as_deref().unwrap_or(""));
}

/// Encodes a whole member record (as an update without accuser); for snapshots and
/// status replies.
// Used by the status exchange of `native::net` (std only).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) fn encode_member(w: &mut Writer<'_>, m: &Member) {
    encode_update(w, m, 0, false);
}

/// Decodes [`encode_member`]'s output.
// Used by the status exchange of `native::net` (std only).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) fn decode_member(r: &mut Reader<'_>) -> Result<Member, DecodeError> {
    if r.u8()? != RECORD {
        return Err(DecodeError::Invalid("member record"));
    }
    match decode_update(r, false)? {
        Msg::Update { member, .. } => Ok(member),
        _ => Err(DecodeError::Invalid("member record")),
    }
}

fn decode_update(r: &mut Reader<'_>, gossip: bool) -> Result<Msg, DecodeError> {
    let id = name(r, "member id too long")?;
    if id.is_empty() {
        return Err(DecodeError::Invalid("empty member id"));
    }
    let addr = decode_addr(r)?;
    let incarnation = r.varint()?;
    let heartbeat = r.varint()?;
    let sb = r.u8()?;
    let status = Status::from_u8(sb & !HAS_ACCUSER).ok_or(DecodeError::Invalid("status"))?;
    let accuser = if sb & HAS_ACCUSER != 0 { r.u64()? } else { 0 };
    let role = name(r, "role too long")?;
    let weight = u32::try_from(r.varint()?).map_err(|_| DecodeError::Invalid("weight"))?;
    let zone = name(r, "zone too long")?;
    let meta = Meta {
        role: role.into(),
        weight,
        zone: (!zone.is_empty()).then(|| zone.into()),
    };
    let member = Member::from_parts(
        Arc::from(id),
        addr,
        Arc::new(meta),
        incarnation,
        heartbeat,
        status,
    );
    Ok(Msg::Update {
        member,
        accuser,
        gossip,
    })
}

impl Msg {
    /// Encoded size in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            Msg::Ping { seq, .. } => 1 + varint_len(u64::from(*seq)) + 8,
            Msg::Ack { seq } | Msg::Nack { seq } => 1 + varint_len(u64::from(*seq)),
            Msg::PingReq { seq, addr, .. } => 1 + varint_len(u64::from(*seq)) + 8 + addr_len(addr),
            Msg::Update {
                member, accuser, ..
            } => update_len(member, *accuser),
            Msg::Summary { children, .. } => {
                let body: usize = children
                    .iter()
                    .filter(|a| a.count > 0)
                    .map(|a| 8 + varint_len(u64::from(a.count)) + varint_len(u64::from(a.live)))
                    .sum();
                1 + 1 + 8 + 8 + body
            }
            Msg::Want { .. } => 1 + 1 + 8 + 8,
            Msg::Pull => 1,
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        match self {
            Msg::Ping { seq, target } => {
                w.u8(PING).varint(u64::from(*seq)).u64(*target);
            }
            Msg::Ack { seq } => {
                w.u8(ACK).varint(u64::from(*seq));
            }
            Msg::Nack { seq } => {
                w.u8(NACK).varint(u64::from(*seq));
            }
            Msg::PingReq { seq, target, addr } => {
                w.u8(PING_REQ).varint(u64::from(*seq)).u64(*target);
                encode_addr(w, addr);
            }
            Msg::Update {
                member,
                accuser,
                gossip,
            } => encode_update(w, member, *accuser, *gossip),
            Msg::Summary {
                depth,
                prefix,
                children,
            } => {
                let mask = children
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.count > 0)
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                w.u8(SUMMARY).u8(*depth).u64(*prefix).u64(mask);
                for a in children.iter().filter(|a| a.count > 0) {
                    w.varint(u64::from(a.count))
                        .varint(u64::from(a.live))
                        .u64(a.hash);
                }
            }
            Msg::Want {
                depth,
                prefix,
                mask,
            } => {
                w.u8(WANT).u8(*depth).u64(*prefix).u64(*mask);
            }
            Msg::Pull => {
                w.u8(PULL);
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Msg, DecodeError> {
        let seq = |r: &mut Reader<'_>| {
            u32::try_from(r.varint()?).map_err(|_| DecodeError::Invalid("sequence number"))
        };
        let depth = |r: &mut Reader<'_>| match r.u8()? {
            d if d <= super::table::MAX_DEPTH => Ok(d),
            _ => Err(DecodeError::Invalid("summary depth")),
        };
        Ok(match r.u8()? {
            PING => Msg::Ping {
                seq: seq(r)?,
                target: r.u64()?,
            },
            ACK => Msg::Ack { seq: seq(r)? },
            NACK => Msg::Nack { seq: seq(r)? },
            PING_REQ => Msg::PingReq {
                seq: seq(r)?,
                target: r.u64()?,
                addr: decode_addr(r)?,
            },
            UPDATE => decode_update(r, true)?,
            RECORD => decode_update(r, false)?,
            SUMMARY => {
                let depth = depth(r)?;
                let prefix = r.u64()?;
                let mask = r.u64()?;
                let mut children = Box::new([Agg::default(); 64]);
                let mut bits = mask;
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    let count = u32::try_from(r.varint()?)
                        .map_err(|_| DecodeError::Invalid("summary count"))?;
                    let live = u32::try_from(r.varint()?)
                        .map_err(|_| DecodeError::Invalid("summary count"))?;
                    if count == 0 || live > count {
                        return Err(DecodeError::Invalid("summary count"));
                    }
                    children[i] = Agg {
                        count,
                        live,
                        hash: r.u64()?,
                    };
                    bits &= bits - 1;
                }
                Msg::Summary {
                    depth,
                    prefix,
                    children,
                }
            }
            WANT => Msg::Want {
                depth: depth(r)?,
                prefix: r.u64()?,
                mask: r.u64()?,
            },
            PULL => Msg::Pull,
            _ => return Err(DecodeError::Invalid("message tag")),
        })
    }
}

/// Decodes a whole packet: the header and every message.
pub(crate) fn decode_packet(payload: &[u8]) -> Result<(Header, Vec<Msg>), DecodeError> {
    let mut r = Reader::new(payload);
    let header = Header::decode(&mut r)?;
    let mut msgs = Vec::new();
    while !r.is_empty() {
        msgs.push(Msg::decode(&mut r)?);
    }
    Ok((header, msgs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    pub(crate) fn samples() -> Vec<Msg> {
        let a = Member::new(
            "agent-7",
            "10.1.2.3:7946".parse().unwrap(),
            Meta {
                role: "QueryEngine".into(),
                weight: 100,
                zone: Some("rack-2".into()),
            },
        );
        let b = Member::new("b", "[::1]:9".parse().unwrap(), Meta::default()).with_version(
            3,
            9,
            Status::Suspect,
        );
        let mut children = Box::new([Agg::default(); 64]);
        children[0] = Agg {
            count: 3,
            live: 2,
            hash: 77,
        };
        children[63] = Agg {
            count: 300,
            live: 300,
            hash: u64::MAX,
        };
        vec![
            Msg::Ping {
                seq: 1,
                target: 0xdead_beef,
            },
            Msg::Ack { seq: u32::MAX },
            Msg::Nack { seq: 0 },
            Msg::PingReq {
                seq: 300,
                target: 5,
                addr: "[2001:db8::1]:7000".parse().unwrap(),
            },
            Msg::Update {
                member: a.clone(),
                accuser: 0,
                gossip: true,
            },
            Msg::Update {
                member: b,
                accuser: 42,
                gossip: true,
            },
            Msg::Update {
                member: a,
                accuser: 0,
                gossip: false,
            },
            Msg::Summary {
                depth: 2,
                prefix: 0xfc00_0000_0000_0000,
                children,
            },
            Msg::Want {
                depth: 10,
                prefix: 1 << 63,
                mask: 0b1011,
            },
            Msg::Pull,
        ]
    }

    #[test]
    fn round_trip_and_predicted_sizes() {
        let header = Header {
            from: 1,
            digest: 2,
            placement: 3,
        };
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        header.encode(&mut w);
        let mut expect = HEADER_LEN;
        for m in samples() {
            let before = w.len();
            m.encode(&mut w);
            assert_eq!(w.len() - before, m.len(), "{m:?}");
            expect += m.len();
        }
        assert_eq!(buf.len(), expect);
        let (h, msgs) = decode_packet(&buf).unwrap();
        assert_eq!(h, header);
        assert_eq!(msgs, samples());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        Header {
            from: 1,
            digest: 2,
            placement: 3,
        }
        .encode(&mut w);
        for m in samples() {
            m.encode(&mut w);
        }
        // Cutting inside a message fails; cutting between messages decodes a prefix.
        let mut boundaries = vec![HEADER_LEN];
        let mut at = HEADER_LEN;
        for m in samples() {
            at += m.len();
            boundaries.push(at);
        }
        for cut in 0..buf.len() {
            let r = decode_packet(&buf[..cut]);
            assert_eq!(r.is_ok(), boundaries.contains(&cut), "cut at {cut}");
        }
    }

    #[test]
    fn invalid_fields_are_rejected() {
        let mut bad = vec![0u8; HEADER_LEN];
        bad.push(99);
        assert!(decode_packet(&bad).is_err());
        let mut bad = vec![0u8; HEADER_LEN];
        Writer::new(&mut bad).u8(SUMMARY).u8(11).u64(0).u64(0);
        assert!(decode_packet(&bad).is_err(), "depth beyond the trie");
        let mut bad = vec![0u8; HEADER_LEN];
        Writer::new(&mut bad)
            .u8(SUMMARY)
            .u8(0)
            .u64(0)
            .u64(1)
            .varint(1)
            .varint(2)
            .u64(0);
        assert!(decode_packet(&bad).is_err(), "live above count");
        let mut bad = vec![0u8; HEADER_LEN];
        let mut w = Writer::new(&mut bad);
        w.u8(UPDATE).str("x").u8(5);
        assert!(decode_packet(&bad).is_err(), "address family 5");
    }
}
