//! Raw Node-API calls for the hottest lookups, `ring.locate(key)` and
//! `ring.locateMany(arrayOfStrings)`.
//!
//! A `#[napi]` method costs about 500 ns a call on this machine: napi-rs checks the
//! receiver's type tag, registers a borrow, and copies the key into a fresh `String`.
//! These callbacks take a small integer handle instead of the receiver (see
//! [`slots`]), read the key into a stack buffer, and return a node index; `index.js`
//! maps it to the node id through a cached `ring.nodes`. They only handle the common
//! case and otherwise return a negative status, on which `index.js` calls the regular
//! method — so errors and unusual keys behave exactly as before:
//!
//! * `-1` ([`STALE`]): the ring changed since the caller cached `ring.nodes`;
//! * `-2` ([`EMPTY`]): the ring has no nodes;
//! * `-3` ([`FALLBACK`]): anything else (a non-string key, a key over 251 bytes, an
//!   unknown handle, an array that is not a serialized array of strings).

pub mod serialized;
pub mod slots;

use std::ffi::{c_char, c_void};
use std::mem::MaybeUninit;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

/// The ring changed since the caller's cached generation.
pub const STALE: i32 = -1;
/// The ring is empty.
pub const EMPTY: i32 = -2;
/// Not handled here: call the regular method.
pub const FALLBACK: i32 = -3;

/// Stack buffer for a key; keys over `KEY_BUF - 5` UTF-8 bytes fall back.
const KEY_BUF: usize = 256;

/// The call's arguments (missing ones are `undefined`).
unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Option<[sys::napi_value; N]> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let status = sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        ptr::null_mut(),
    );
    (status == sys::Status::napi_ok && argc >= N).then_some(argv)
}

unsafe fn u32_arg(env: sys::napi_env, v: sys::napi_value) -> Option<u32> {
    let mut out = 0u32;
    (sys::napi_get_value_uint32(env, v, &mut out) == sys::Status::napi_ok).then_some(out)
}

/// Runs `f` on the ring behind the `handle` argument if its change counter still
/// equals the `generation` argument: [`STALE`] if not, [`FALLBACK`] for a bad handle.
unsafe fn with_current_ring(
    env: sys::napi_env,
    handle: sys::napi_value,
    generation: sys::napi_value,
    f: impl FnOnce(&shoal_core::Ring) -> i32,
) -> i32 {
    let (Some(handle), Some(generation)) = (u32_arg(env, handle), u32_arg(env, generation)) else {
        return FALLBACK;
    };
    slots::with(handle, |ring| {
        if ring.generation() != generation {
            return STALE;
        }
        f(ring.core())
    })
    .unwrap_or(FALLBACK)
}

unsafe fn int(env: sys::napi_env, v: i32) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // Creating a small integer cannot fail; a null return reads as `undefined`.
    sys::napi_create_int32(env, v, &mut out);
    out
}

/// `_ringLocate(handle, generation, key)`: the index of `key`'s owner in `ring.nodes`,
/// or a negative status.
unsafe extern "C" fn ring_locate(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let Some([handle, generation, key]) = args::<3>(env, info) else {
        return int(env, FALLBACK);
    };
    let mut buf = MaybeUninit::<[u8; KEY_BUF]>::uninit();
    let mut len = 0usize;
    let status = sys::napi_get_value_string_utf8(
        env,
        key,
        buf.as_mut_ptr().cast::<c_char>(),
        KEY_BUF,
        &mut len,
    );
    // Node-API stops before a character that does not fit (leaving room for a NUL),
    // so only a result that leaves room for one more 4-byte character is surely the
    // whole string; longer ones go to the regular method.
    if status != sys::Status::napi_ok || len > KEY_BUF - 1 - 4 {
        return int(env, FALLBACK);
    }
    // SAFETY: Node-API wrote `len` bytes of UTF-8 (and a NUL after them).
    let key = std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len);
    let r = with_current_ring(env, handle, generation, |core| {
        match core.locate_index(core.key_position(key)) {
            Some(i) => i as i32,
            None => EMPTY,
        }
    });
    int(env, r)
}

/// `_ringLocateSerialized(handle, generation, v8.serialize(keys), out: Uint32Array)`:
/// writes the owner index of every key into `out` and returns the key count, or a
/// negative status.
unsafe extern "C" fn ring_locate_serialized(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let Some([handle, generation, keys, out]) = args::<4>(env, info) else {
        return int(env, FALLBACK);
    };
    let Some(keys) = buffer_bytes(env, keys) else {
        return int(env, FALLBACK);
    };
    let Some(out) = u32_array(env, out) else {
        return int(env, FALLBACK);
    };
    let r = with_current_ring(env, handle, generation, |core| {
        if core.is_empty() {
            return EMPTY;
        }
        let mut positions = Vec::with_capacity(out.len());
        let Some(n) = serialized::for_each_string(keys, |k| {
            positions.push(core.key_position(k));
        }) else {
            return FALLBACK;
        };
        if n != out.len() || i32::try_from(n).is_err() {
            return FALLBACK;
        }
        match core.locate_many_hashes(&positions, out) {
            Ok(()) => n as i32,
            Err(_) => FALLBACK,
        }
    });
    int(env, r)
}

/// The bytes of a `Buffer` / `Uint8Array`.
unsafe fn buffer_bytes<'a>(env: sys::napi_env, v: sys::napi_value) -> Option<&'a [u8]> {
    let (kind, data, len) = typed_array(env, v)?;
    if kind != sys::TypedarrayType::uint8_array || data.is_null() && len > 0 {
        return None;
    }
    Some(if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data.cast::<u8>(), len)
    })
}

/// The elements of a `Uint32Array`.
unsafe fn u32_array<'a>(env: sys::napi_env, v: sys::napi_value) -> Option<&'a mut [u32]> {
    let (kind, data, len) = typed_array(env, v)?;
    if kind != sys::TypedarrayType::uint32_array || data.is_null() && len > 0 {
        return None;
    }
    Some(if len == 0 {
        &mut []
    } else {
        std::slice::from_raw_parts_mut(data.cast::<u32>(), len)
    })
}

unsafe fn typed_array(
    env: sys::napi_env,
    v: sys::napi_value,
) -> Option<(sys::napi_typedarray_type, *mut c_void, usize)> {
    let mut is = false;
    if sys::napi_is_typedarray(env, v, &mut is) != sys::Status::napi_ok || !is {
        return None;
    }
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    let status = sys::napi_get_typedarray_info(
        env,
        v,
        &mut kind,
        &mut len,
        &mut data,
        &mut buffer,
        &mut offset,
    );
    (status == sys::Status::napi_ok).then_some((kind, data, len))
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Adds the raw functions to the module's exports (underscore names: `index.js` uses
/// them and does not re-export them).
#[napi(module_exports)]
pub fn fast_exports(exports: Object, env: Env) -> Result<()> {
    let functions: [(&std::ffi::CStr, Callback); 2] = [
        (c"_ringLocate", ring_locate),
        (c"_ringLocateSerialized", ring_locate_serialized),
    ];
    for (name, callback) in functions {
        let mut f = ptr::null_mut();
        // SAFETY: plain Node-API calls on the module's environment and exports.
        unsafe {
            check_status!(sys::napi_create_function(
                env.raw(),
                name.as_ptr(),
                name.count_bytes() as isize,
                Some(callback),
                ptr::null_mut(),
                &mut f,
            ))?;
            check_status!(sys::napi_set_named_property(
                env.raw(),
                exports.raw(),
                name.as_ptr(),
                f
            ))?;
        }
    }
    Ok(())
}
