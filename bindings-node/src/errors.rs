//! Core errors → JavaScript errors: the built-in class that fits (`TypeError`,
//! `RangeError` or `Error`) with a stable `code` (`ERR_SHOAL_*`).
//!
//! A [`Failure`] is plain data (`Send`), so work running off the main thread
//! (`AsyncTask`) returns one and the main thread turns it into the JS error when it
//! settles the promise.

use napi::bindgen_prelude::*;
use napi::{JsError, JsRangeError, JsTypeError};
use shoal_core::native::bus::BusError;
use shoal_core::native::net::NetError;

/// What went wrong, which decides the error's class and `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value of the wrong type (`TypeError`).
    InvalidType,
    /// A value out of range or otherwise unusable (`RangeError`).
    InvalidArgument,
    /// No node with that id (`RangeError`).
    UnknownNode,
    /// Nothing to place on (`Error`).
    Empty,
    /// Bounded load: no node has room (`Error`).
    NoCapacity,
    /// A snapshot that does not decode (`Error`).
    Snapshot,
    /// Any other bus failure (`Error`).
    Bus,
    /// No bus or endpoint by that name (`Error`).
    BusNotFound,
    /// The bus or endpoint name is taken (`Error`).
    BusExists,
    /// The peer endpoint went away (`Error`).
    EndpointGone,
    /// No room on the bus under the `"error"` policy (`Error`).
    BusFull,
    /// A network failure (`Error`).
    Net,
    /// A wait ran out (`Error`).
    Timeout,
    /// The object was closed (`Error`).
    Closed,
}

impl Kind {
    /// The stable `code` property.
    pub fn code(self) -> &'static str {
        match self {
            Kind::InvalidType => "ERR_SHOAL_INVALID_TYPE",
            Kind::InvalidArgument => "ERR_SHOAL_INVALID_ARGUMENT",
            Kind::UnknownNode => "ERR_SHOAL_UNKNOWN_NODE",
            Kind::Empty => "ERR_SHOAL_EMPTY",
            Kind::NoCapacity => "ERR_SHOAL_NO_CAPACITY",
            Kind::Snapshot => "ERR_SHOAL_SNAPSHOT",
            Kind::Bus => "ERR_SHOAL_BUS",
            Kind::BusNotFound => "ERR_SHOAL_BUS_NOT_FOUND",
            Kind::BusExists => "ERR_SHOAL_BUS_EXISTS",
            Kind::EndpointGone => "ERR_SHOAL_ENDPOINT_GONE",
            Kind::BusFull => "ERR_SHOAL_BUS_FULL",
            Kind::Net => "ERR_SHOAL_NET",
            Kind::Timeout => "ERR_SHOAL_TIMEOUT",
            Kind::Closed => "ERR_SHOAL_CLOSED",
        }
    }

    /// A failure of this kind.
    pub fn fail(self, message: impl Into<String>) -> Failure {
        Failure {
            kind: self,
            message: message.into(),
        }
    }
}

/// An error on its way to JavaScript.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Class and code.
    pub kind: Kind,
    /// The human-readable message.
    pub message: String,
}

/// A result whose error becomes a JS error.
pub type Outcome<T> = std::result::Result<T, Failure>;

impl Failure {
    /// The JS error object for this failure, as an error napi-rs throws (or rejects
    /// with) unchanged.
    pub fn into_napi(self, env: &Env) -> Error {
        let raw = Error::new(self.kind.code(), self.message.clone());
        let value = match self.kind {
            Kind::InvalidType => JsTypeError::from(raw).into_unknown(*env),
            Kind::InvalidArgument | Kind::UnknownNode => JsRangeError::from(raw).into_unknown(*env),
            _ => JsError::from(raw).into_unknown(*env),
        };
        let mut err = Error::from_unknown_without_coercion(value);
        // Kept for Rust-side logging; JavaScript sees the object above.
        err.reason = self.message;
        err
    }
}

/// `result.or_throw(env)`: the JS error for a failed [`Outcome`] (or a core error).
pub trait OrThrow<T> {
    /// Converts the error into the JS error napi-rs throws.
    fn or_throw(self, env: &Env) -> Result<T>;
}

impl<T, E: Into<Failure>> OrThrow<T> for std::result::Result<T, E> {
    fn or_throw(self, env: &Env) -> Result<T> {
        self.map_err(|e| e.into().into_napi(env))
    }
}

impl From<shoal_core::Error> for Failure {
    fn from(e: shoal_core::Error) -> Self {
        use shoal_core::ErrorKind as E;
        let kind = match e.kind() {
            E::UnknownNode => Kind::UnknownNode,
            E::Empty => Kind::Empty,
            E::NoCapacity => Kind::NoCapacity,
            E::Snapshot => Kind::Snapshot,
            _ => Kind::InvalidArgument,
        };
        kind.fail(e.to_string())
    }
}

impl From<BusError> for Failure {
    fn from(e: BusError) -> Self {
        let kind = match &e {
            BusError::InvalidName(_) | BusError::InvalidConfig(_) => Kind::InvalidArgument,
            BusError::NotFound(_) | BusError::NoSuchEndpoint(_) => Kind::BusNotFound,
            BusError::AlreadyExists(_) | BusError::EndpointTaken(_) => Kind::BusExists,
            BusError::EndpointGone(_) => Kind::EndpointGone,
            BusError::Full => Kind::BusFull,
            BusError::Timeout => Kind::Timeout,
            _ => Kind::Bus,
        };
        kind.fail(e.to_string())
    }
}

impl From<NetError> for Failure {
    fn from(e: NetError) -> Self {
        let kind = match &e {
            NetError::InvalidConfig(_) | NetError::TooLarge(_) => Kind::InvalidArgument,
            NetError::NoOwner => Kind::Empty,
            NetError::Timeout(_) => Kind::Timeout,
            _ => Kind::Net,
        };
        kind.fail(e.to_string())
    }
}

/// A `RangeError` with `ERR_SHOAL_INVALID_ARGUMENT`.
pub fn invalid(message: impl Into<String>) -> Failure {
    Kind::InvalidArgument.fail(message)
}

/// A `TypeError` with `ERR_SHOAL_INVALID_TYPE`.
pub fn wrong_type(message: impl Into<String>) -> Failure {
    Kind::InvalidType.fail(message)
}
