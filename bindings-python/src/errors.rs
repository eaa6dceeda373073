//! Core errors → the Python exceptions of `shoal.errors`.
//!
//! The exception classes are defined in Python (`python/shoal/errors.py`) because
//! each subclasses two built-ins (`ShoalError` and, say, `ValueError`), which a class
//! made from Rust cannot. They are looked up once and cached.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use shoal_core::native::bus::BusError;
use shoal_core::native::net::NetError;
use shoal_core::{Error, ErrorKind};

/// The exception classes of `shoal.errors`.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    InvalidArgument,
    UnknownNode,
    Empty,
    NoCapacity,
    Snapshot,
    Bus,
    BusNotFound,
    BusExists,
    EndpointGone,
    BusFull,
    Net,
    Timeout,
}

impl Kind {
    const ALL: [Kind; 12] = [
        Kind::InvalidArgument,
        Kind::UnknownNode,
        Kind::Empty,
        Kind::NoCapacity,
        Kind::Snapshot,
        Kind::Bus,
        Kind::BusNotFound,
        Kind::BusExists,
        Kind::EndpointGone,
        Kind::BusFull,
        Kind::Net,
        Kind::Timeout,
    ];

    fn class_name(self) -> &'static str {
        match self {
            Kind::InvalidArgument => "InvalidArgumentError",
            Kind::UnknownNode => "UnknownNodeError",
            Kind::Empty => "EmptyError",
            Kind::NoCapacity => "NoCapacityError",
            Kind::Snapshot => "SnapshotError",
            Kind::Bus => "BusError",
            Kind::BusNotFound => "BusNotFoundError",
            Kind::BusExists => "BusExistsError",
            Kind::EndpointGone => "EndpointGoneError",
            Kind::BusFull => "BusFullError",
            Kind::Net => "NetError",
            Kind::Timeout => "TimeoutError",
        }
    }

    /// An exception of this class with `message`.
    pub fn err(self, message: impl Into<String>) -> PyErr {
        let message = message.into();
        Python::attach(|py| match class(py, self) {
            Ok(ty) => PyErr::from_type(ty, (message,)),
            // Only if the pure-Python half of the package is missing or broken.
            Err(e) => PyRuntimeError::new_err(format!(
                "{message} (and shoal.errors could not be imported: {e})"
            )),
        })
    }
}

static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn class(py: Python<'_>, kind: Kind) -> PyResult<Bound<'_, PyType>> {
    let classes = CLASSES.get_or_try_init(py, || -> PyResult<Vec<Py<PyType>>> {
        let module = py.import("shoal.errors")?;
        Kind::ALL
            .iter()
            .map(|k| {
                Ok(module
                    .getattr(k.class_name())?
                    .cast_into::<PyType>()?
                    .unbind())
            })
            .collect()
    })?;
    Ok(classes[kind as usize].bind(py).clone())
}

/// A placement error (ring, table, placement algorithms).
pub fn core_err(e: Error) -> PyErr {
    let kind = match e.kind() {
        ErrorKind::UnknownNode => Kind::UnknownNode,
        ErrorKind::Empty => Kind::Empty,
        ErrorKind::NoCapacity => Kind::NoCapacity,
        ErrorKind::Snapshot => Kind::Snapshot,
        _ => Kind::InvalidArgument,
    };
    kind.err(e.to_string())
}

/// A bus error.
pub fn bus_err(e: BusError) -> PyErr {
    let kind = match &e {
        BusError::InvalidName(_) | BusError::InvalidConfig(_) => Kind::InvalidArgument,
        BusError::NotFound(_) | BusError::NoSuchEndpoint(_) => Kind::BusNotFound,
        BusError::AlreadyExists(_) | BusError::EndpointTaken(_) => Kind::BusExists,
        BusError::EndpointGone(_) => Kind::EndpointGone,
        BusError::Full => Kind::BusFull,
        BusError::Timeout => Kind::Timeout,
        _ => Kind::Bus,
    };
    kind.err(e.to_string())
}

/// A networked-node error.
pub fn net_err(e: NetError) -> PyErr {
    let kind = match &e {
        NetError::InvalidConfig(_) | NetError::TooLarge(_) => Kind::InvalidArgument,
        NetError::NoOwner => Kind::Empty,
        NetError::Timeout(_) => Kind::Timeout,
        _ => Kind::Net,
    };
    kind.err(e.to_string())
}

/// `InvalidArgumentError(message)`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    Kind::InvalidArgument.err(message)
}
