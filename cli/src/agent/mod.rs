//! `shoal agent` (run a member of a cluster) and `shoal status` (ask one for its view).

mod inbox;
mod keyfile;
mod output;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shoal_core::membership::{Meta, PlacementSpec};
use shoal_core::native::net::{query_status, Impairment, Node, NodeConfig};
use shoal_core::ring::HashScheme;

/// Arguments of `shoal agent`.
#[derive(clap::Args)]
pub struct AgentArgs {
    /// Address to listen on (UDP for gossip, TCP on the same port for control).
    #[arg(long)]
    bind: SocketAddr,
    /// Address other members reach this one at (default: the bind address; required
    /// when binding 0.0.0.0).
    #[arg(long)]
    advertise: Option<SocketAddr>,
    /// A member to contact on start; repeat for several. None: start a new cluster.
    #[arg(long = "seed")]
    seeds: Vec<SocketAddr>,
    /// Member id, stable across restarts (default: the advertise address).
    #[arg(long)]
    id: Option<String>,
    /// Role announced to the others (for example QueryEngine).
    #[arg(long, default_value = "")]
    role: String,
    /// Placement weight (0: holds no keys).
    #[arg(long, default_value_t = 1)]
    weight: u32,
    /// Failure domain, for zone-distinct replicas.
    #[arg(long)]
    zone: Option<String>,
    /// Cluster label; members of other labels are ignored.
    #[arg(long, default_value = "shoal")]
    label: String,
    /// Key file: one 64-hex-digit key per line, the first seals, all are accepted.
    /// Re-read on SIGHUP (key rotation without a restart).
    #[arg(long)]
    key_file: Option<String>,
    /// Ring points per unit of weight (XXH3 ring; default 160); every member of a
    /// cluster must use the same value. With 1, a member of weight 100 has exactly 100
    /// points.
    #[arg(long, value_name = "N")]
    vnodes: Option<u32>,
    /// Consume routed payloads from the shared-memory bus NAME: the endpoint named
    /// after this member's id (as a router's `BusTransport` addresses it). Payloads are
    /// counted and dropped; the count is printed on the `stopped` line.
    #[arg(long, value_name = "NAME")]
    bus: Option<String>,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    /// Testing: drop this share (0 to 1) of the agent's outgoing gossip datagrams.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    inject_loss: f64,
    /// Testing: delay every outgoing gossip datagram by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    inject_delay_ms: u64,
}

/// Arguments of `shoal status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The agent's address (its bind or advertise address).
    #[arg(long)]
    agent: SocketAddr,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// How long to wait for the agent, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

/// Runs an agent until SIGINT or SIGTERM, printing membership events.
pub fn run_agent(a: AgentArgs) -> crate::CliResult {
    let stop = Arc::new(AtomicBool::new(false));
    let reload = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, reload.clone())?;
    let mut cfg = NodeConfig::new(a.bind);
    cfg.advertise = a.advertise;
    cfg.seeds = a.seeds;
    cfg.id = a.id;
    cfg.label = a.label;
    cfg.meta = Meta {
        role: a.role,
        weight: a.weight,
        zone: a.zone,
    };
    if let Some(vnodes) = a.vnodes {
        if vnodes == 0 {
            return Err("--vnodes must be at least 1".into());
        }
        cfg.placement = PlacementSpec::Ring {
            scheme: HashScheme::Xxh3,
            vnodes,
        };
    }
    if let Some(path) = &a.key_file {
        cfg.keyring = Some(keyfile::read(path)?);
    }
    cfg.impair = Impairment {
        loss: a.inject_loss,
        delay: Duration::from_millis(a.inject_delay_ms),
        jitter: Duration::ZERO,
    };
    let node = Node::start(cfg)?;
    let inbox = match &a.bus {
        Some(bus) => Some(inbox::Inbox::start(bus, node.id(), stop.clone())?),
        None => None,
    };
    let events = node.events();
    let local = node.status().local.clone();
    if a.json {
        let mut v = output::member_json(&local);
        v["event"] = serde_json::json!("started");
        println!("{v}");
    } else {
        println!("started {} {}", node.id(), local.addr());
    }
    while !stop.load(Ordering::Relaxed) {
        if reload.swap(false, Ordering::Relaxed) {
            if let Some(path) = &a.key_file {
                match keyfile::read(path) {
                    Ok(ring) => {
                        node.set_keyring(ring)?;
                        eprintln!("shoal agent: reloaded keys from {path}");
                    }
                    Err(e) => eprintln!("shoal agent: keys not reloaded: {e}"),
                }
            }
        }
        if let Some(e) = events.recv_timeout(Duration::from_millis(100)) {
            println!("{}", output::event_line(&e, a.json));
        }
    }
    let received = inbox.map(inbox::Inbox::finish);
    node.leave();
    match (a.json, received) {
        (true, Some(n)) => println!("{}", serde_json::json!({"event": "stopped", "received": n})),
        (true, None) => println!("{}", serde_json::json!({"event": "stopped"})),
        (false, Some(n)) => println!("stopped received={n}"),
        (false, None) => println!("stopped"),
    }
    Ok(())
}

/// Prints an agent's view of the cluster.
pub fn run_status(a: StatusArgs) -> crate::CliResult {
    let s = query_status(a.agent, Duration::from_millis(a.timeout_ms))
        .map_err(|e| format!("status of {}: {e}", a.agent))?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&output::status_json(&s))?
        );
    } else {
        print!("{}", output::status_text(&s));
    }
    Ok(())
}
