//! The demo's cluster: the observer (a member inside the demo process, weight 0, so it
//! holds no keys) and the agents, `shoal agent` processes started from this very
//! executable on loopback.
//!
//! Children never outlive the demo: each runs in a process group of its own (a Ctrl-C
//! in the terminal reaches only the demo, which then stops them in order) and carries
//! a parent-death signal (SIGKILL), so even a demo killed with SIGKILL takes its agents
//! along. The parent-death signal fires when the *thread* that spawned the child ends:
//! only the demo's main thread spawns agents.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shoal_core::membership::{Meta, PlacementSpec};
use shoal_core::native::net::{NetError, Node, NodeConfig};
use shoal_core::ring::HashScheme;

/// The source's agent types and their vnode counts, used as weights in turn.
pub const ROLES: [(&str, u32); 4] = [
    ("QueryEngine", 100),
    ("MediaEngine", 80),
    ("InsightEngine", 120),
    ("ReportEngine", 60),
];

/// Ring points per unit of weight: with 1, an agent of weight 100 has 100 points.
pub const VNODES: u32 = 1;

/// The observer's member id.
pub const OBSERVER_ID: &str = "observer";

/// How long an agent may take to print its `started` line.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How long stopped agents get to leave the cluster before SIGKILL.
const STOP_GRACE: Duration = Duration::from_millis(1500);

/// The placement every member of the demo runs (the agents get `--vnodes 1`).
pub fn placement() -> PlacementSpec {
    PlacementSpec::Ring {
        scheme: HashScheme::Xxh3,
        vnodes: VNODES,
    }
}

/// One agent to run.
#[derive(Clone, Debug)]
pub struct AgentSpec {
    /// Member id, `agent-I`.
    pub id: String,
    /// One of [`ROLES`].
    pub role: &'static str,
    /// The role's weight.
    pub weight: u32,
}

/// The specs of agents `agent-0` .. `agent-{n-1}`, roles and weights cycling.
pub fn specs(n: usize) -> Vec<AgentSpec> {
    (0..n)
        .map(|i| {
            let (role, weight) = ROLES[i % ROLES.len()];
            AgentSpec {
                id: format!("agent-{i}"),
                role,
                weight,
            }
        })
        .collect()
}

/// Starts the observer: a member on a free loopback port with weight 0, in the
/// cluster labelled `label`, with the agents' placement.
pub fn start_observer(label: &str) -> Result<Node, NetError> {
    let mut cfg = NodeConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.id = Some(OBSERVER_ID.into());
    cfg.label = label.into();
    cfg.meta = Meta {
        role: "observer".into(),
        weight: 0,
        zone: None,
    };
    cfg.placement = placement();
    Node::start(cfg)
}

/// A running agent process.
struct AgentProc {
    spec: AgentSpec,
    /// Where it listens (kept for a restart on the same address).
    addr: SocketAddr,
    /// `None` while it is down.
    child: Option<Child>,
}

/// The agent processes.
pub struct Agents {
    exe: PathBuf,
    seed: SocketAddr,
    bus: String,
    label: String,
    procs: Vec<AgentProc>,
}

