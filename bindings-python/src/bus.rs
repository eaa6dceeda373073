//! `Bus`: the zero-copy shared-memory bus between processes on one host.
//!
//! (Being extended: endpoints, senders, loans as writable memoryviews, messages as
//! read-only memoryviews.)

use pyo3::prelude::*;
use shoal_core::native::bus::{Bus as CoreBus, BusConfig};

use crate::errors::bus_err;

/// A handle on a named shared-memory bus.
#[pyclass(module = "shoal._native", frozen)]
pub struct Bus {
    inner: CoreBus,
}

impl Bus {
    /// The core handle (cheap to clone), for the router's bus transport.
    pub fn core(&self) -> &CoreBus {
        &self.inner
    }
}

#[pymethods]
impl Bus {
    /// Creates the bus `name` (1-200 characters of `[A-Za-z0-9._-]`).
    #[staticmethod]
    fn create(py: Python<'_>, name: &str) -> PyResult<Bus> {
        let cfg = BusConfig::default();
        let inner = py.detach(|| CoreBus::create(name, &cfg)).map_err(bus_err)?;
        Ok(Bus { inner })
    }

    /// Opens the existing bus `name`.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<Bus> {
        let inner = py.detach(|| CoreBus::open(name)).map_err(bus_err)?;
        Ok(Bus { inner })
    }

    /// The bus's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Bus>()?;
    Ok(())
}
