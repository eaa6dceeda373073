//! `Node.start(options)` → the core's `NodeConfig`: addresses, keys, placement and
//! protocol timings, each checked with a message naming the option. Plain data
//! (`Send`): the options are read on the main thread, host names are resolved on the
//! worker that starts the node.

use std::net::{SocketAddr, ToSocketAddrs};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shoal_core::membership::{Config, Meta, PlacementSpec};
use shoal_core::wire::{Key as WireKey, Keyring};

use crate::errors::{invalid, Outcome};

/// A gossip key: 32 bytes (`Buffer` / `Uint8Array`) or a string of 64 hex digits.
#[napi]
pub type GossipKey = Either<String, Uint8Array>;

/// Options of `Node.start`. Every one is optional.
#[napi(object)]
#[derive(Default)]
pub struct StartOptions {
    /// UDP + TCP address to listen on, `"ip:port"` (or `"host:port"`); port 0 picks a
    /// free one. Default `"127.0.0.1:0"`.
    pub bind: Option<String>,
    /// Addresses of any live members to contact (none: a new cluster).
    pub seeds: Option<Vec<String>>,
    /// Unique id, stable across restarts (default: the address, `"ip:port"`).
    pub id: Option<String>,
    /// The address others reach this one at, when it differs from `bind` (required
    /// when binding `0.0.0.0`).
    pub advertise: Option<String>,
    /// Free-form role announced to the cluster (default `""`).
    pub role: Option<String>,
    /// Placement weight, a whole number 0 ..= 2^32 − 1 (0: holds no keys). Default 1.
    pub weight: Option<f64>,
    /// Failure domain.
    pub zone: Option<String>,
    /// Cluster label: datagrams of other labels are ignored. Default `"shoal"`.
    pub label: Option<String>,
    /// Authenticate gossip with these keys (the first seals, all are accepted).
    pub keys: Option<Vec<GossipKey>>,
    /// Also encrypt gossip (needs `keys`).
    pub encrypt: Option<bool>,
    /// `"ring"` (default; as `new Ring(vnodes, hash)`) or `"table"` (as a
    /// `PartitionTable` of `partitions`, `vnodes` claims per unit of weight, `mode`).
    pub placement: Option<String>,
    /// Ring: points per unit of weight (default 160; ketama 40). Table: claims per unit
    /// of weight (default 10).
    pub vnodes: Option<u32>,
    /// Ring hash scheme, `"xxh3"` (default) or `"ketama"`.
    pub hash: Option<String>,
    /// Table: number of partitions (default 4096).
    pub partitions: Option<u32>,
    /// Table: `"classic"` (default) or `"balanced"`.
    pub mode: Option<String>,
    /// Protocol timings: `"lan"` (default: probe every 1 s, gossip every 200 ms) or
    /// `"fast"` (probe every 200 ms, gossip every 50 ms: one machine, tests, demos).
    pub protocol: Option<String>,
}

/// The checked options, still with unresolved addresses.
pub struct Plan {
    /// The core config, with `bind`, `seeds` and `advertise` left to [`Plan::resolve`].
    pub cfg: shoal_core::native::net::NodeConfig,
    bind: String,
    seeds: Vec<String>,
    advertise: Option<String>,
}

impl Plan {
    /// Checks every option (on the main thread; nothing here blocks).
    pub fn new(o: StartOptions) -> Outcome<Plan> {
        let bind = o.bind.unwrap_or_else(|| "127.0.0.1:0".into());
        let mut cfg =
            shoal_core::native::net::NodeConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.id = o.id;
        if cfg.id.as_deref() == Some("") {
            return Err(invalid("id must not be empty"));
        }
        cfg.meta = Meta {
            role: o.role.unwrap_or_default(),
            weight: weight(o.weight.unwrap_or(1.0))?,
            zone: o.zone,
        };
        cfg.label = o.label.unwrap_or_else(|| "shoal".into());
        cfg.keyring = o.keys.as_deref().map(keyring).transpose()?;
        cfg.encrypt = o.encrypt.unwrap_or(false);
        cfg.placement = placement(
            o.placement.as_deref().unwrap_or("ring"),
            o.vnodes,
            o.hash.as_deref().unwrap_or("xxh3"),
            o.partitions.unwrap_or(4096),
            o.mode.as_deref().unwrap_or("classic"),
        )?;
        cfg.protocol = protocol(o.protocol.as_deref().unwrap_or("lan"))?;
        Ok(Plan {
            cfg,
            bind,
            seeds: o.seeds.unwrap_or_default(),
            advertise: o.advertise,
        })
    }

