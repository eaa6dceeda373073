//! Node `Buffer`s over shared memory: loans (written before sending) and received
//! messages, without copying.
//!
//! Each such Buffer is an external buffer over the bytes in the bus segment. The core
//! object that keeps those bytes alive (a `Loan` or a `Message`) sits in a registry of
//! this thread, keyed by the bytes' address; the Buffer's finalizer (garbage
//! collection) drops it, and so does [`release`] or a send, at once. Whenever the core
//! object leaves early, the Buffer's `ArrayBuffer` is detached first, so every view of
//! it reads as empty: JavaScript can never reach memory that went back to the pool or
//! now belongs to a receiver.
//!
//! This file must not block and must never hold the registry borrowed across a call
//! into JavaScript.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use shoal_core::native::bus::{Loan as CoreLoan, Message as CoreMessage};

use crate::errors::{invalid, wrong_type, Kind, Outcome};

/// A core object that keeps shared bytes alive for a Buffer.
pub(crate) enum Held {
    /// An unsent loan.
    Loan(CoreLoan),
    /// A received message.
    Message(CoreMessage),
}

struct Entry {
    id: u64,
    held: Held,
}

#[derive(Default)]
struct Live {
    next: u64,
    by_addr: HashMap<usize, Entry>,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
}

/// What the finalizer needs to find its entry (and only its own: the address may
/// have been reused by a newer loan or message since).
struct Token {
    addr: usize,
    id: u64,
}

/// A JavaScript value made by hand (an external Buffer), returned as is.
pub struct RawValue(pub(crate) sys::napi_value);

