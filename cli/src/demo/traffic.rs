//! Traffic: keyed messages routed to their owners' agent processes over the demo's
//! shared-memory bus.
//!
//! The demo creates the bus; every agent opens it (`shoal agent --bus NAME`) and
//! consumes the endpoint named after its id. A [`Router`] whose local transport is a
//! [`BusTransport`] sends each message to the owner that the observer's placement names
//! (all agents run on this host, so every owner is local; the remote side has no node
//! and is never used). The keys are the shared sample keys (`key-` + 16 hex digits).
//!
//! Counters, as the snapshot reports them: `routed` counts messages the placement gave
//! an owner; `delivered` those the owner's bus endpoint took (written into its lane);
//! `perOwner` the routed messages per owner, delivered or not. A route fails while the
//! owner's endpoint is missing (the agent is down and crash repair closed it, or it has
//! not opened it yet) or its lane is full. Messages are not acknowledged: the few that
//! sit in a killed agent's lane before the repair notices are counted delivered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shoal_core::hash::sample_key;
use shoal_core::native::bus::{Bus, BusConfig};
use shoal_core::native::net::Node;
use shoal_core::native::router::{BusTransport, Remote};
use shoal_core::pool::{ClassConfig, PoolConfig};
use shoal_core::router::{RouteError, Router};
use shoal_core::Placement;

use super::{lock, Shared};

/// Routed-traffic counters (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Messages the placement gave an owner.
    pub routed: u64,
    /// Messages the owner's endpoint took.
    pub delivered: u64,
    /// Routed messages per owner id.
    pub per_owner: BTreeMap<String, u64>,
}

/// Distinct keys the traffic cycles through.
const KEYS: u64 = 100_000;
/// Time between bursts.
const TICK: Duration = Duration::from_millis(50);
/// Time between crash repairs of the bus (they close a killed agent's endpoint).
const REPAIR: Duration = Duration::from_millis(200);

/// The demo's bus: created with a name unique to this process; [`DemoBus::remove`] (or
/// dropping it) removes its shared-memory segments, whoever else had it open.
pub struct DemoBus {
    bus: Option<Bus>,
    name: String,
    label: String,
}

impl DemoBus {
    /// Creates the bus `demo-PID-NANOS` (the cluster label is `shoal-` + the same),
    /// after removing the buses of earlier demos that were killed before they could
    /// remove their own.
    pub fn create() -> Result<DemoBus, shoal_core::native::bus::BusError> {
        remove_stale();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("demo-{}-{nanos:x}", std::process::id());
        let cfg = BusConfig {
            // Small messages only: plenty of 64-byte slots for lanes that fill up while
            // an agent is down.
            pool: PoolConfig {
                classes: vec![
                    ClassConfig {
                        slot_size: 64,
                        count: 16_384,
                    },
                    ClassConfig {
                        slot_size: 1024,
                        count: 256,
                    },
                ],
            },
            lane_capacity: 256,
            ..BusConfig::default()
        };
        let bus = Bus::create(&name, &cfg)?;
        Ok(DemoBus {
            bus: Some(bus),
            label: format!("shoal-{name}"),
            name,
        })
    }

    /// The bus name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster label of the demo's members.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn bus(&self) -> Option<&Bus> {
        self.bus.as_ref()
    }

    /// Leaves the bus, then removes whatever of its segments is left in `/dev/shm`
    /// (agents killed with SIGKILL never leave, and a segment is unlinked only by its
    /// last user). Call it after every agent and every other handle is gone.
    pub fn remove(mut self) {
        self.cleanup();
    }

    fn cleanup(&mut self) {
        drop(self.bus.take());
        let main = format!("shoal-{}", self.name);
        let Ok(dir) = std::fs::read_dir("/dev/shm") else {
            return;
        };
        for entry in dir.flatten() {
            let file = entry.file_name();
            let Some(file) = file.to_str() else { continue };
            if file == main || file.starts_with(&format!("{main}.")) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => eprintln!("shoal demo: removed leftover /dev/shm/{file}"),
                    Err(e) => eprintln!("shoal demo: could not remove /dev/shm/{file}: {e}"),
                }
            }
        }
    }
}

