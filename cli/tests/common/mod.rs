//! Helpers for integration tests of the `shoal` binary: an agent process whose stdout
//! events are collected (killed and reaped on drop), commands run with a time limit,
//! and lookups in `shoal status --json` output. Nothing here waits without a bound.
// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `shoal` binary under test.
pub const SHOAL: &str = env!("CARGO_BIN_EXE_shoal");

/// A running `shoal agent --json`, killed (SIGKILL) and reaped on drop.
pub struct Agent {
    child: Child,
    /// The id from its `started` line.
    pub id: String,
    /// The address from its `started` line.
    pub addr: SocketAddr,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Agent {
    /// Spawns `cmd`, a `shoal agent --json ...` command line (possibly behind a wrapper
    /// such as `ip netns exec NS`), and waits up to `limit` for its `started` line.
    /// Every later stdout line is kept (see [`Agent::events`]) so the pipe never fills.
    pub fn spawn(mut cmd: Command, limit: Duration) -> Agent {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn shoal agent");
        let err = drain(child.stderr.take().expect("stderr"));
        let out = child.stdout.take().expect("stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = events.clone();
        let (first_tx, first_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut first = Some(first_tx);
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line).unwrap_or(Value::String(line));
                match first.take() {
                    Some(tx) => {
                        let _ = tx.send(v);
                    }
                    None => log.lock().unwrap().push(v),
                }
            }
        });
        let started = first_rx.recv_timeout(limit);
        let Ok(v) = started.as_ref() else {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "agent {cmd:?} printed no started line within {limit:?} ({started:?}); stderr: {}",
                String::from_utf8_lossy(&stderr)
            );
        };
        assert_eq!(v["event"], "started", "first line: {v}");
        let addr = v["addr"].as_str().unwrap().parse().unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        Agent {
            child,
            id,
            addr,
            events,
        }
    }

    /// The events printed so far, after the `started` line, one JSON object each.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// The agent's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills (SIGKILL) and reaps the agent.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Reads a pipe to its end on a thread.
fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut b = Vec::new();
        let _ = r.read_to_end(&mut b);
        b
    })
}

/// Runs `cmd` to completion, killing it after `limit`. `None`: it did not start or ran
/// out of time.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Option<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let out = drain(child.stdout.take()?);
    let err = drain(child.stderr.take()?);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    Some(Output {
        status,
        stdout: out.join().ok()?,
        stderr: err.join().ok()?,
    })
}

/// The arguments of `shoal status --json` for the agent at `addr`.
pub fn status_args(addr: SocketAddr) -> Vec<String> {
    ["status", "--json", "--timeout-ms", "1000", "--agent"]
        .iter()
        .map(|s| s.to_string())
        .chain([addr.to_string()])
        .collect()
}

/// The JSON view from a finished `shoal status --json` (None if it failed).
pub fn parse_status(out: Option<Output>) -> Option<Value> {
    let out = out?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// The member `id` in a status view.
pub fn member<'v>(s: &'v Value, id: &str) -> Option<&'v Value> {
    s["members"].as_array()?.iter().find(|m| m["id"] == id)
}
