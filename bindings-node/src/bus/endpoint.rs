//! `Receiver`: the consumer of an endpoint or of a topic subscription.
//!
//! `recv()` returns a Promise and waits on the receiver's own thread (in slices of
//! 50 ms, so `close()` ends it promptly); `tryRecv()` never waits, for latency-critical loops.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::native::bus::Receiver as CoreReceiver;

use super::buffers::{held_hint, message_buffer, RawValue};
use super::config::deadline;
use super::guard::Guarded;
use super::tasks;
use crate::errors::{Failure, OrThrow};

/// Options of `receiver.recv`.
#[napi(object)]
#[derive(Default)]
pub struct RecvOptions {
    /// Milliseconds to wait (default: forever); then the Promise rejects with
    /// `ERR_SHOAL_TIMEOUT`.
    pub timeout: Option<f64>,
}

/// The consumer of an endpoint (`bus.endpoint`) or a topic subscription
/// (`bus.subscribe`): receives every sender's (or publisher's) messages as Buffers
/// over shared memory, without copying.
///
/// A received Buffer keeps its message's slot until it is garbage-collected or passed
/// to `release(buffer)` (which detaches it: its length reads 0 afterwards). A process
/// can hold a bounded number of messages and loans at once (`heldPerProcess`, 4096 by
/// default), and garbage collection may come late, so release Buffers you are done
/// with in loops. The bytes are shared with the sender (and, on a topic, with every
/// subscriber): treat them as read-only.
#[napi]
pub struct Receiver {
    inner: Arc<Guarded<CoreReceiver>>,
    name: String,
    subscription: bool,
}

impl Receiver {
    pub(crate) fn new(rx: CoreReceiver, subscription: bool) -> Receiver {
        let name = rx.name().to_string();
        Receiver {
            inner: Arc::new(Guarded::new(rx, "receiver")),
            name,
            subscription,
        }
    }
}

#[napi]
impl Receiver {
    /// The endpoint's name (for a subscription, the topic's).
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Whether this receiver is a topic subscription.
    #[napi(getter)]
    pub fn subscription(&self) -> bool {
        self.subscription
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The next message, as a Buffer over shared memory. Waits on the receiver's own
    /// thread, never on the event loop; `options.timeout` in milliseconds (default: forever),
    /// then rejects with `ERR_SHOAL_TIMEOUT`. Pending calls get messages in call order.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn recv(&self, env: Env, options: Option<RecvOptions>) -> Result<RawValue> {
        self.inner.ensure_open().or_throw(&env)?;
        let timeout = options.and_then(|o| o.timeout);
        let until = deadline(timeout).or_throw(&env)?;
        let ms = timeout.unwrap_or(f64::INFINITY);
        tasks::recv(&env, &self.inner, until, ms, self.name.clone())
    }

    /// The next message if one is waiting (a Buffer over shared memory), else `null`.
    /// Never waits; also `null` while a `recv()` Promise is pending on this receiver
    /// (that call gets the next message).
    #[napi(ts_return_type = "Buffer | null")]
    pub fn try_recv(&self, env: Env) -> Result<Option<RawValue>> {
        let got = self.inner.now_if_free(|r| r.try_recv()).or_throw(&env)?;
        match got {
            None | Some(Ok(None)) => Ok(None),
            Some(Ok(Some(m))) => message_buffer(&env, m).map(Some),
            Some(Err(e)) => Err(held_hint(Failure::from(e)).into_napi(&env)),
        }
    }

    /// Closes the receiver: the endpoint (or subscription) goes away, its senders get
    /// `ERR_SHOAL_ENDPOINT_GONE`, pending `recv()` calls reject with
    /// `ERR_SHOAL_CLOSED`, and the name can be taken again. Buffers already received
    /// stay valid. Never waits. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
