//! The Promise-returning calls: the waiting runs on a libuv worker thread, never on
//! the event loop, and the result becomes a JavaScript value (or error) back on the
//! JavaScript thread.
//!
//! Each pending call occupies one libuv worker (4 by default, `UV_THREADPOOL_SIZE`)
//! for as long as it waits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use shoal_core::native::bus::{
    Bus as CoreBus, BusError, Loan as CoreLoan, Message as CoreMessage, Publisher as CorePublisher,
    Receiver as CoreReceiver, Sender as CoreSender,
};

use super::buffers::{loan_buffer, message_buffer, RawValue};
use super::guard::{Guarded, SLICE};
use super::sender::Sender;
use crate::errors::{Failure, Kind, Outcome};

/// `receiver.recv()`: the next message, waiting in slices on a worker.
pub struct RecvTask {
    pub(crate) rx: Arc<Guarded<CoreReceiver>>,
    pub(crate) ticket: u64,
    pub(crate) deadline: Option<Instant>,
    pub(crate) timeout_ms: f64,
    pub(crate) name: String,
}

fn recv_in_turn(t: &RecvTask) -> Outcome<CoreMessage> {
    t.rx.in_turn(t.ticket, |g| loop {
        let slice = match t.deadline {
            None => SLICE,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(Kind::Timeout.fail(format!(
                        "no message on {:?} within {} ms",
                        t.name, t.timeout_ms
                    )));
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
    })
}

impl Task for RecvTask {
    type Output = Outcome<CoreMessage>;
    type JsValue = RawValue;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(recv_in_turn(self))
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<RawValue> {
        match out {
            Ok(m) => message_buffer(&env, m),
            Err(f) => Err(f.into_napi(&env)),
        }
    }
}

/// What a worker sends: a loan to an endpoint or a topic.
pub(crate) enum Target {
    /// Through a sender.
    Sender(Arc<Guarded<CoreSender>>),
    /// Through a publisher.
    Publisher(Arc<Guarded<CorePublisher>>),
}

/// `sender.send()` / `publisher.publish()` (and their `Copy` forms) on a worker.
pub struct SendTask {
    pub(crate) target: Target,
    pub(crate) ticket: u64,
    pub(crate) loan: Option<CoreLoan>,
    /// The loan's length before it was cut to the sent length.
    pub(crate) full_len: usize,
}

/// Reached subscribers, or the failure with the unsent loan.
type Sent = std::result::Result<u32, (Failure, Option<CoreLoan>)>;

fn send_in_turn(t: &mut SendTask) -> Sent {
    let Some(loan) = t.loan.take() else {
        return Err((Kind::Bus.fail("this loan was already sent"), None));
    };
    let mut loan = Some(loan);
    let out = match &t.target {
        Target::Sender(g) => g.in_turn(t.ticket, |g| {
            let mut lock = g.lock()?;
            let Some(tx) = lock.as_mut() else {
                return Err(g.closed_failure());
            };
            let Some(l) = loan.take() else {
                return Err(Kind::Bus.fail("this loan was already sent"));
            };
            tx.send(l).map(|()| 1).map_err(|e| {
                loan = Some(e.loan);
                e.error.into()
            })
        }),
        Target::Publisher(g) => g.in_turn(t.ticket, |g| {
            let mut lock = g.lock()?;
            let Some(p) = lock.as_mut() else {
                return Err(g.closed_failure());
            };
            let Some(l) = loan.take() else {
                return Err(Kind::Bus.fail("this loan was already sent"));
            };
            p.publish(l).map(|n| n as u32).map_err(|e| {
                loan = Some(e.loan);
                e.error.into()
            })
        }),
    };
    out.map_err(|f| (f, loan))
}

impl Task for SendTask {
    type Output = Sent;
    /// Reached subscribers for a publish, `undefined` for a send.
    type JsValue = Either<u32, ()>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(send_in_turn(self))
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<Either<u32, ()>> {
        match out {
            Ok(n) if matches!(self.target, Target::Publisher(_)) => Ok(Either::A(n)),
            Ok(_) => Ok(Either::B(())),
            Err((f, loan)) => Err(with_loan(&env, f, loan, self.full_len)),
        }
    }
}

/// The JS error for a failed send, with the unsent loan as `err.loan` (a new
/// Buffer over it, at its full length) so the caller can retry.
pub(crate) fn with_loan(env: &Env, f: Failure, loan: Option<CoreLoan>, full_len: usize) -> Error {
    let err = f.into_napi(env);
    let Some(mut loan) = loan else {
        return err;
    };
    let _ = loan.set_len(full_len);
    if let Ok(buf) = loan_buffer(env, loan) {
        let raw = unsafe { ToNapiValue::to_napi_value(env.raw(), err) };
        if let Ok(raw) = raw {
            // SAFETY: `raw` is the error object just made, `buf.0` a live Buffer.
            unsafe {
                let key = c"loan";
                napi::sys::napi_set_named_property(env.raw(), raw, key.as_ptr(), buf.0);
                return Error::from_unknown_without_coercion(Unknown::from_raw_unchecked(
                    env.raw(),
                    raw,
                ));
            }
        }
        return Kind::Bus.fail("send failed").into_napi(env);
    }
    err
}

/// `bus.connect()`: a sender, once the endpoint exists.
pub struct ConnectTask {
    pub(crate) bus: CoreBus,
    pub(crate) endpoint: String,
    pub(crate) deadline: Option<Instant>,
}

impl Task for ConnectTask {
    type Output = Outcome<CoreSender>;
    type JsValue = Sender;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(loop {
            match self.bus.sender(&self.endpoint) {
                Err(BusError::NoSuchEndpoint(_))
                    if self.deadline.is_none_or(|d| Instant::now() < d) =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other.map_err(Failure::from),
            }
        })
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<Sender> {
        out.map(|tx| Sender::new((self.bus.clone(), tx)))
            .map_err(|f| f.into_napi(&env))
    }
}