    /// Resolves the addresses (may wait on DNS for host names: run off the main
    /// thread) and returns the finished config.
    pub fn resolve(mut self) -> Outcome<shoal_core::native::net::NodeConfig> {
        self.cfg.bind = address(&self.bind, "bind")?;
        for (i, s) in self.seeds.iter().enumerate() {
            self.cfg.seeds.push(address(s, &format!("seeds[{i}]"))?);
        }
        self.cfg.advertise = self
            .advertise
            .as_deref()
            .map(|a| address(a, "advertise"))
            .transpose()?;
        Ok(self.cfg)
    }
}

/// An `"ip:port"` (or `"host:port"`, resolved) string as a socket address.
pub fn address(text: &str, what: &str) -> Outcome<SocketAddr> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    match text.to_socket_addrs().map(|mut it| it.next()) {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(invalid(format!("{what}: {text:?} resolves to no address"))),
        Err(e) => Err(invalid(format!(
            "{what}: {text:?} is not an address (ip:port or host:port): {e}"
        ))),
    }
}

/// One key: 32 raw bytes or a string of 64 hex digits.
fn key(value: &GossipKey, i: usize) -> Outcome<WireKey> {
    match value {
        Either::A(hex) => WireKey::from_hex(hex).map_err(|e| invalid(format!("keys[{i}]: {e}"))),
        Either::B(bytes) => {
            let raw: [u8; 32] = bytes.as_ref().try_into().map_err(|_| {
                invalid(format!(
                    "keys[{i}]: a key is exactly 32 bytes, not {}",
                    bytes.len()
                ))
            })?;
            Ok(WireKey::from_bytes(raw))
        }
    }
}

/// A keyring from a list of keys; the first is the primary (it seals), all are
/// accepted.
pub fn keyring(keys: &[GossipKey]) -> Outcome<Keyring> {
    let mut ring: Option<Keyring> = None;
    for (i, k) in keys.iter().enumerate() {
        let k = key(k, i)?;
        match ring.as_mut() {
            None => ring = Some(Keyring::new(k)),
            Some(r) => r.add(k).map_err(|e| invalid(format!("keys[{i}]: {e}")))?,
        }
    }
    ring.ok_or_else(|| invalid("keys: give at least one key (or leave keys out for plain mode)"))
}

/// The placement layout (core's option parsing, shared with Python).
fn placement(
    kind: &str,
    vnodes: Option<u32>,
    hash: &str,
    partitions: u32,
    mode: &str,
) -> Outcome<PlacementSpec> {
    Ok(PlacementSpec::parse(kind, vnodes, hash, partitions, mode)?)
}

/// Protocol timings by profile name (`Config::profile`: `"lan"` or `"fast"`).
fn protocol(name: &str) -> Outcome<Config> {
    Config::profile(name).ok_or_else(|| {
        invalid(format!(
            "protocol must be \"lan\" or \"fast\", not {name:?}"
        ))
    })
}

/// A weight as the protocol carries it (a whole number 0 ..= 2^32 − 1).
pub fn weight(w: f64) -> Outcome<u32> {
    if w.is_finite() && w >= 0.0 && w.fract() == 0.0 && w <= u32::MAX as f64 {
        Ok(w as u32)
    } else {
        Err(invalid(format!(
            "weight must be a whole number 0 to 4294967295, not {w}"
        )))
    }
}
