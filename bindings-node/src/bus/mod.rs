//! `Bus`: the zero-copy shared-memory bus between processes on one host.
//!
//! One file per job: `config.rs` (options → core settings), `buffers.rs` (Buffers
//! over loans and messages in shared memory, and their release), `data.rs` (bytes of
//! copy arguments), `guard.rs` (core objects shared with the thread that runs their
//! Promise calls, never blocking the event loop), `tasks.rs` (the Promise-returning
//! calls), `sender.rs`, `endpoint.rs` (receivers), `publisher.rs`, `stats.rs`.
//!
//! Zero copy end to end: a loan's Buffer points into the shared segment, sending
//! moves a 16-byte descriptor, and the receiver's Buffer points at the same bytes.
//! Nothing here waits on the event loop except the documented synchronous sends under
//! `"block"` backpressure; every wait has a Promise form that runs off the event loop.

mod buffers;
mod config;
mod data;
mod endpoint;
mod guard;
mod outgoing;
mod publisher;
mod sender;
mod stats;
mod tasks;

use std::sync::atomic::{AtomicBool, Ordering};

use napi::bindgen_prelude::*;
use napi::JsValue;
use napi_derive::napi;
use shoal_core::native::bus::Bus as CoreBus;

use crate::errors::{Kind, OrThrow, Outcome};
pub use buffers::RawValue;
pub use config::{BusOptions, EndpointOptions};
pub use endpoint::{Receiver, RecvOptions};
pub use publisher::Publisher;
pub use sender::Sender;
pub use stats::{BusStats, ClassStats, ReclaimReport};

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
    #[napi(factory, ts_args_type = "name: string, options?: BusOptions")]
    pub fn create(env: Env, name: Unknown<'_>, options: Option<Unknown<'_>>) -> Result<Bus> {
        let name = crate::args::string_arg(&env, name, "name").or_throw(&env)?;
        let options: BusOptions =
            crate::args::options_arg(&env, options, "options").or_throw(&env)?;
        let cfg = config::bus_config(&options).or_throw(&env)?;
        let inner = CoreBus::create(&name, &cfg).or_throw(&env)?;
        Ok(Bus::wrap(inner))
    }

    /// Opens the existing bus `name` (`ERR_SHOAL_BUS_NOT_FOUND` if there is none) and
    /// repairs what dead processes left behind.
    #[napi(factory, ts_args_type = "name: string")]
    pub fn open(env: Env, name: Unknown<'_>) -> Result<Bus> {
        let name = crate::args::string_arg(&env, name, "name").or_throw(&env)?;
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

    /// Becomes the consumer of endpoint `name` (1–64 characters of
    /// `[A-Za-z0-9._/:-]`; `ERR_SHOAL_BUS_EXISTS` if it has a live consumer).
    /// `options.backpressure`: what senders do when this endpoint's lane is full;
    /// `options.wait` / `spins`: how `recv()` waits on the receiver's thread.
    #[napi]
    pub fn endpoint(
        &self,
        env: Env,
        name: String,
        options: Option<EndpointOptions>,
    ) -> Result<Receiver> {
        let cfg = config::endpoint_config(options.as_ref()).or_throw(&env)?;
        let bus = self.core_open().or_throw(&env)?;
        let rx = bus.endpoint(&name, cfg).or_throw(&env)?;
        Ok(Receiver::new(rx, false))
    }

    /// Subscribes to topic `topic` (created if needed): the receiver gets every
    /// message published from now on. Options as for `endpoint`, for this subscriber.
    #[napi]
    pub fn subscribe(
        &self,
        env: Env,
        topic: String,
        options: Option<EndpointOptions>,
    ) -> Result<Receiver> {
        let cfg = config::endpoint_config(options.as_ref()).or_throw(&env)?;
        let bus = self.core_open().or_throw(&env)?;
        let rx = bus.subscribe(&topic, cfg).or_throw(&env)?;
        Ok(Receiver::new(rx, true))
    }

    /// A sender to endpoint `endpoint`, with a lane of its own; throws
    /// `ERR_SHOAL_BUS_NOT_FOUND` at once if the endpoint does not exist (`connect`
    /// waits for it).
    #[napi]
    pub fn sender(&self, env: Env, endpoint: String) -> Result<Sender> {
        let bus = self.core_open().or_throw(&env)?;
        let tx = bus.sender(&endpoint).or_throw(&env)?;
        Ok(Sender::new((bus.clone(), tx)))
    }

    /// A sender to endpoint `endpoint`, waiting (on a thread of its own) until its
    /// consumer creates it: `options.timeout` milliseconds (default: forever), then
    /// rejects with `ERR_SHOAL_BUS_NOT_FOUND`.
    #[napi(ts_return_type = "Promise<Sender>")]
    pub fn connect(
        &self,
        env: Env,
        endpoint: String,
        options: Option<RecvOptions>,
    ) -> Result<RawValue> {
        let until = config::deadline(options.and_then(|o| o.timeout)).or_throw(&env)?;
        let bus = self.core_open().or_throw(&env)?;
        tasks::connect(&env, bus.clone(), endpoint, until)
    }

    /// A publisher to topic `topic` (created if needed).
    #[napi]
    pub fn publisher(&self, env: Env, topic: String) -> Result<Publisher> {
        let bus = self.core_open().or_throw(&env)?;
        let p = bus.publisher(&topic).or_throw(&env)?;
        Ok(Publisher::new(bus.clone(), p))
    }

    /// Borrows `size` bytes of shared memory as a writable Buffer, not tied to a
    /// destination yet: any sender or publisher of this bus can send it. Throws at
    /// once if the pool has no room.
    #[napi(ts_return_type = "Buffer")]
    pub fn loan(&self, env: Env, size: f64) -> Result<RawValue> {
        let n = config::size("size", size).or_throw(&env)?;
        let bus = self.core_open().or_throw(&env)?;
        let loan = bus.loan(n).or_throw(&env)?;
        buffers::loan_buffer(&env, loan)
    }

    /// Occupancy and counters of the bus (pool slots, processes, endpoints, lanes,
    /// crash repairs).
    #[napi]
    pub fn stats(&self, env: Env) -> Result<BusStats> {
        let bus = self.core_open().or_throw(&env)?;
        Ok(bus.stats().into())
    }

    /// Runs crash repair now if an attached process has died: what it held (loans,
    /// received messages, its endpoints) is given back. Repair also runs on `open`
    /// and every 100 ms from waiting receivers. May wait up to about half a second
    /// for live peers to leave a bus operation.
    #[napi]
    pub fn reclaim(&self, env: Env) -> Result<ReclaimReport> {
        let bus = self.core_open().or_throw(&env)?;
        Ok(bus.reclaim().or_throw(&env)?.into())
    }

    /// Makes this handle refuse further use (`ERR_SHOAL_CLOSED`). The process detaches
    /// from the bus when this object and everything made from it are gone. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// What `bufferInfo` says about a Buffer.
#[napi(object)]
pub struct BufferInfo {
    /// Address of the Buffer's first byte in this process (for checking zero copy
    /// against `/proc/self/maps`).
    pub address: BigInt,
    /// The Buffer's length in bytes.
    pub length: f64,
    /// `"loan"` or `"message"` for a live bus Buffer, else `null`.
    pub kind: Option<String>,
    /// Where the bytes are in the bus's pool (the same number for a loan and the
    /// message it became), for a live bus Buffer.
    pub offset: Option<BigInt>,
    /// Whether a received message arrived inside a batch.
    pub batched: bool,
}

/// Gives back the loan or received message behind `buffer` now instead of at garbage
/// collection, and detaches the Buffer (every view of it reads as empty afterwards).
/// Returns `false` if `buffer` is not a live bus Buffer (already released or sent,
/// or not from the bus).
#[napi(ts_args_type = "buffer: Uint8Array")]
pub fn release(env: Env, buffer: Unknown<'_>) -> Result<bool> {
    buffers::release(&env, buffer.raw()).or_throw(&env)
}

/// Where a Uint8Array's bytes are, and whether it is a live loan or message of a bus
/// (for tests and debugging: zero copy can be checked against the segment's mapping).
#[napi(ts_args_type = "buffer: Uint8Array")]
pub fn buffer_info(env: Env, buffer: Unknown<'_>) -> Result<BufferInfo> {
    let i = buffers::info(&env, buffer.raw()).or_throw(&env)?;
    Ok(BufferInfo {
        address: BigInt::from(i.address as u64),
        length: i.len as f64,
        kind: i
            .bus
            .map(|(loan, _, _)| if loan { "loan" } else { "message" }.to_string()),
        offset: i.bus.map(|(_, off, _)| BigInt::from(off)),
        batched: i.bus.is_some_and(|(_, _, b)| b),
    })
}
