//! The bus's one error type.

use std::fmt;
use std::io;
use std::string::String;

use crate::pool::PoolError;

/// Errors of the shared-memory bus.
///
/// Every variant says what went wrong; none leaves shared state half-changed: a failed
/// send returns its message ([`BusError::Full`] carries it back through
/// [`SendError`](super::SendError)), a failed receive consumes nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum BusError {
    /// A bus, endpoint or topic name is not valid (the message says why).
    InvalidName(String),
    /// A configuration value is out of range (the message says which).
    InvalidConfig(String),
    /// No bus with this name exists (or it is being torn down by its last user).
    NotFound(String),
    /// A bus with this name already exists and has live users.
    AlreadyExists(String),
    /// The segment is not a shoal bus, or one of another format version.
    Incompatible(String),
    /// Shared memory holds something that cannot be right (a hostile or buggy peer, or a
    /// damaged segment). The operation was refused; the bus counts these.
    Corrupt(&'static str),
    /// An endpoint with this name already has a live consumer.
    EndpointTaken(String),
    /// No endpoint with this name exists.
    NoSuchEndpoint(String),
    /// The consumer behind this sender went away (closed its endpoint or died).
    EndpointGone(String),
    /// The lane is full and the endpoint's policy is [`Backpressure::Error`](super::Backpressure::Error).
    Full,
    /// No message arrived before the timeout.
    Timeout,
    /// A fixed table of the bus is full (processes, endpoints, lanes, or buffers held by
    /// this process); the string says which.
    Capacity(&'static str),
    /// The buffer pool refused (exhausted, too large, stale or invalid descriptor).
    Pool(PoolError),
    /// A peer stayed inside a bus operation while crash repair waited for it; repair was
    /// abandoned and will be retried.
    PeerStalled,
    /// An operating-system call failed.
    Io(io::Error),
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::InvalidName(m) => write!(f, "invalid name: {m}"),
            BusError::InvalidConfig(m) => write!(f, "invalid bus configuration: {m}"),
            BusError::NotFound(n) => write!(f, "no bus named {n:?} exists"),
            BusError::AlreadyExists(n) => {
                write!(f, "a bus named {n:?} already exists and is in use")
            }
            BusError::Incompatible(m) => write!(f, "incompatible segment: {m}"),
            BusError::Corrupt(m) => write!(f, "corrupt shared state: {m}"),
            BusError::EndpointTaken(n) => write!(f, "endpoint {n:?} already has a live consumer"),
            BusError::NoSuchEndpoint(n) => write!(f, "no endpoint named {n:?}"),
            BusError::EndpointGone(n) => write!(f, "the consumer of endpoint {n:?} is gone"),
            BusError::Full => f.write_str("the lane to this endpoint is full"),
            BusError::Timeout => f.write_str("timed out"),
            BusError::Capacity(what) => write!(f, "bus capacity reached: {what}"),
            BusError::Pool(e) => write!(f, "buffer pool: {e}"),
            BusError::PeerStalled => {
                f.write_str("a peer process stayed inside a bus operation during crash repair")
            }
            BusError::Io(e) => write!(f, "operating system: {e}"),
        }
    }
}

impl std::error::Error for BusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BusError::Io(e) => Some(e),
            BusError::Pool(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PoolError> for BusError {
    fn from(e: PoolError) -> Self {
        BusError::Pool(e)
    }
}

impl From<io::Error> for BusError {
    fn from(e: io::Error) -> Self {
        BusError::Io(e)
    }
}
