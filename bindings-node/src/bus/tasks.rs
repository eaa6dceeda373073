//! The Promise-returning calls: the waiting runs on the object's own thread (see
//! `guard.rs`), never on the event loop, and the result becomes a JavaScript value
//! (or error) back on the JavaScript thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::JsDeferred;
use napi::JsValue;
use shoal_core::native::bus::{
    Bus as CoreBus, BusError, Loan as CoreLoan, Message as CoreMessage, Publisher as CorePublisher,
    Receiver as CoreReceiver, Sender as CoreSender,
};

use super::buffers::{loan_buffer, message_buffer, RawValue};
use super::guard::{Guarded, Job, SLICE};
use super::sender::Sender;
use crate::errors::{Failure, Kind, OrThrow, Outcome};

/// How a deferred turns into its JavaScript value.
type Resolver<D> = Box<dyn FnOnce(Env) -> Result<D> + Send>;

/// A new Promise and the deferred that settles it.
fn promise<D: ToNapiValue + 'static>(env: &Env) -> Result<(JsDeferred<D, Resolver<D>>, RawValue)> {
    let (deferred, promise) = env.create_deferred::<D, Resolver<D>>()?;
    Ok((deferred, RawValue(promise.raw())))
}

/// Queues `job` on `g`; the Promise rejects at once if the object is closed.
fn queue<T: Send + 'static>(env: &Env, g: &Arc<Guarded<T>>, job: Job<T>) -> Result<()> {
    g.ensure_open().or_throw(env)?;
    g.submit(job).or_throw(env)
}

/// Waits for the next message in slices, until `deadline`.
fn recv_wait(
    g: &Guarded<CoreReceiver>,
    deadline: Option<Instant>,
    timeout_ms: f64,
    name: &str,
) -> Outcome<CoreMessage> {
    loop {
        let slice = match deadline {
            None => SLICE,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(Kind::Timeout
                        .fail(format!("no message on {name:?} within {timeout_ms} ms")));
                }
                (d - now).min(SLICE)
            }
        };
        let mut lock = g.lock()?;
        let Some(rx) = lock.as_mut() else {
            return Err(g.closed_failure());
        };
        match rx.recv_timeout(slice) {
            Ok(m) => return Ok(m),
            Err(BusError::Timeout) => {}
            Err(e) => return Err(super::buffers::held_hint(e.into())),
        }
    }
}

/// `receiver.recv()`: a Promise of the next message's Buffer.
pub(crate) fn recv(
    env: &Env,
    rx: &Arc<Guarded<CoreReceiver>>,
    deadline: Option<Instant>,
    timeout_ms: f64,
    name: String,
) -> Result<RawValue> {
    let (deferred, out) = promise::<RawValue>(env)?;
    queue(
        env,
        rx,
        Box::new(move |g| {
            let got = recv_wait(g, deadline, timeout_ms, &name);
            Box::new(move || {
                deferred.resolve(Box::new(move |env| match got {
                    Ok(m) => message_buffer(&env, m),
                    Err(f) => Err(f.into_napi(&env)),
                }))
            })
        }),
    )?;
    Ok(out)
}

/// The JS error for a failed send, with the unsent loan as `err.loan` (a new
/// Buffer over it, at its full length) so the caller can retry.
pub(crate) fn with_loan(env: &Env, f: Failure, loan: Option<CoreLoan>, full_len: usize) -> Error {
    let err = f.into_napi(env);
    let Some(mut loan) = loan else {
        return err;
    };
    let _ = loan.set_len(full_len);
    let Ok(buf) = loan_buffer(env, loan) else {
        return err;
    };
    // SAFETY: `err` holds the error object just made; `buf.0` is a live Buffer.
    unsafe {
        let Ok(raw) = ToNapiValue::to_napi_value(env.raw(), err) else {
            return Kind::Bus.fail("send failed").into_napi(env);
        };
        napi::sys::napi_set_named_property(env.raw(), raw, c"loan".as_ptr(), buf.0);
        Error::from_unknown_without_coercion(Unknown::from_raw_unchecked(env.raw(), raw))
    }
}

