//! Full-state sync over TCP, for views larger than a datagram.
//!
//! Now and then (on start with the first seed, then every [`STATE_SYNC_EVERY`] with a
//! random live member) a node sends its whole view to a peer and gets the peer's back,
//! over one TCP connection: a `STATE_REQUEST` frame, answered by a `STATE` frame. Each
//! view travels as the sealed datagrams the membership core makes of it
//! ([`Membership::seal_state`](crate::membership::Membership::seal_state)), so they are
//! authenticated by the keyring and merged exactly like datagrams received over UDP.
//! They are sealed by a codec session of their own, so their sequence numbers do not
//! race the node's UDP traffic through the receiver's replay window.
//!
//! Frame payloads: `STATE_REQUEST` is `str advertise` (the requester's UDP address)
//! then a packet list; `STATE` is a packet list. A packet list is `varint n` then `n` ×
//! `bytes`.

use std::net::{SocketAddr, TcpStream};
use std::string::ToString;
use std::sync::Arc;
use std::time::Duration;
use std::vec::Vec;

use super::control::{kind, read_frame, write_frame};
use super::node::{lock, Command, Shared};
use crate::wire::{DecodeError, Reader, Writer};

/// How often a node syncs its whole view with a random live member over TCP.
pub(crate) const STATE_SYNC_EVERY: Duration = Duration::from_secs(30);
/// Bounds connecting, each read and write, and the peer's answer.
pub(crate) const STATE_TIMEOUT: Duration = Duration::from_secs(2);

fn encode_packets(w: &mut Writer<'_>, packets: &[Vec<u8>]) {
    w.varint(packets.len() as u64);
    for p in packets {
        w.bytes(p);
    }
}

fn decode_packets(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let n = r.varint()?;
    // Every packet takes at least one byte: a count beyond the input is malformed.
    if n > r.remaining() as u64 {
        return Err(DecodeError::UnexpectedEnd);
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push(r.bytes()?.to_vec());
    }
    Ok(out)
}

/// Encodes a `STATE_REQUEST` payload.
pub(crate) fn encode_request(advertise: SocketAddr, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = Writer::new(&mut out);
    w.str(&advertise.to_string());
    encode_packets(&mut w, packets);
    out
}

/// Decodes a `STATE_REQUEST` payload.
pub(crate) fn decode_request(p: &[u8]) -> Result<(SocketAddr, Vec<Vec<u8>>), DecodeError> {
    let mut r = Reader::new(p);
    let addr = r.str()?.parse().map_err(|_| DecodeError::UnexpectedEnd)?;
    let packets = decode_packets(&mut r)?;
    r.finish()?;
    Ok((addr, packets))
}

/// Encodes a `STATE` payload.
pub(crate) fn encode_reply(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_packets(&mut Writer::new(&mut out), packets);
    out
}

/// Decodes a `STATE` payload.
pub(crate) fn decode_reply(p: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut r = Reader::new(p);
    let packets = decode_packets(&mut r)?;
    r.finish()?;
    Ok(packets)
}

/// Pushes `packets` (our view) to the node at `peer` and queues its view for the
/// driver to merge. Runs on a short-lived thread; every step is bounded by
/// [`STATE_TIMEOUT`]; a failure only means this round did not happen.
pub(crate) fn exchange(
    shared: &Arc<Shared>,
    advertise: SocketAddr,
    peer: SocketAddr,
    packets: &[Vec<u8>],
) -> std::io::Result<()> {
    let mut s = TcpStream::connect_timeout(&peer, STATE_TIMEOUT)?;
    s.set_read_timeout(Some(STATE_TIMEOUT))?;
    s.set_write_timeout(Some(STATE_TIMEOUT))?;
    s.set_nodelay(true)?;
    write_frame(
        &mut s,
        kind::STATE_REQUEST,
        &encode_request(advertise, packets),
    )?;
    let (k, body) = read_frame(&mut s)?;
    if k != kind::STATE {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let theirs = decode_reply(&body).map_err(|_| std::io::ErrorKind::InvalidData)?;
    lock(&shared.commands).push(Command::MergeState {
        from: peer,
        packets: theirs,
        reply: None,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_reply_round_trip_and_reject_truncation() {
        let packets = std::vec![std::vec![1u8, 2, 3], std::vec![], std::vec![9u8; 300]];
        let addr: SocketAddr = "10.0.0.1:7946".parse().unwrap();
        let req = encode_request(addr, &packets);
        assert_eq!(decode_request(&req).unwrap(), (addr, packets.clone()));
        for cut in 0..req.len() {
            assert!(decode_request(&req[..cut]).is_err(), "cut {cut}");
        }
        let rep = encode_reply(&packets);
        assert_eq!(decode_reply(&rep).unwrap(), packets);
        assert!(decode_reply(&[0xff, 0xff, 0x03]).is_err());
    }
}
