//! Core errors → JavaScript errors: the built-in class that fits (`TypeError`,
//! `RangeError` or `Error`) with a stable `code` property, the same codes as the Node
//! package (`ERR_SHOAL_*`).

use js_sys::Reflect;
use shoal_core::ErrorKind;
use wasm_bindgen::JsValue;

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
        }
    }

    /// The JavaScript error object for this kind and message.
    pub fn error(self, message: impl AsRef<str>) -> JsValue {
        let message = message.as_ref();
        let err: JsValue = match self {
            Kind::InvalidType => js_sys::TypeError::new(message).into(),
            Kind::InvalidArgument | Kind::UnknownNode => js_sys::RangeError::new(message).into(),
            _ => js_sys::Error::new(message).into(),
        };
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&err, &"code".into(), &self.code().into());
        err
    }
}

impl From<ErrorKind> for Kind {
    fn from(k: ErrorKind) -> Kind {
        match k {
            ErrorKind::UnknownNode => Kind::UnknownNode,
            ErrorKind::Empty => Kind::Empty,
            ErrorKind::NoCapacity => Kind::NoCapacity,
            ErrorKind::Snapshot => Kind::Snapshot,
            _ => Kind::InvalidArgument,
        }
    }
}

/// Result type of every exported call: the error is the JavaScript error thrown.
pub type JsResult<T> = Result<T, JsValue>;

/// `result.or_throw()`: a core error as the JavaScript error to throw.
pub trait OrThrow<T> {
    /// Converts the error.
    fn or_throw(self) -> JsResult<T>;
}

impl<T> OrThrow<T> for Result<T, shoal_core::Error> {
    fn or_throw(self) -> JsResult<T> {
        self.map_err(|e| Kind::from(e.kind()).error(e.to_string()))
    }
}

/// A `RangeError` with `ERR_SHOAL_INVALID_ARGUMENT`.
pub fn invalid(message: impl AsRef<str>) -> JsValue {
    Kind::InvalidArgument.error(message)
}

/// A `TypeError` with `ERR_SHOAL_INVALID_TYPE`: `what` should be `expected`.
pub fn wrong_type(what: &str, expected: &str) -> JsValue {
    let mut m = String::from(what);
    m.push_str(" must be ");
    m.push_str(expected);
    Kind::InvalidType.error(m)
}
