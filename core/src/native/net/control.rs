//! The TCP side of a node: length-framed messages on the node's port: status requests
//! (`shoal status`) and routed payloads with their acknowledgements (`route/`).
//!
//! A frame is `"SHOL"`, a version byte, a kind byte, the payload length (u32,
//! little-endian) and the payload. Lengths above [`MAX_FRAME`] are refused before
//! anything is allocated. Status requests are answered only for peers on this host
//! (loopback, or the address the connection arrived at).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::string::{String, ToString};
use std::time::Duration;
use std::vec::Vec;

use super::error::NetError;
use super::status::NodeStatus;

/// Largest frame payload accepted, in bytes.
pub const MAX_FRAME: u32 = 16 << 20;

const MAGIC: &[u8; 4] = b"SHOL";
const VERSION: u8 = 1;

/// Kinds of frames.
pub(crate) mod kind {
    /// Client → node: send me your status (empty payload).
    pub const STATUS_REQUEST: u8 = 1;
    /// Node → client: an encoded [`NodeStatus`](super::NodeStatus).
    pub const STATUS: u8 = 2;
    /// Node → client: the request failed; the payload is a UTF-8 reason.
    pub const ERROR: u8 = 3;
    /// Sender → owner: a routed payload (see `route::frame`).
    pub const ROUTE: u8 = 4;
    /// Owner → sender: these routed payloads are delivered.
    pub const ACK: u8 = 5;
    /// Owner → sender: this routed payload was not delivered, and why.
    pub const NACK: u8 = 6;
    /// Member → member: send me your whole member table (payload: ours).
    pub const STATE_REQUEST: u8 = 7;
    /// Member → member: a whole member table.
    pub const STATE: u8 = 8;
}

/// The 10-byte head of a frame of `kind` with a payload of `len` bytes.
pub(crate) fn frame_head(kind: u8, len: u32) -> [u8; 10] {
    let mut head = [0u8; 10];
    head[..4].copy_from_slice(MAGIC);
    head[4] = VERSION;
    head[5] = kind;
    head[6..].copy_from_slice(&len.to_le_bytes());
    head
}

/// Writes one frame.
pub(crate) fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    // One write: a head and payload written apart could wait on Nagle's algorithm.
    let mut frame = Vec::with_capacity(10 + payload.len());
    frame.extend_from_slice(&frame_head(kind, len));
    frame.extend_from_slice(payload);
    w.write_all(&frame)?;
    w.flush()
}

/// Reads one frame: its kind and payload. A wrong magic or version, or a length above
/// [`MAX_FRAME`], is [`io::ErrorKind::InvalidData`].
pub(crate) fn read_frame(r: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut payload = Vec::new();
    let k = read_frame_into(r, &mut payload)?;
    Ok((k, payload))
}

/// Like [`read_frame`], into a buffer the caller reuses; returns the kind.
pub(crate) fn read_frame_into(r: &mut impl Read, payload: &mut Vec<u8>) -> io::Result<u8> {
    let mut head = [0u8; 10];
    r.read_exact(&mut head)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, String::from(what));
    if &head[..4] != MAGIC {
        return Err(bad("not a shoal frame (bad magic)"));
    }
    if head[4] != VERSION {
        return Err(bad("unsupported frame version"));
    }
    let len = u32::from_le_bytes([head[6], head[7], head[8], head[9]]);
    if len > MAX_FRAME {
        return Err(bad("frame too large"));
    }
    payload.clear();
    payload.resize(len as usize, 0);
    r.read_exact(payload)?;
    Ok(head[5])
}

/// Whether `peer` connected from this host (to `local`).
pub(crate) fn is_local(peer: SocketAddr, local: SocketAddr) -> bool {
    peer.ip().is_loopback() || peer.ip() == local.ip()
}

/// Asks the node at `addr` for its status (what `shoal status` does). `timeout`
/// bounds the connection and each read and write.
pub fn query_status(addr: SocketAddr, timeout: Duration) -> Result<NodeStatus, NetError> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write_frame(&mut s, kind::STATUS_REQUEST, &[])?;
    let (k, payload) = read_frame(&mut s).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => NetError::Protocol(e.to_string()),
        _ => NetError::Io(e),
    })?;
    match k {
        kind::STATUS => NodeStatus::decode(&payload)
            .map_err(|e| NetError::Protocol(std::format!("bad status reply: {e}"))),
        kind::ERROR => Err(NetError::Refused(
            String::from_utf8_lossy(&payload).into_owned(),
        )),
        other => Err(NetError::Protocol(std::format!(
            "unexpected reply kind {other}"
        ))),
    }
}
