//! Payloads of the routing frames (inside the `"SHOL"` framing of `control.rs`).
//!
//! * `ROUTE`: `u64 origin`, `u64 seq`, `u64 floor`, `str owner`, `bytes key`, then the
//!   payload to the end of the frame. `(origin, seq)` is the idempotency key; `floor`
//!   says every `seq` below it from this origin is acknowledged and will never be sent
//!   again, so the receiver may forget them.
//! * `ACK`: `u64 origin`, `varint n`, then `n` × `u64 seq`.
//! * `NACK`: `u64 origin`, `u64 seq`, `u8 code`, `str reason`.
//!
//! Integers are little-endian and `str`/`bytes`/`varint` are the wire encodings of
//! [`crate::wire::Writer`].

use std::string::String;
use std::vec::Vec;

use super::super::control::{frame_head, kind, MAX_FRAME};
use crate::wire::{varint_len, DecodeError, Reader, Writer};

/// Why an owner refused a routed payload.
pub(crate) mod code {
    /// The named owner is not this node (the sender's placement is stale).
    pub const NOT_OWNER: u8 = 1;
    /// This node does not take routed payloads (no sink is set).
    pub const NO_SINK: u8 = 2;
    /// The sink failed to deliver (for example a full or missing bus endpoint).
    pub const SINK_FAILED: u8 = 3;
}

/// A decoded `ROUTE` frame, borrowing from the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route<'a> {
    pub origin: u64,
    pub seq: u64,
    pub floor: u64,
    pub owner: &'a str,
    pub key: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> Route<'a> {
    /// Size of the frame payload (without the 10-byte frame head).
    pub fn len(&self) -> usize {
        24 + varint_len(self.owner.len() as u64)
            + self.owner.len()
            + varint_len(self.key.len() as u64)
            + self.key.len()
            + self.payload.len()
    }

    /// Appends the whole frame (head included) to `out`. `None` when it would exceed
    /// [`MAX_FRAME`] (nothing is appended).
    pub fn encode(&self, out: &mut Vec<u8>) -> Option<()> {
        let len = u32::try_from(self.len()).ok().filter(|&l| l <= MAX_FRAME)?;
        out.reserve(10 + len as usize);
        out.extend_from_slice(&frame_head(kind::ROUTE, len));
        Writer::new(out)
            .u64(self.origin)
            .u64(self.seq)
            .u64(self.floor)
            .str(self.owner)
            .bytes(self.key)
            .raw(self.payload);
        Some(())
    }

    /// Sets the seq and floor of a frame [`encode`](Route::encode)d before they were
    /// known (they sit after the 10-byte head and the origin).
    pub fn patch(frame: &mut [u8], seq: u64, floor: u64) {
        frame[18..26].copy_from_slice(&seq.to_le_bytes());
        frame[26..34].copy_from_slice(&floor.to_le_bytes());
    }

    pub fn decode(p: &'a [u8]) -> Result<Route<'a>, DecodeError> {
        let mut r = Reader::new(p);
        Ok(Route {
            origin: r.u64()?,
            seq: r.u64()?,
            floor: r.u64()?,
            owner: r.str()?,
            key: r.bytes()?,
            payload: r.rest(),
        })
    }
}

/// Encodes an `ACK` frame payload.
pub(crate) fn encode_ack(origin: u64, seqs: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + 8 * seqs.len());
    let mut w = Writer::new(&mut out);
    w.u64(origin).varint(seqs.len() as u64);
    for &s in seqs {
        w.u64(s);
    }
    out
}

/// Decodes an `ACK` frame payload.
pub(crate) fn decode_ack(p: &[u8]) -> Result<(u64, Vec<u64>), DecodeError> {
    let mut r = Reader::new(p);
    let origin = r.u64()?;
    let n = r.varint()?;
    // Each seq takes 8 bytes: a count beyond the input is malformed, not an allocation.
    if n > (r.remaining() / 8) as u64 {
        return Err(DecodeError::UnexpectedEnd);
    }
    let mut seqs = Vec::with_capacity(n as usize);
    for _ in 0..n {
        seqs.push(r.u64()?);
    }
    r.finish()?;
    Ok((origin, seqs))
}

/// A decoded `NACK` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nack {
    pub origin: u64,
    pub seq: u64,
    pub code: u8,
    pub reason: String,
}

impl Nack {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Writer::new(&mut out)
            .u64(self.origin)
            .u64(self.seq)
            .u8(self.code)
            .str(&self.reason);
        out
    }

    pub fn decode(p: &[u8]) -> Result<Nack, DecodeError> {
        let mut r = Reader::new(p);
        let nack = Nack {
            origin: r.u64()?,
            seq: r.u64()?,
            code: r.u8()?,
            reason: r.str()?.into(),
        };
        r.finish()?;
        Ok(nack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_round_trips_and_rejects_every_truncation() {
        let f = Route {
            origin: 7,
            seq: 42,
            floor: 40,
            owner: "agent-3",
            key: b"order-17",
            payload: b"hello",
        };
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        assert_eq!(out.len(), 10 + f.len());
        let body = &out[10..];
        assert_eq!(Route::decode(body).unwrap(), f);
        let mut patched = out.clone();
        Route::patch(&mut patched, 43, 41);
        let g = Route::decode(&patched[10..]).unwrap();
        assert_eq!((g.seq, g.floor, g.payload), (43, 41, f.payload));
        // Cut inside the fixed fields, the owner or the key: an error, never a panic.
        let fixed = f.len() - f.payload.len();
        for cut in 0..fixed {
            assert!(Route::decode(&body[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn ack_and_nack_round_trip() {
        let p = encode_ack(9, &[1, 5, 3]);
        assert_eq!(decode_ack(&p).unwrap(), (9, std::vec![1, 5, 3]));
        for cut in 0..p.len() {
            assert!(decode_ack(&p[..cut]).is_err());
        }
        // A huge count with no seqs behind it is refused without allocating.
        let mut bad = Vec::new();
        Writer::new(&mut bad).u64(1).varint(u64::MAX / 2);
        assert!(decode_ack(&bad).is_err());
        let n = Nack {
            origin: 1,
            seq: 2,
            code: code::NOT_OWNER,
            reason: "not me".into(),
        };
        assert_eq!(Nack::decode(&n.encode()).unwrap(), n);
    }

    #[test]
    fn oversized_route_is_not_encoded() {
        let big = std::vec![0u8; MAX_FRAME as usize];
        let f = Route {
            origin: 0,
            seq: 0,
            floor: 0,
            owner: "a",
            key: b"k",
            payload: &big,
        };
        let mut out = Vec::new();
        assert!(f.encode(&mut out).is_none());
        assert!(out.is_empty());
    }
}
