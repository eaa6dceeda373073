//! What `Sender` and `Publisher` share: both take pool loans, by value, into a core
//! object that gives a loan back when it fails.

use napi::bindgen_prelude::*;
use shoal_core::native::bus::{Bus as CoreBus, Loan as CoreLoan};

use super::buffers::{loan_buffer, take_loan, RawValue};
use super::config::size;
use super::data::bytes_of;
use super::guard::Guarded;
use crate::errors::{Failure, Kind, OrThrow};

/// `loan(size)`: a writable Buffer of exactly `size` bytes over a fresh pool slot.
pub(crate) fn loan<T: Send + 'static>(
    env: &Env,
    inner: &Guarded<T>,
    bus: &CoreBus,
    bytes: f64,
) -> Result<RawValue> {
    inner.ensure_open().or_throw(env)?;
    let n = size("size", bytes).or_throw(env)?;
    let loan = bus.loan(n).or_throw(env)?;
    loan_buffer(env, loan)
}

/// The loan behind a loaned `buffer` for a Promise call, the Buffer detached at once;
/// also the loan's full length, to restore if the call fails.
pub(crate) fn take_for_task<T: Send + 'static>(
    env: &Env,
    inner: &Guarded<T>,
    buffer: Unknown<'_>,
    length: Option<f64>,
) -> Result<(CoreLoan, usize)> {
    inner.ensure_open().or_throw(env)?;
    let (loan, taken) = take_loan(env, buffer.raw(), length).or_throw(env)?;
    let full_len = taken.detach_now(env);
    Ok((loan, full_len))
}

/// A copy of `data` (Buffer, Uint8Array or string) in a fresh loan, for a Promise
/// call; copied now, so `data` may change as soon as the call returns.
pub(crate) fn copy_for_task<T: Send + 'static>(
    env: &Env,
    inner: &Guarded<T>,
    bus: &CoreBus,
    data: Unknown<'_>,
) -> Result<(CoreLoan, usize)> {
    inner.ensure_open().or_throw(env)?;
    let bytes = bytes_of(env, data.raw()).or_throw(env)?;
    let mut loan = bus.loan(bytes.len()).or_throw(env)?;
    loan.copy_from_slice(&bytes);
    let n = loan.len();
    Ok((loan, n))
}

/// Hands the loan behind `buffer` to `call` on the JavaScript thread: on success the
/// Buffer is detached (its bytes are delivered); on failure, including a refusal
/// before `call` ran, the loan stays under the Buffer, which remains usable.
pub(crate) fn now_with_loan<T: Send + 'static, R>(
    env: &Env,
    inner: &Guarded<T>,
    buffer: Unknown<'_>,
    length: Option<f64>,
    call: impl FnOnce(&mut T, CoreLoan) -> std::result::Result<R, (Failure, CoreLoan)>,
) -> Result<R> {
    inner.ensure_open().or_throw(env)?;
    let (loan, taken) = take_loan(env, buffer.raw(), length).or_throw(env)?;
    // Outside the closure, so a refused call (busy, closed) leaves the loan here.
    let mut pending = Some(loan);
    let r = inner.now(|obj| match pending.take() {
        Some(l) => call(obj, l).map_err(|(f, l)| {
            pending = Some(l);
            f
        }),
        None => Err(Kind::Bus.fail("the loan was already handed on")),
    });
    match r.and_then(|r| r) {
        Ok(v) => {
            taken.sent(env);
            Ok(v)
        }
        Err(f) => {
            if let Some(l) = pending {
                taken.give_back(l);
            }
            Err(f.into_napi(env))
        }
    }
}
