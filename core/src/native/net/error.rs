//! [`NetError`]: what can go wrong starting or talking to a node.

use std::io;
use std::string::String;
use std::string::ToString;

/// An error of the networked node or its control protocol.
#[derive(Debug)]
pub enum NetError {
    /// A socket operation failed (bind, connect, read, write).
    Io(io::Error),
    /// The configuration cannot work (the message says which setting and why).
    InvalidConfig(String),
    /// The peer answered with something that is not the control protocol, or a
    /// malformed message.
    Protocol(String),
    /// The peer refused the request (for example a status request from another host).
    Refused(String),
    /// The node has stopped.
    Stopped,
    /// No member is placed, so a key has no owner.
    NoOwner,
    /// A routed payload (with its key and owner) is larger than a frame may be; the
    /// size in bytes.
    TooLarge(usize),
    /// Waited too long (the message says for what).
    Timeout(String),
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetError::Io(e) => write!(f, "network I/O failed: {e}"),
            NetError::InvalidConfig(s) => write!(f, "invalid node configuration: {s}"),
            NetError::Protocol(s) => write!(f, "control protocol error: {s}"),
            NetError::Refused(s) => write!(f, "request refused: {s}"),
            NetError::Stopped => f.write_str("the node has stopped"),
            NetError::NoOwner => f.write_str("no owner: no member is placed"),
            NetError::TooLarge(n) => write!(
                f,
                "routed payload too large: {n} bytes with key and owner (at most {})",
                super::MAX_FRAME
            ),
            NetError::Timeout(s) => write!(f, "timed out: {s}"),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for NetError {
    fn from(e: io::Error) -> NetError {
        NetError::Io(e)
    }
}

impl From<crate::Error> for NetError {
    fn from(e: crate::Error) -> NetError {
        NetError::InvalidConfig(e.to_string())
    }
}
