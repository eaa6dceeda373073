//! `Bus`: the zero-copy shared-memory bus between processes on one host.
//!
//! One file per job: `config.rs` (options → core settings). The handle itself lives
//! here; it owns no thread and never blocks the event loop.

// Endpoint options and timeouts are used by the files that follow.
#[allow(dead_code)]
mod config;

use std::sync::atomic::{AtomicBool, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::native::bus::Bus as CoreBus;

use crate::errors::{Kind, OrThrow, Outcome};
pub use config::{BusOptions, EndpointOptions};

/// A handle on a named shared-memory bus (`Bus.create` / `Bus.open`).
///
/// The process stays attached while this object or anything made from it (receivers,
/// senders, publishers, loans, messages) is alive; the last process to leave removes
/// the segment. `close()` makes this handle refuse further use; objects already made
/// from it keep working until they are closed or garbage-collected.
#[napi]
pub struct Bus {
    inner: CoreBus,
    closed: AtomicBool,
}

impl Bus {
    fn wrap(inner: CoreBus) -> Bus {
        Bus {
            inner,
            closed: AtomicBool::new(false),
        }
    }

    /// The core handle (cheap to clone), for the router's bus transport. Still valid
    /// after `close()`; use [`Bus::core_open`] to honour it.
    pub fn core(&self) -> &CoreBus {
        &self.inner
    }

    /// Whether `close()` was called on the JavaScript object.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The core handle, or the "bus is closed" failure (`ERR_SHOAL_CLOSED`).
    pub fn core_open(&self) -> Outcome<&CoreBus> {
        if self.is_closed() {
            return Err(Kind::Closed.fail(format!("the bus {:?} is closed", self.inner.name())));
        }
        Ok(&self.inner)
    }
}

#[napi]
impl Bus {
    /// Creates the bus `name` (1–200 characters of `[A-Za-z0-9._-]`, not starting with
    /// `.`; the segment is `/dev/shm/shoal-<name>`), sized by `options`. Throws
    /// `ERR_SHOAL_BUS_EXISTS` if a bus of that name has live users.
    #[napi(factory)]
    pub fn create(env: Env, name: String, options: Option<BusOptions>) -> Result<Bus> {
        let cfg = config::bus_config(&options.unwrap_or_default()).or_throw(&env)?;
        let inner = CoreBus::create(&name, &cfg).or_throw(&env)?;
        Ok(Bus::wrap(inner))
    }

    /// Opens the existing bus `name` (`ERR_SHOAL_BUS_NOT_FOUND` if there is none) and
    /// repairs what dead processes left behind.
    #[napi(factory)]
    pub fn open(env: Env, name: String) -> Result<Bus> {
        let inner = CoreBus::open(&name).or_throw(&env)?;
        Ok(Bus::wrap(inner))
    }

    /// The bus's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.is_closed()
    }

    /// Makes this handle refuse further use (`ERR_SHOAL_CLOSED`). The process detaches
    /// from the bus when this object and everything made from it are gone. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}