impl Agents {
    /// No agents yet; new ones will contact `seed` (the observer), consume their
    /// endpoints on bus `bus` and use cluster label `label`.
    pub fn new(seed: SocketAddr, bus: &str, label: &str) -> Result<Agents, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        Ok(Agents {
            exe,
            seed,
            bus: bus.into(),
            label: label.into(),
            procs: Vec::new(),
        })
    }

    /// Starts a new agent on a free port.
    pub fn spawn(&mut self, spec: AgentSpec) -> Result<(), String> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let (child, addr) = self.start(&spec, any)?;
        eprintln!("shoal demo: started {} ({}) at {addr}", spec.id, spec.role);
        self.procs.push(AgentProc {
            spec,
            addr,
            child: Some(child),
        });
        Ok(())
    }

    /// The ids of the agents whose processes run now.
    pub fn up_ids(&self) -> Vec<String> {
        self.procs
            .iter()
            .filter(|p| p.child.is_some())
            .map(|p| p.spec.id.clone())
            .collect()
    }

    /// `kill -9` agent `id` and reaps it. Returns whether it was running.
    pub fn kill(&mut self, id: &str) -> bool {
        let Some(p) = self.procs.iter_mut().find(|p| p.spec.id == id) else {
            return false;
        };
        let Some(mut child) = p.child.take() else {
            return false;
        };
        let _ = child.kill();
        let _ = child.wait();
        true
    }

    /// Starts agent `id` again with the same id, on its old address if that is still
    /// free (else on a new one).
    pub fn restart(&mut self, id: &str) -> Result<(), String> {
        let i = self
            .procs
            .iter()
            .position(|p| p.spec.id == id)
            .ok_or_else(|| format!("no agent {id}"))?;
        if self.procs[i].child.is_some() {
            return Ok(());
        }
        let (spec, old) = (self.procs[i].spec.clone(), self.procs[i].addr);
        // The old port is free once the killed process is reaped, unless another
        // process took it meanwhile: a few tries, then any free port.
        let mut tries = 0;
        let started = loop {
            tries += 1;
            match self.start(&spec, old) {
                Ok(s) => break Ok(s),
                Err(_) if tries < 3 => std::thread::sleep(Duration::from_millis(300)),
                Err(_) => break self.start(&spec, SocketAddr::from(([127, 0, 0, 1], 0))),
            }
        };
        let (child, addr) = started?;
        self.procs[i].child = Some(child);
        self.procs[i].addr = addr;
        Ok(())
    }

    /// Stops every agent: SIGTERM (they leave the cluster), then SIGKILL for any still
    /// running after a short grace period; every child is reaped.
    pub fn stop_all(&mut self) {
        let mut running: Vec<Child> = self
            .procs
            .iter_mut()
            .filter_map(|p| p.child.take())
            .collect();
        for c in &running {
            if let Some(pid) = rustix::process::Pid::from_raw(c.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        while !running.is_empty() && Instant::now() < deadline {
            running.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
            std::thread::sleep(Duration::from_millis(20));
        }
        for mut c in running {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs `shoal agent` for `spec` bound to `bind`; returns once it printed its
    /// `started` line (its stdout is drained from then on).
    fn start(&self, spec: &AgentSpec, bind: SocketAddr) -> Result<(Child, SocketAddr), String> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["agent", "--json", "--bind", &bind.to_string()])
            .args(["--id", &spec.id, "--role", spec.role])
            .args(["--weight", &spec.weight.to_string()])
            .args(["--vnodes", &VNODES.to_string()])
            .args(["--label", &self.label, "--bus", &self.bus])
            .args(["--seed", &self.seed.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("spawn agent {}: {e}", spec.id))?;
        let out = child.stdout.take().ok_or("agent stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            // Drain the event lines so the agent never blocks on a full pipe.
            for _ in lines.map_while(Result::ok) {}
        });
        let first = match rx.recv_timeout(START_LIMIT) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("agent {} did not start: {other:?}", spec.id));
            }
        };
        let addr = serde_json::from_str::<serde_json::Value>(&first)
            .ok()
            .and_then(|v| v["addr"].as_str().and_then(|a| a.parse().ok()));
        match addr {
            Some(addr) => Ok((child, addr)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("agent {} printed {first:?}", spec.id))
            }
        }
    }
}

impl Drop for Agents {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if let Some(mut c) = p.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Makes the child get SIGKILL when the thread that spawns it (the demo's main thread)
/// ends, and not start at all if the demo is already gone.
fn die_with_parent(cmd: &mut Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes two raw system calls (prctl,
    // getppid) and builds errors from raw codes, without allocating or locking.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(
                    rustix::io::Errno::SRCH.raw_os_error(),
                ));
            }
            Ok(())
        });
    }
}