/// Settles a send's Promise: `undefined` (or the subscriber count, for a publish),
/// or the error with the loan handed back.
fn settle(
    deferred: JsDeferred<Either<u32, ()>, Resolver<Either<u32, ()>>>,
    out: std::result::Result<Option<u32>, (Failure, Option<CoreLoan>)>,
    full_len: usize,
) {
    deferred.resolve(Box::new(move |env| match out {
        Ok(Some(n)) => Ok(Either::A(n)),
        Ok(None) => Ok(Either::B(())),
        Err((f, loan)) => Err(with_loan(&env, f, loan, full_len)),
    }));
}

/// Hands `loan` to the object on its thread with `call`, which gives the loan back on
/// failure; the Promise settles with `call`'s count (`undefined` for `None`) or the
/// error with the loan as `err.loan`.
fn hand_off<T: Send + 'static>(
    env: &Env,
    g: &Arc<Guarded<T>>,
    loan: CoreLoan,
    full_len: usize,
    call: impl FnOnce(&mut T, CoreLoan) -> std::result::Result<Option<u32>, (Failure, CoreLoan)>
        + Send
        + 'static,
) -> Result<RawValue> {
    let (deferred, out) = promise::<Either<u32, ()>>(env)?;
    queue(
        env,
        g,
        Box::new(move |g| {
            let r = match g.lock() {
                Err(f) => Err((f, Some(loan))),
                Ok(mut lock) => match lock.as_mut() {
                    None => Err((g.closed_failure(), Some(loan))),
                    Some(obj) => call(obj, loan).map_err(|(f, l)| (f, Some(l))),
                },
            };
            Box::new(move || settle(deferred, r, full_len))
        }),
    )?;
    Ok(out)
}

/// `sender.send()` / `sendCopy()`: a Promise that settles once the loan is in the lane.
pub(crate) fn send(
    env: &Env,
    tx: &Arc<Guarded<CoreSender>>,
    loan: CoreLoan,
    full_len: usize,
) -> Result<RawValue> {
    hand_off(env, tx, loan, full_len, |s, l| {
        s.send(l)
            .map(|()| None)
            .map_err(|e| (e.error.into(), e.loan))
    })
}

/// `publisher.publish()` / `publishCopy()`: a Promise of the subscriber count.
pub(crate) fn publish(
    env: &Env,
    p: &Arc<Guarded<CorePublisher>>,
    loan: CoreLoan,
    full_len: usize,
) -> Result<RawValue> {
    hand_off(env, p, loan, full_len, |p, l| {
        p.publish(l)
            .map(|n| Some(n as u32))
            .map_err(|e| (e.error.into(), e.loan))
    })
}

/// `bus.connect()`: a Promise of a sender, once the endpoint exists (polled every
/// millisecond on a thread of its own).
pub(crate) fn connect(
    env: &Env,
    bus: CoreBus,
    endpoint: String,
    deadline: Option<Instant>,
) -> Result<RawValue> {
    let (deferred, out) = promise::<Sender>(env)?;
    let spawned = std::thread::Builder::new()
        .name("shoal-connect".into())
        .spawn(move || {
            let got = loop {
                match bus.sender(&endpoint) {
                    Err(BusError::NoSuchEndpoint(_))
                        if deadline.is_none_or(|d| Instant::now() < d) =>
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    other => break other.map_err(Failure::from),
                }
            };
            deferred.resolve(Box::new(move |env| {
                got.map(|tx| Sender::new((bus, tx)))
                    .map_err(|f| f.into_napi(&env))
            }));
        });
    spawned
        .map_err(|e| Kind::Bus.fail(format!("cannot start a thread: {e}")))
        .or_throw(env)?;
    Ok(out)
}
