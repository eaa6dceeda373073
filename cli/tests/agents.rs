//! `shoal agent` processes on loopback: 30 converge; a `kill -9` is detected by every
//! other agent; the restarted agent rejoins with a higher incarnation; all placement
//! digests agree; key files keep strangers out and rotate on SIGHUP. `shoal status` is
//! the probe. Every agent is killed and reaped when the test ends, pass or fail.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{member, parse_status, run_bounded, status_args, Agent, SHOAL};
use serde_json::Value;

impl Agent {
    /// `shoal agent --json --bind BIND --id ID --seed …` plus `extra` arguments.
    fn start_with(id: &str, bind: &str, seeds: &[SocketAddr], extra: &[&str]) -> Agent {
        let mut cmd = Command::new(SHOAL);
        cmd.args(["agent", "--json", "--bind", bind, "--id", id]);
        for s in seeds {
            cmd.args(["--seed", &s.to_string()]);
        }
        cmd.args(extra);
        Agent::spawn(cmd, Duration::from_secs(10))
    }

    fn start(id: &str, bind: &str, seeds: &[SocketAddr]) -> Agent {
        Agent::start_with(id, bind, seeds, &[])
    }
}

/// `shoal status --json` of the agent at `addr` (None if it does not answer).
fn status(addr: SocketAddr) -> Option<Value> {
    let mut cmd = Command::new(SHOAL);
    cmd.args(status_args(addr));
    parse_status(run_bounded(cmd, Duration::from_secs(5)))
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
    let pid = b.pid().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(s) = b.try_wait() {
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

#[test]
fn key_files_keep_strangers_out_and_rotate_on_sighup() {
    let dir = std::env::temp_dir().join(format!("shoal-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    let file = |name: &str, keys: &[&str]| {
        let p = dir.join(name);
        std::fs::write(&p, keys.join("\n") + "\n").unwrap();
        p.to_string_lossy().into_owned()
    };
    let (fa, fb) = (file("a.keys", &[&old]), file("b.keys", &[&old]));
    let fs = file("stranger.keys", &[&new]);
    let a = Agent::start_with("a", "127.0.0.1:0", &[], &["--key-file", &fa]);
    let b = Agent::start_with("b", "127.0.0.1:0", &[a.addr], &["--key-file", &fb]);
    wait_for(
        &[&a, &b],
        Duration::from_secs(15),
        "a and b together",
        |s| s.iter().all(|v| v["live"] == 2),
    );
    // Another key: its datagrams are rejected and counted, it never joins.
    let stranger = Agent::start_with("s", "127.0.0.1:0", &[a.addr], &["--key-file", &fs]);
    wait_for(&[&a], Duration::from_secs(10), "rejections counted", |s| {
        s[0]["counters"]["rejected_packets"].as_u64() > Some(0)
    });
    std::thread::sleep(Duration::from_secs(1));
    for s in [status(a.addr).unwrap(), status(b.addr).unwrap()] {
        assert!(member(&s, "s").is_none(), "the stranger got in: {s}");
    }
    // Rotation without a restart: the new key first (seals), the old one still accepted.
    file("a.keys", &[&new, &old]);
    file("b.keys", &[&new, &old]);
    for agent in [&a, &b] {
        let hup = Command::new("kill")
            .args(["-HUP", &agent.pid().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
    }
    wait_for(
        &[&a, &b, &stranger],
        Duration::from_secs(20),
        "the new-key agent joined after the rotation",
        |s| s.iter().all(|v| v["live"] == 3),
    );
    // A broken key file stops the agent at once with the reason.
    let bad = file("bad.keys", &["not-hex"]);
    let mut cmd = Command::new(SHOAL);
    cmd.args(["agent", "--bind", "127.0.0.1:0", "--key-file", &bad]);
    let out = run_bounded(cmd, Duration::from_secs(5)).expect("exits");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.keys") && err.contains("line 1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
