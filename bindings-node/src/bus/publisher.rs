//! `Publisher`: one write, every subscriber of a topic reads it (fan-out by reference
//! count, no copy per subscriber).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::native::bus::{Bus as CoreBus, Publisher as CorePublisher};

use super::buffers::RawValue;
use super::data::bytes_of;
use super::guard::Guarded;
use super::outgoing;
use super::tasks;
use crate::errors::{Failure, OrThrow};

/// Publishes to a topic (`bus.publisher`): each message is written once and every
/// current subscriber receives the same bytes.
///
/// Zero copy: `const buf = publisher.loan(n)`, write into `buf`,
/// `await publisher.publish(buf)`. Each subscriber's backpressure policy applies to
/// it; one with policy `"error"` and a full lane misses the message. The synchronous
/// forms wait on the calling thread only for a subscriber with policy `"block"` whose
/// lane is full.
#[napi]
pub struct Publisher {
    inner: Arc<Guarded<CorePublisher>>,
    bus: CoreBus,
    topic: String,
}

impl Publisher {
    pub(crate) fn new(bus: CoreBus, p: CorePublisher) -> Publisher {
        let topic = p.topic().to_string();
        Publisher {
            inner: Arc::new(Guarded::new(p, "publisher")),
            bus,
            topic,
        }
    }

    fn task(
        &self,
        env: &Env,
        loan: shoal_core::native::bus::Loan,
        full_len: usize,
    ) -> Result<RawValue> {
        tasks::publish(env, &self.inner, loan, full_len)
    }
}

#[napi]
impl Publisher {
    /// The topic's name.
    #[napi(getter)]
    pub fn topic(&self) -> String {
        self.topic.clone()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Current subscribers of the topic.
    #[napi]
    pub fn subscriber_count(&self, env: Env) -> Result<u32> {
        let n = self
            .inner
            .now(|p| p.subscriber_count())
            .or_throw(&env)?
            .or_throw(&env)?;
        Ok(n as u32)
    }

    /// Borrows `size` bytes of shared memory as a writable Buffer; throws at once if
    /// the pool has no room.
    #[napi(ts_return_type = "Buffer")]
    pub fn loan(&self, env: Env, size: f64) -> Result<RawValue> {
        outgoing::loan(&env, &self.inner, &self.bus, size)
    }

    /// Publishes a loaned Buffer to every current subscriber without copying, on a
    /// thread of its own; resolves to how many it reached (0: none, the buffer goes
    /// back). The Buffer is detached at once; on failure the error's `loan` property
    /// is a new Buffer over the unsent loan.
    #[napi(
        ts_args_type = "buffer: Buffer, length?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn publish(&self, env: Env, buffer: Unknown<'_>, length: Option<f64>) -> Result<RawValue> {
        let (loan, full_len) = outgoing::take_for_task(&env, &self.inner, buffer, length)?;
        self.task(&env, loan, full_len)
    }

    /// Publishes a loaned Buffer now; returns how many subscribers it reached. The
    /// Buffer is detached once published; if publishing fails it stays a usable loan.
    #[napi(ts_args_type = "buffer: Buffer, length?: number")]
    pub fn publish_sync(&self, env: Env, buffer: Unknown<'_>, length: Option<f64>) -> Result<u32> {
        let n = outgoing::now_with_loan(&env, &self.inner, buffer, length, |p, l| {
            p.publish(l).map_err(|e| (Failure::from(e.error), e.loan))
        })?;
        Ok(n as u32)
    }

    /// Publishes a copy of `data` (a Buffer, any Uint8Array, or a string as UTF-8) on a
    /// thread of its own; resolves to how many subscribers it reached.
    #[napi(
        ts_args_type = "data: Uint8Array | string",
        ts_return_type = "Promise<number>"
    )]
    pub fn publish_copy(&self, env: Env, data: Unknown<'_>) -> Result<RawValue> {
        let (loan, n) = outgoing::copy_for_task(&env, &self.inner, &self.bus, data)?;
        self.task(&env, loan, n)
    }

    /// Publishes a copy of `data` now; returns how many subscribers it reached.
    #[napi(ts_args_type = "data: Uint8Array | string")]
    pub fn publish_copy_sync(&self, env: Env, data: Unknown<'_>) -> Result<u32> {
        let bytes = bytes_of(&env, data.raw()).or_throw(&env)?;
        let n = self
            .inner
            .now(|p| p.publish_copy(&bytes))
            .or_throw(&env)?
            .or_throw(&env)?;
        Ok(n as u32)
    }

    /// Closes the publisher and its lanes; pending Promise calls reject with
    /// `ERR_SHOAL_CLOSED`. Never waits. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
