//! `shoal demo`: the live mode of the visualizer (contract: `bindings-wasm/API.md`,
//! section "Live mode").
//!
//! A local cluster of `shoal agent` processes on loopback, watched by an in-process
//! observer member, with keyed traffic routed to the agents over a shared-memory bus,
//! served to a browser as static files, a JSON snapshot and a stream of server-sent
//! events. Every `--churn-secs` one agent is killed with SIGKILL and restarted once the
//! observer has seen it fail, so failure detection and rebalancing can be watched.
//!
//! Files, one job each: `cluster.rs` (the observer node and the agent processes),
//! `churn.rs` (when to kill and restart whom), `traffic.rs` (the bus and the routed
//! traffic), `feed.rs` (turns membership events and periodic snapshots into page
//! events), `hub.rs` (the latest snapshot and the fan-out to event-stream clients),
//! `snapshot.rs` (the JSON of the contract), `http.rs` (static files, `/api/state`,
//! `/api/events`).
//!
//! Threads: the main thread owns the agent processes (it starts, kills and reaps every
//! one of them, so the parent-death signal the children carry is tied to a thread that
//! lives as long as the demo); one thread routes traffic, one feeds the page, one
//! accepts HTTP connections and each connection has one of its own.

mod churn;
mod cluster;
mod feed;
mod http;
mod hub;
mod snapshot;
mod traffic;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Arguments of `shoal demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Agent processes to run: ids agent-0 .. agent-N-1, roles QueryEngine,
    /// MediaEngine, InsightEngine and ReportEngine in turn with weights 100/80/120/60
    /// (ring points, one per unit of weight).
    #[arg(long, default_value_t = 5)]
    agents: usize,
    /// HTTP port on 127.0.0.1 (0: any free port; the line printed on stdout says which).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Folder of the page's static files.
    #[arg(long, default_value = "bindings-wasm/www")]
    web: PathBuf,
    /// Seconds between kill -9s of a random agent, each restarted a few seconds after
    /// the observer marks it failed (0: never).
    #[arg(long, default_value_t = 20)]
    churn_secs: u64,
    /// Stop after this many seconds (default: run until SIGINT or SIGTERM).
    #[arg(long)]
    duration: Option<u64>,
    /// Keyed messages per second routed to the agents over the shared-memory bus.
    #[arg(long, default_value_t = 200)]
    rate: u32,
}

/// Most agents a demo runs (the bus and the page are sized for a small cluster).
const MAX_AGENTS: usize = 64;

/// What the demo's threads share.
pub struct Shared {
    /// When the demo started; every `timeMs` counts from here.
    pub start: Instant,
    /// Set on SIGINT, SIGTERM or the end of `--duration`: every thread winds down.
    pub stop: Arc<AtomicBool>,
    /// The latest snapshot and the event-stream clients.
    pub hub: hub::Hub,
    /// Ground truth per agent id: is its process running?
    pub up: Mutex<BTreeMap<String, bool>>,
    /// Routed-traffic counters.
    pub traffic: Mutex<traffic::Counters>,
}

impl Shared {
    /// Milliseconds since the demo started.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Whether the demo is stopping.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Locks `m`, ignoring poisoning (a panicked thread leaves plain counters behind).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the demo until SIGINT, SIGTERM or the end of `--duration`.
pub fn run(a: Args) -> crate::CliResult {
    if a.agents == 0 || a.agents > MAX_AGENTS {
        return Err(format!("--agents must be between 1 and {MAX_AGENTS}").into());
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    let specs = cluster::specs(a.agents);
    let shared = Arc::new(Shared {
        start: Instant::now(),
        stop: stop.clone(),
        hub: hub::Hub::default(),
        up: Mutex::new(specs.iter().map(|s| (s.id.clone(), false)).collect()),
        traffic: Mutex::new(traffic::Counters::default()),
    });
    if !a.web.is_dir() {
        eprintln!(
            "shoal demo: warning: web folder {} does not exist (only /api/ answers)",
            a.web.display()
        );
    }

    // The bus first: its guard removes the segments on every way out of this function.
    let bus = traffic::DemoBus::create()?;
    let observer = Arc::new(cluster::start_observer(bus.label())?);
    let feed = feed::start(shared.clone(), observer.clone())?;
    let server = http::start(a.port, a.web.clone(), shared.clone())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "shoal demo: http://{}/", server.addr())?;
        out.flush()?;
    }
    eprintln!(
        "shoal demo: observer {} at {}; starting {} agents on bus {}",
        observer.id(),
        observer.local_addr(),
        a.agents,
        bus.name()
    );

    let mut agents = cluster::Agents::new(observer.local_addr(), bus.name(), bus.label())?;
    let result = run_cluster(&a, &shared, &observer, &bus, &mut agents, specs);

    eprintln!("shoal demo: stopping");
    stop.store(true, Ordering::Relaxed);
    agents.stop_all();
    server.join();
    feed.join();
    drop(observer);
    bus.remove();
    eprintln!("shoal demo: stopped");
    result
}

/// Starts the agents and the traffic, then runs churn until the demo stops.
fn run_cluster(
    a: &Args,
    shared: &Arc<Shared>,
    observer: &Arc<shoal_core::native::net::Node>,
    bus: &traffic::DemoBus,
    agents: &mut cluster::Agents,
    specs: Vec<cluster::AgentSpec>,
) -> crate::CliResult {
    let deadline = a.duration.map(|s| shared.start + Duration::from_secs(s));
    let expired =
        |shared: &Shared| shared.stopping() || deadline.is_some_and(|d| Instant::now() >= d);
    let ids: Vec<String> = specs.iter().map(|s| s.id.clone()).collect();
    for spec in specs {
        if expired(shared) {
            return Ok(());
        }
        let id = spec.id.clone();
        agents.spawn(spec)?;
        lock(&shared.up).insert(id, true);
    }
    let traffic = traffic::start(shared.clone(), observer.clone(), bus, &ids, a.rate)?;
    let mut churn = churn::Churn::new(Duration::from_secs(a.churn_secs));
    while !expired(shared) {
        churn.step(agents, observer, shared);
        std::thread::sleep(Duration::from_millis(100));
    }
    shared.stop.store(true, Ordering::Relaxed);
    traffic.join();
    Ok(())
}