impl ToNapiValue for RawValue {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl TypeName for RawValue {
    fn type_name() -> &'static str {
        "Buffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

fn remove(addr: usize, id: Option<u64>) -> Option<Held> {
    LIVE.try_with(|l| {
        let mut l = l.try_borrow_mut().ok()?;
        match l.by_addr.get(&addr) {
            Some(e) if id.is_none_or(|id| e.id == id) => l.by_addr.remove(&addr).map(|e| e.held),
            _ => None,
        }
    })
    .ok()
    .flatten()
}

unsafe extern "C" fn finalize(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Box<Token>` leaked by `external`, finalized once.
    let token = unsafe { Box::from_raw(hint.cast::<Token>()) };
    // Dropped outside the registry borrow.
    drop(remove(token.addr, Some(token.id)));
}

fn status(s: sys::napi_status, what: &str) -> Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(s), format!("{what} failed")))
    }
}

/// A Buffer of `len` bytes at `data`, whose bytes `held` keeps alive.
fn external(env: &Env, data: *mut u8, len: usize, held: Held) -> Result<RawValue> {
    let addr = data as usize;
    let id = LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.next += 1;
        let id = l.next;
        // An address is in the registry only while a Buffer over it is live and
        // undetached, and then the pool cannot hand it out again.
        let old = l.by_addr.insert(addr, Entry { id, held });
        (id, old)
    });
    let (id, old) = id;
    drop(old);
    let hint = Box::into_raw(Box::new(Token { addr, id }));
    let mut out = ptr::null_mut();
    // SAFETY: `data` points at `len` bytes that stay mapped and reserved while the
    // registry entry lives; the entry outlives the Buffer's use (it leaves only after
    // the ArrayBuffer is detached, or in the finalizer).
    let s = unsafe {
        sys::napi_create_external_buffer(
            env.raw(),
            len,
            data.cast(),
            Some(finalize),
            hint.cast(),
            &mut out,
        )
    };
    if let Err(e) = status(s, "napi_create_external_buffer") {
        // SAFETY: not handed to napi.
        drop(unsafe { Box::from_raw(hint) });
        drop(remove(addr, Some(id)));
        return Err(e);
    }
    Ok(RawValue(out))
}

/// A writable Buffer over a loan.
///
/// Node gives an empty Buffer no address, so a loan must have at least one byte
/// (an empty message is sent with `sendCopy`).
pub(crate) fn loan_buffer(env: &Env, mut loan: CoreLoan) -> Result<RawValue> {
    let (data, len) = (loan.as_mut_ptr(), loan.len());
    if len == 0 {
        return Err(invalid(
            "a loan must have at least 1 byte (send an empty message with sendCopy(Buffer.alloc(0)))",
        )
        .into_napi(env));
    }
    external(env, data, len, Held::Loan(loan))
}

/// A Buffer over a received message (its bytes are shared with the sender and, for a
/// topic, with every subscriber: do not write into it).
///
/// An empty message is an ordinary empty Buffer (there are no bytes to share), and its
/// slot goes back at once.
pub(crate) fn message_buffer(env: &Env, msg: CoreMessage) -> Result<RawValue> {
    let (data, len) = (msg.as_ptr().cast_mut(), msg.len());
    if len == 0 {
        drop(msg);
        let mut out = ptr::null_mut();
        // SAFETY: a plain allocation of an empty Buffer.
        let s = unsafe { sys::napi_create_buffer(env.raw(), 0, ptr::null_mut(), &mut out) };
        status(s, "napi_create_buffer")?;
        return Ok(RawValue(out));
    }
    external(env, data, len, Held::Message(msg))
}

/// A Uint8Array's bytes and its ArrayBuffer.
pub(crate) struct View {
    pub data: *mut u8,
    pub len: usize,
    pub arraybuffer: sys::napi_value,
}

/// The view behind `value`, if it is a `Uint8Array` (a `Buffer` is one).
pub(crate) fn view_of(env: &Env, value: sys::napi_value) -> Option<View> {
    let mut is_typed = false;
    // SAFETY: plain napi queries on a value of this call.
    unsafe {
        if sys::napi_is_typedarray(env.raw(), value, &mut is_typed) != sys::Status::napi_ok
            || !is_typed
        {
            return None;
        }
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        let mut arraybuffer = ptr::null_mut();
        let mut offset = 0usize;
        let s = sys::napi_get_typedarray_info(
            env.raw(),
            value,
            &mut kind,
            &mut len,
            &mut data,
            &mut arraybuffer,
            &mut offset,
        );
        if s != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
            return None;
        }
        Some(View {
            data: data.cast(),
            len,
            arraybuffer,
        })
    }
}

/// Detaches an ArrayBuffer: all its views become empty.
fn detach(env: &Env, arraybuffer: sys::napi_value) {
    // SAFETY: `arraybuffer` is a live value of this call. Failure leaves the Buffer
    // attached; the registry entry is already gone, so nothing is freed under it
    // except pool memory that stays mapped while the bus is open.
    unsafe {
        sys::napi_detach_arraybuffer(env.raw(), arraybuffer);
    }
}

const NOT_A_LOAN: &str = "expected the Buffer returned by loan() (unsent, not a copy or a \
     slice that starts later); use sendCopy()/publishCopy() to send other bytes";

/// Where a loan taken out of its Buffer came from.
pub(crate) struct Taken {
    addr: usize,
    id: u64,
    full_len: usize,
    arraybuffer: sys::napi_value,
}

/// Takes the loan behind `value` (the Buffer from `loan()`, or a `subarray(0, n)` of
/// it: then `n` bytes are sent) out of the registry, for sending `length` bytes.
/// The loan comes back cut to that length; the Buffer stays attached until
/// [`Taken::sent`] (or [`Taken::detach_now`]).
pub(crate) fn take_loan(
    env: &Env,
    value: sys::napi_value,
    length: Option<f64>,
) -> Outcome<(CoreLoan, Taken)> {
    let v = view_of(env, value).ok_or_else(|| wrong_type(NOT_A_LOAN))?;
    let addr = v.data as usize;
    let found = LIVE.with(|l| {
        let mut l = l.borrow_mut();
        match l.by_addr.get(&addr) {
            Some(Entry {
                held: Held::Loan(_),
                ..
            }) => l.by_addr.remove(&addr),
            _ => None,
        }
    });
    let Some(Entry {
        id,
        held: Held::Loan(mut loan),
    }) = found
    else {
        if v.len == 0 && v.data.is_null() {
            return Err(invalid(
                "this Buffer is detached: its loan was already sent or released",
            ));
        }
        return Err(invalid(NOT_A_LOAN));
    };
    let full_len = loan.len();
    let want = match length {
        None => Ok(v.len.min(full_len)),
        Some(n) => super::config::size("length", n).and_then(|n| {
            if n > v.len.min(full_len) {
                Err(invalid(format!(
                    "length {n} is more than the {} bytes of the loan",
                    v.len.min(full_len)
                )))
            } else {
                Ok(n)
            }
        }),
    };
    let n = match want {
        Ok(n) => n,
        Err(e) => {
            restore_entry(addr, id, Held::Loan(loan));
            return Err(e);
        }
    };
    // `n` is at most the loan's length, so within its capacity.
    let _ = loan.set_len(n);
    Ok((
        loan,
        Taken {
            addr,
            id,
            full_len,
            arraybuffer: v.arraybuffer,
        },
    ))
}

fn restore_entry(addr: usize, id: u64, held: Held) {
    LIVE.with(|l| {
        l.borrow_mut().by_addr.insert(addr, Entry { id, held });
    });
}

impl Taken {
    /// The send went through: detaches the Buffer (its bytes belong to the receiver).
    pub fn sent(self, env: &Env) {
        detach(env, self.arraybuffer);
    }

    /// The send will happen on another thread: detaches the Buffer now, since JavaScript
    /// keeps running meanwhile. Returns the loan's full length (for a retry).
    pub fn detach_now(self, env: &Env) -> usize {
        detach(env, self.arraybuffer);
        self.full_len
    }

    /// The send failed at once: the loan goes back behind the same Buffer, which stays
    /// usable (retry, or drop it).
    pub fn give_back(self, mut loan: CoreLoan) {
        let _ = loan.set_len(self.full_len);
        restore_entry(self.addr, self.id, Held::Loan(loan));
    }
}

/// Releases the loan or message behind `value` now (detaching the Buffer). `false` if
/// it is not a live bus Buffer (already released, sent, or not from the bus).
pub(crate) fn release(env: &Env, value: sys::napi_value) -> Outcome<bool> {
    let v = view_of(env, value)
        .ok_or_else(|| wrong_type("release() takes a Buffer from loan() or recv()"))?;
    if v.data.is_null() {
        return Ok(false);
    }
    let Some(held) = remove(v.data as usize, None) else {
        return Ok(false);
    };
    detach(env, v.arraybuffer);
    drop(held);
    Ok(true)
}

/// What a Buffer is, for `bufferInfo`.
pub(crate) struct Info {
    pub address: usize,
    pub len: usize,
    /// `Some((is_loan, offset, batched))` for a live bus Buffer.
    pub bus: Option<(bool, u64, bool)>,
}

/// The address and, for bus Buffers, the loan or message behind `value`.
pub(crate) fn info(env: &Env, value: sys::napi_value) -> Outcome<Info> {
    let v = view_of(env, value).ok_or_else(|| wrong_type("bufferInfo() takes a Uint8Array"))?;
    let addr = v.data as usize;
    let bus = LIVE.with(|l| {
        l.borrow().by_addr.get(&addr).map(|e| match &e.held {
            Held::Loan(l) => (true, l.offset(), false),
            Held::Message(m) => (false, m.offset(), m.is_batched()),
        })
    });
    Ok(Info {
        address: addr,
        len: v.len,
        bus,
    })
}

/// The failure for a full held table, with the remedy.
pub(crate) fn held_hint(f: crate::errors::Failure) -> crate::errors::Failure {
    if f.kind == Kind::Bus && f.message.contains("held") {
        return Kind::Bus.fail(format!(
            "{}: this process holds too many loans and received messages; call \
             release(buffer) on received Buffers you are done with (garbage collection \
             alone may come too late)",
            f.message
        ));
    }
    f
}