/// Removes the buses of demos whose process is gone (a demo killed with SIGKILL
/// cannot clean up; its agents die with it). Opening such a bus counts its dead users
/// out, and closing it again, as its last user, unlinks it: the bus's own rule, so a
/// bus that still has a live user is left alone.
fn remove_stale() {
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    for entry in dir.flatten() {
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(|f| f.strip_prefix("shoal-")) else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix("demo-")
            .and_then(|rest| rest.split_once('-'))
            .filter(|(_, tail)| !tail.contains('.'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(bus) = Bus::open(name) {
            drop(bus);
            eprintln!("shoal demo: removed the bus of an earlier demo (process {pid} is gone)");
        }
    }
}

impl Drop for DemoBus {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The traffic thread.
pub struct Traffic {
    thread: JoinHandle<()>,
}

impl Traffic {
    /// Waits for the thread; it ends once the demo is stopping.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Starts routing `rate` messages a second to the agents `ids` on `bus`, by the
/// observer's placement.
pub fn start(
    shared: Arc<Shared>,
    observer: Arc<Node>,
    bus: &DemoBus,
    ids: &[String],
    rate: u32,
) -> Result<Traffic, Box<dyn std::error::Error>> {
    let bus = bus.bus().ok_or("the demo's bus is gone")?.clone();
    let mut router = Router::new(BusTransport::new(bus.clone()), Remote(None));
    for id in ids {
        router.add_local(id);
    }
    let thread = std::thread::Builder::new()
        .name("shoal-demo-traffic".into())
        .spawn(move || {
            let start = Instant::now();
            let mut sent = 0u64;
            let mut last_repair = start;
            let mut failing: BTreeMap<String, String> = BTreeMap::new();
            while !shared.stopping() {
                let due = (start.elapsed().as_secs_f64() * f64::from(rate)) as u64;
                // After a stall, skip what is more than a second late instead of
                // sending it all at once.
                sent = sent.max(due.saturating_sub(u64::from(rate)));
                let placement = observer.placement();
                let mut burst = Counters::default();
                while sent < due {
                    let seq = sent;
                    sent += 1;
                    if placement.node_count() == 0 {
                        continue;
                    }
                    let key = sample_key(seq % KEYS);
                    let payload = format!("{{\"seq\":{seq},\"key\":\"{key}\"}}");
                    let (owner, error) =
                        match router.route(&*placement, key.as_bytes(), payload.as_bytes()) {
                            Ok(to) => (to.into_parts().0, None),
                            Err(RouteError::NoOwner) => continue,
                            Err(RouteError::Local { owner, error }) => {
                                (owner, Some(error.to_string()))
                            }
                            Err(RouteError::Remote { owner, error }) => {
                                (owner, Some(error.to_string()))
                            }
                        };
                    burst.routed += 1;
                    match error {
                        None => {
                            burst.delivered += 1;
                            if failing.remove(&owner).is_some() {
                                eprintln!("shoal demo: delivery to {owner} works again");
                            }
                        }
                        Some(e) => {
                            if !failing.contains_key(&owner) {
                                eprintln!("shoal demo: delivery to {owner} fails: {e}");
                                failing.insert(owner.clone(), e);
                            }
                        }
                    }
                    *burst.per_owner.entry(owner).or_insert(0) += 1;
                }
                merge(&mut lock(&shared.traffic), burst);
                if last_repair.elapsed() >= REPAIR {
                    last_repair = Instant::now();
                    // Closes the endpoints of agents that died; they reopen on restart.
                    let _ = bus.reclaim();
                }
                std::thread::sleep(TICK);
            }
        })?;
    Ok(Traffic { thread })
}

fn merge(into: &mut Counters, burst: Counters) {
    into.routed += burst.routed;
    into.delivered += burst.delivered;
    for (owner, n) in burst.per_owner {
        *into.per_owner.entry(owner).or_insert(0) += n;
    }
}
