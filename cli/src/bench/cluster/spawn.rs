//! Agent processes for the cluster benchmark: this binary re-executed as
//! `shoal agent --json`, killed and reaped on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running agent process.
pub struct AgentProc {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its member id.
    pub id: String,
}

impl AgentProc {
    /// Starts agent `id` on a free loopback port, seeded with `seeds`; returns once it
    /// printed its address.
    pub fn start(id: &str, seeds: &[SocketAddr]) -> Result<AgentProc, String> {
        Self::start_at(id, "127.0.0.1:0".parse().expect("valid"), seeds)
    }

    /// Starts agent `id` bound to `bind`.
    pub fn start_at(id: &str, bind: SocketAddr, seeds: &[SocketAddr]) -> Result<AgentProc, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["agent", "--json", "--id", id, "--bind"]);
        cmd.arg(bind.to_string());
        for s in seeds {
            cmd.args(["--seed", &s.to_string()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn agent {id}: {e}"))?;
        let out = child.stdout.take().ok_or("agent stdout")?;
        let mut proc = AgentProc {
            child: Some(child),
            addr: "127.0.0.1:0".parse().expect("valid"),
            id: id.to_owned(),
        };
        let mut lines = BufReader::new(out);
        let mut first = String::new();
        lines
            .read_line(&mut first)
            .map_err(|e| format!("agent {id}: {e}"))?;
        let v: serde_json::Value = serde_json::from_str(&first)
            .map_err(|e| format!("agent {id} printed {first:?}: {e}"))?;
        proc.addr = v["addr"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("agent {id}: no address in {first:?}"))?;
        // Drain the event lines so the agent never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.lines().map_while(Result::ok) {});
        Ok(proc)
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        self.kill9();
    }
}
