//! `Sender`: the producer end of one lane to a named endpoint.
//!
//! `loan(n)` hands out a Buffer over a pool slot; `send(buffer)` (a Promise, waiting
//! on its own thread) or `sendSync(buffer)` moves it to the receiver without copying.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::native::bus::{Bus as CoreBus, Sender as CoreSender};

use super::buffers::RawValue;
use super::data::bytes_of;
use super::guard::Guarded;
use super::outgoing;
use super::tasks;
use crate::errors::{Failure, OrThrow};

/// Sends messages to one named endpoint (`bus.sender` / `bus.connect`), through a
/// lane of its own.
///
/// Zero copy: `const buf = sender.loan(n)`, write into `buf`, `await sender.send(buf)`
/// (or `sender.sendSync(buf)`). After a successful send the Buffer is detached (its
/// length reads 0): its bytes belong to the receiver.
///
/// Synchronous calls never wait, with one exception: under the receiver's `"block"`
/// backpressure policy, `sendSync` / `sendCopySync` / `sendBatched` / `flush` into a
/// full lane wait on the calling thread for the receiver to make room. Use the
/// Promise forms where the receiver may fall behind.
#[napi]
pub struct Sender {
    inner: Arc<Guarded<CoreSender>>,
    bus: CoreBus,
    endpoint: String,
}

impl Sender {
    pub(crate) fn new((bus, tx): (CoreBus, CoreSender)) -> Sender {
        let endpoint = tx.endpoint().to_string();
        Sender {
            inner: Arc::new(Guarded::new(tx, "sender")),
            bus,
            endpoint,
        }
    }

    fn task(
        &self,
        env: &Env,
        loan: shoal_core::native::bus::Loan,
        full_len: usize,
    ) -> Result<RawValue> {
        tasks::send(env, &self.inner, loan, full_len)
    }
}

#[napi]
impl Sender {
    /// The endpoint this sender delivers to.
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Borrows `size` bytes of shared memory and returns a writable Buffer of exactly
    /// `size` bytes over them: write the message there, then `send(buffer)`. Throws at
    /// once if the pool has no free slot (`ERR_SHOAL_BUS`).
    #[napi(ts_return_type = "Buffer")]
    pub fn loan(&self, env: Env, size: f64) -> Result<RawValue> {
        outgoing::loan(&env, &self.inner, &self.bus, size)
    }

    /// Sends a loaned Buffer without copying, on the sender's own thread (waiting there for
    /// room when the lane is full under `"block"`). `length`: send only the first
    /// `length` bytes (a `subarray(0, n)` of the loan works too). The Buffer is
    /// detached at once. On failure the error's `loan` property is a new Buffer over
    /// the unsent loan. Promise calls on one sender run in call order.
    #[napi(
        ts_args_type = "buffer: Buffer, length?: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn send(&self, env: Env, buffer: Unknown<'_>, length: Option<f64>) -> Result<RawValue> {
        let (loan, full_len) = outgoing::take_for_task(&env, &self.inner, buffer, length)?;
        self.task(&env, loan, full_len)
    }

    /// Sends a loaned Buffer without copying, now (see the class notes on `"block"`).
    /// The Buffer is detached once sent; if the send fails it stays a usable loan.
    #[napi(ts_args_type = "buffer: Buffer, length?: number")]
    pub fn send_sync(&self, env: Env, buffer: Unknown<'_>, length: Option<f64>) -> Result<()> {
        outgoing::now_with_loan(&env, &self.inner, buffer, length, |s, l| {
            s.send(l).map_err(|e| (Failure::from(e.error), e.loan))
        })
    }

    /// Sends a copy of `data` (a Buffer, any Uint8Array, or a string as UTF-8) on a
    /// thread of its own. The copy into a fresh loan happens now, so `data` may change as
    /// soon as this returns.
    #[napi(
        ts_args_type = "data: Uint8Array | string",
        ts_return_type = "Promise<void>"
    )]
    pub fn send_copy(&self, env: Env, data: Unknown<'_>) -> Result<RawValue> {
        let (loan, n) = outgoing::copy_for_task(&env, &self.inner, &self.bus, data)?;
        self.task(&env, loan, n)
    }

    /// Sends a copy of `data` now (see the class notes on `"block"`).
    #[napi(ts_args_type = "data: Uint8Array | string")]
    pub fn send_copy_sync(&self, env: Env, data: Unknown<'_>) -> Result<()> {
        let bytes = bytes_of(&env, data.raw()).or_throw(&env)?;
        self.inner
            .now(|s| s.send_copy(&bytes))
            .or_throw(&env)?
            .or_throw(&env)
    }

    /// Queues a copy of a small message in this sender's current batch (a 64 KiB
    /// buffer sent as one descriptor when full, after the batch delay of 200 µs, on
    /// `flush()`, or before the next unbatched send). The receiver gets each message
    /// separately.
    #[napi(ts_args_type = "data: Uint8Array | string")]
    pub fn send_batched(&self, env: Env, data: Unknown<'_>) -> Result<()> {
        let bytes = bytes_of(&env, data.raw()).or_throw(&env)?;
        self.inner
            .now(|s| s.send_batched(&bytes))
            .or_throw(&env)?
            .or_throw(&env)
    }

    /// Sends the pending batch, if any, now.
    #[napi]
    pub fn flush(&self, env: Env) -> Result<()> {
        self.inner.now(|s| s.flush()).or_throw(&env)?.or_throw(&env)
    }

    /// Closes the sender (flushing a pending batch) and its lane; pending Promise
    /// calls reject with `ERR_SHOAL_CLOSED`. Never waits. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
