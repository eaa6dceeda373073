//! The bytes of a `sendCopy` / `publishCopy` / `sendBatched` argument: a `Buffer` or
//! any `Uint8Array` (read in place), or a string (its UTF-8 bytes).

use std::borrow::Cow;

use napi::bindgen_prelude::*;
use napi::sys;

use super::buffers::view_of;
use crate::errors::{wrong_type, Outcome};

/// The bytes of `value`, borrowed when it is a Uint8Array.
///
/// The borrow is valid until JavaScript runs again (the caller copies them into a
/// loan before returning).
pub(crate) fn bytes_of<'a>(env: &Env, value: sys::napi_value) -> Outcome<Cow<'a, [u8]>> {
    if let Some(v) = view_of(env, value) {
        if v.len == 0 || v.data.is_null() {
            return Ok(Cow::Borrowed(&[]));
        }
        // SAFETY: napi reported `len` bytes at `data` for a live view; they are only
        // read, before control returns to JavaScript.
        return Ok(Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(v.data, v.len)
        }));
    }
    // SAFETY: a value of this call.
    let s = unsafe { String::from_napi_value(env.raw(), value) }
        .map_err(|_| wrong_type("expected a Buffer, a Uint8Array or a string"))?;
    Ok(Cow::Owned(s.into_bytes()))
}
