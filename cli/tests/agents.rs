//! `shoal agent` processes on loopback: 30 converge; a `kill -9` is detected by every
//! other agent; the restarted agent rejoins with a higher incarnation; all placement
//! digests agree. `shoal status` is the probe. Every agent is killed and reaped when
//! the test ends, pass or fail.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SHOAL: &str = env!("CARGO_BIN_EXE_shoal");

/// A running `shoal agent`, killed on drop.
struct Agent {
    child: Child,
    addr: SocketAddr,
    id: String,
}

impl Agent {
    fn start(id: &str, bind: &str, seeds: &[SocketAddr]) -> Agent {
        let mut cmd = Command::new(SHOAL);
        cmd.args(["agent", "--json", "--bind", bind, "--id", id]);
        for s in seeds {
            cmd.args(["--seed", &s.to_string()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn shoal agent");
        // The first line says where it listens.
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("read started line");
        let v: Value = serde_json::from_str(&line).expect("started line is JSON");
        assert_eq!(v["event"], "started");
        let addr = v["addr"].as_str().unwrap().parse().unwrap();
        // Keep draining stdout so the agent never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines().map_while(Result::ok) {});
        Agent {
            child,
            addr,
            id: id.to_owned(),
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `shoal status --json` of the agent at `addr` (None if it does not answer).
fn status(addr: SocketAddr) -> Option<Value> {
    let out = Command::new(SHOAL)
        .args(["status", "--json", "--timeout-ms", "1000", "--agent"])
        .arg(addr.to_string())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

fn member<'v>(s: &'v Value, id: &str) -> Option<&'v Value> {
    s["members"].as_array()?.iter().find(|m| m["id"] == id)
}

/// Polls every agent's status until `ok(statuses)` holds or `limit` passes.
fn wait_for(agents: &[&Agent], limit: Duration, what: &str, ok: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        let all: Option<Vec<Value>> = agents.iter().map(|a| status(a.addr)).collect();
        if let Some(all) = all {
            if ok(&all) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn thirty_agents_converge_detect_a_kill_and_take_the_restart_back() {
    let n = 30;
    let first = Agent::start("agent-00", "127.0.0.1:0", &[]);
    let seeds = [first.addr];
    let mut agents = vec![first];
    for i in 1..n {
        agents.push(Agent::start(
            &format!("agent-{i:02}"),
            "127.0.0.1:0",
            &seeds,
        ));
    }
    let all: Vec<&Agent> = agents.iter().collect();
    wait_for(
        &all,
        Duration::from_secs(30),
        "30 live members everywhere",
        |s| s.iter().all(|v| v["live"] == n),
    );
    wait_for(&all, Duration::from_secs(15), "one placement digest", |s| {
        s.iter()
            .all(|v| v["placement_digest"] == s[0]["placement_digest"])
    });

    // kill -9 one agent: every other marks it failed.
    let victim = 17;
    let (victim_id, victim_addr) = (agents[victim].id.clone(), agents[victim].addr);
    let old_incarnation = member(&status(agents[0].addr).unwrap(), &victim_id).unwrap()
        ["incarnation"]
        .as_u64()
        .unwrap();
    agents[victim].kill9();
    let others: Vec<&Agent> = agents
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != victim)
        .map(|(_, a)| a)
        .collect();
    wait_for(
        &others,
        Duration::from_secs(30),
        "the victim marked dead",
        |s| {
            s.iter()
                .all(|v| member(v, &victim_id).is_some_and(|m| m["status"] == "dead"))
        },
    );
    // Nobody else was declared failed along the way.
    for s in others.iter().filter_map(|a| status(a.addr)) {
        for m in s["members"].as_array().unwrap() {
            if m["id"] != victim_id.as_str() {
                assert_eq!(m["status"], "alive", "false failure: {m}");
            }
        }
    }

    // Restart it with the same id and address: it comes back with a higher incarnation.
    agents[victim] = Agent::start(&victim_id, &victim_addr.to_string(), &seeds);
    let all: Vec<&Agent> = agents.iter().collect();
    wait_for(&all, Duration::from_secs(30), "the restart rejoined", |s| {
        s.iter().all(|v| {
            v["live"] == n
                && member(v, &victim_id).is_some_and(|m| {
                    m["status"] == "alive" && m["incarnation"].as_u64().unwrap() > old_incarnation
                })
        })
    });
    wait_for(
        &all,
        Duration::from_secs(15),
        "one placement digest again",
        |s| {
            s.iter()
                .all(|v| v["placement_digest"] == s[0]["placement_digest"])
        },
    );
}

#[test]
fn status_of_a_missing_agent_is_a_clear_error() {
    let out = Command::new(SHOAL)
        .args(["status", "--agent", "127.0.0.1:1", "--timeout-ms", "500"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("status of 127.0.0.1:1"), "{err}");
}

#[test]
fn sigterm_makes_an_agent_leave_and_the_others_see_it() {
    let a = Agent::start("stay", "127.0.0.1:0", &[]);
    let mut b = Agent::start("go", "127.0.0.1:0", &[a.addr]);
    wait_for(&[&a, &b], Duration::from_secs(15), "two members", |s| {
        s.iter().all(|v| v["live"] == 2)
    });
    let pid = b.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(s) = b.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "agent ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(code.success(), "{code}");
    wait_for(&[&a], Duration::from_secs(10), "left", |s| {
        member(&s[0], "go").is_some_and(|m| m["status"] == "left")
    });
}
