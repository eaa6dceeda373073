//! `Node.start(...)` keywords → the core's `NodeConfig`: addresses, keys, placement
//! and protocol timings, each checked with a message naming the setting.

use std::net::{SocketAddr, ToSocketAddrs};

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use shoal_core::membership::{Config, PlacementSpec};
use shoal_core::wire::{Key, Keyring};

use crate::errors::{core_err, invalid};

/// An `"ip:port"` string (or `"host:port"`, resolved) or a `(host, port)` tuple, as a
/// socket address; `what` names the setting in errors.
pub fn address(py: Python<'_>, value: &Bound<'_, PyAny>, what: &str) -> PyResult<SocketAddr> {
    let text = if let Ok(s) = value.cast::<PyString>() {
        s.to_str()?.to_owned()
    } else if let Ok(t) = value.cast::<PyTuple>() {
        let (host, port): (String, u16) = t.extract().map_err(|_| {
            invalid(format!(
                "{what}: an address tuple is (host: str, port: int 0-65535)"
            ))
        })?;
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    } else {
        return Err(invalid(format!(
            "{what}: an address is an \"ip:port\" string or a (host, port) tuple, not {}",
            value.get_type().name()?
        )));
    };
    parse_address(py, &text, what)
}

/// An `"ip:port"` (or `"host:port"`, resolved) string as a socket address.
pub fn parse_address(py: Python<'_>, text: &str, what: &str) -> PyResult<SocketAddr> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    // A host name: resolve it (may block on DNS, so without the GIL).
    let resolved = py.detach(|| text.to_socket_addrs().map(|mut it| it.next()));
    match resolved {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(invalid(format!("{what}: {text:?} resolves to no address"))),
        Err(e) => Err(invalid(format!(
            "{what}: {text:?} is not an address (ip:port or host:port): {e}"
        ))),
    }
}

/// One key: 32 raw bytes (bytes-like) or a string of 64 hex digits.
fn key(value: &Bound<'_, PyAny>, i: usize) -> PyResult<Key> {
    if let Ok(s) = value.cast::<PyString>() {
        return Key::from_hex(s.to_str()?).map_err(|e| invalid(format!("keys[{i}]: {e}")));
    }
    let bytes = if let Ok(b) = value.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else {
        PyBuffer::<u8>::get(value)
            .and_then(|b| b.to_vec(value.py()))
            .map_err(|_| {
                invalid(format!(
                    "keys[{i}]: a key is 32 bytes or a string of 64 hex digits"
                ))
            })?
    };
    let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        invalid(format!(
            "keys[{i}]: a key is exactly 32 bytes, not {}",
            bytes.len()
        ))
    })?;
    Ok(Key::from_bytes(raw))
}

/// A keyring from a sequence of keys; the first is the primary (it seals), all are
/// accepted.
pub fn keyring(keys: &Bound<'_, PyAny>) -> PyResult<Keyring> {
    if keys.cast::<PyString>().is_ok() || keys.cast::<PyBytes>().is_ok() {
        return Err(invalid("keys must be a list of keys, not one key"));
    }
    let mut ring: Option<Keyring> = None;
    let iter = keys
        .try_iter()
        .map_err(|_| invalid("keys must be a list of keys (32 bytes or 64 hex digits each)"))?;
    for (i, k) in iter.enumerate() {
        let k = key(&k?, i)?;
        match ring.as_mut() {
            None => ring = Some(Keyring::new(k)),
            Some(r) => r.add(k).map_err(|e| invalid(format!("keys[{i}]: {e}")))?,
        }
    }
    ring.ok_or_else(|| invalid("keys: give at least one key (or None for plain mode)"))
}

/// The placement layout: `"ring"` (with `hash`, `vnodes` points per unit of weight,
/// default 160; 40 per server for ketama) or `"table"` (`partitions`, `vnodes` claims
/// per unit of weight, default 10, `mode`); core's option parsing, shared with Node.
pub fn placement(
    kind: &str,
    vnodes: Option<u32>,
    hash: &str,
    partitions: u32,
    mode: &str,
) -> PyResult<PlacementSpec> {
    PlacementSpec::parse(kind, vnodes, hash, partitions, mode).map_err(core_err)
}

/// Protocol timings by profile name: `"lan"` (the defaults: probe every 1 s, gossip
/// every 200 ms) or `"fast"` (probe every 200 ms with a 100 ms timeout, gossip every
/// 50 ms: quick convergence and failure detection on one machine, for tests and
/// demos; too eager for loaded or real networks). See `Config::profile`.
pub fn protocol(name: &str) -> PyResult<Config> {
    Config::profile(name).ok_or_else(|| {
        invalid(format!(
            "protocol must be \"lan\" or \"fast\", not {name:?}"
        ))
    })
}

/// A weight as the protocol carries it (0 ..= 2**32 - 1).
pub fn weight(w: i64) -> PyResult<u32> {
    u32::try_from(w).map_err(|_| invalid(format!("weight must be 0 to 4294967295, not {w}")))
}
