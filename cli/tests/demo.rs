//! `shoal demo`, the live mode of the visualizer (contract: `bindings-wasm/API.md`,
//! "Live mode"): the URL line, static files, `/api/state` with every agent alive on
//! the ring, `/api/events` (a snapshot first, member and action events under churn),
//! and a clean stop on SIGINT (exit 0, no agent process and no shared-memory segment
//! left). Every wait is bounded; the demo runs with `--duration 60` and is killed with
//! SIGKILL (its agents die with it) if a test fails half-way.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const SHOAL: &str = env!("CARGO_BIN_EXE_shoal");

/// A running `shoal demo`, killed (SIGKILL) and reaped on drop.
struct Demo {
    child: Child,
    addr: SocketAddr,
    web: PathBuf,
    /// Stdout lines after the URL line (there must be none).
    extra_lines: Arc<Mutex<Vec<String>>>,
}

impl Demo {
    /// Starts `shoal demo --port 0 --web TMP --duration 60` plus `extra`, with a web
    /// folder holding `index.html` and `app.js`; waits for the URL line.
    fn start(tag: &str, extra: &[&str]) -> Demo {
        let web =
            std::env::temp_dir().join(format!("shoal-demo-test-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&web).unwrap();
        std::fs::write(web.join("index.html"), INDEX).unwrap();
        std::fs::write(web.join("app.js"), "export const x = 1;\n").unwrap();
        let mut child = Command::new(SHOAL)
            .args(["demo", "--port", "0", "--duration", "60", "--web"])
            .arg(&web)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn shoal demo");
        let err = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[demo] {line}");
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let extra_lines = Arc::new(Mutex::new(Vec::new()));
        let extra = extra_lines.clone();
        thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            for line in lines.map_while(Result::ok) {
                extra.lock().unwrap().push(line);
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no URL line from shoal demo: {other:?}");
            }
        };
        let addr = line
            .strip_prefix("shoal demo: http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Demo {
            child,
            addr,
            web,
            extra_lines,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path`: status code, headers (lowercase names) and body.
    fn get(&self, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        get(self.addr, path)
    }

    /// Polls `/api/state` until `ok(state)` holds; panics after `limit`.
    fn wait_state(&self, limit: Duration, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            let (code, _, body) = self.get("/api/state");
            if code == 200 {
                last = serde_json::from_slice(&body).expect("state is JSON");
                if ok(&last) {
                    return last;
                }
            }
            thread::sleep(Duration::from_millis(200));
        }
        panic!("timed out waiting for {what}; last state: {last}");
    }

    /// SIGINT, then waits (bounded) for the exit status; checks that no agent process
    /// and no shared-memory segment of this demo is left.
    fn interrupt_and_check_clean(mut self) {
        let pid = self.pid();
        let bus = format!("demo-{pid}-");
        assert!(
            !processes_mentioning(&bus).is_empty(),
            "no agent processes seen before the stop"
        );
        let sent = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "shoal demo did not stop within 10 s of SIGINT"
            );
            thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "shoal demo exited with {status}");
        let left = processes_mentioning(&bus);
        assert!(left.is_empty(), "agent processes left running: {left:?}");
        let segments: Vec<String> = std::fs::read_dir("/dev/shm")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| f.starts_with(&format!("shoal-{bus}")))
            .collect();
        assert!(
            segments.is_empty(),
            "shared-memory segments left: {segments:?}"
        );
        let extra = self.extra_lines.lock().unwrap().clone();
        assert!(extra.is_empty(), "stdout lines after the URL: {extra:?}");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.web);
    }
}

const INDEX: &str = "<!doctype html><title>shoal test page</title>\n";

/// Pids of processes whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// A raw request on a fresh connection (no client-side path normalization).
fn get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let code = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (code, headers, raw[end + 4..].to_vec())
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A connection to `/api/events`; parsed events arrive on the channel.
fn events(addr: SocketAddr) -> mpsc::Receiver<(String, Value)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut r = BufReader::new(s);
        let mut line = String::new();
        // Head.
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.starts_with("HTTP/1.1") {
                assert!(line.contains(" 200 "), "{line}");
            }
            if line.to_ascii_lowercase().starts_with("content-type:") {
                assert!(line.contains("text/event-stream"), "{line}");
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut event = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(name) = l.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = l.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(data).expect("event data is JSON");
                if tx.send((std::mem::take(&mut event), v)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Waits for the next event `(name, data)` with `ok(name, data)`; panics after `limit`.
fn next_event(
    rx: &mpsc::Receiver<(String, Value)>,
    deadline: Instant,
    what: &str,
    ok: impl Fn(&str, &Value) -> bool,
) -> Value {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((name, v)) if ok(&name, &v) => return v,
            Ok(_) => {}
            Err(e) => panic!("no {what} event: {e}"),
        }
    }
}

fn member<'v>(state: &'v Value, id: &str) -> Option<&'v Value> {
    state["members"].as_array()?.iter().find(|m| m["id"] == id)
}

fn all_alive(state: &Value, n: usize) -> bool {
    (0..n).all(|i| {
        member(state, &format!("agent-{i}"))
            .is_some_and(|m| m["status"] == "alive" && m["up"] == true)
    })
}

#[test]
fn serves_the_page_the_state_and_events_then_stops_clean() {
    let demo = Demo::start("steady", &["--agents", "4", "--churn-secs", "0"]);

    // Static files.
    let (code, headers, body) = demo.get("/");
    assert_eq!(code, 200);
    assert_eq!(body, INDEX.as_bytes());
    assert!(header(&headers, "content-type")
        .unwrap()
        .starts_with("text/html"));
    let (code, headers, _) = demo.get("/app.js");
    assert_eq!(code, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/javascript"));
    assert_eq!(demo.get("/missing.js").0, 404);
    for evil in ["/../Cargo.toml", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../x"] {
        let code = demo.get(evil).0;
        assert!(code == 400 || code == 404, "{evil}: {code}");
    }

    // Every agent alive, with the source's roles and weights, on a ring of 1 point per
    // unit of weight; the observer holds no keys.
    let state = demo.wait_state(Duration::from_secs(30), "4 agents alive", |s| {
        all_alive(s, 4)
    });
    assert_eq!(state["placement"]["kind"], "ring");
    assert_eq!(state["placement"]["hash"], "xxh3");
    assert_eq!(state["placement"]["vnodes"], 1);
    let observer = state["observer"].as_str().unwrap();
    assert_eq!(member(&state, observer).unwrap()["weight"], 0);
    for (i, (role, weight)) in [
        ("QueryEngine", 100),
        ("MediaEngine", 80),
        ("InsightEngine", 120),
        ("ReportEngine", 60),
    ]
    .into_iter()
    .enumerate()
    {
        let m = member(&state, &format!("agent-{i}")).unwrap();
        assert_eq!(m["role"], role);
        assert_eq!(m["weight"], weight);
        assert!(m["addr"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(m["incarnation"].is_u64());
    }

    // Traffic reaches the agents.
    let state = demo.wait_state(Duration::from_secs(20), "delivered traffic", |s| {
        s["traffic"]["delivered"].as_u64().unwrap_or(0) >= 100
    });
    let per_owner = state["traffic"]["perOwner"].as_object().unwrap();
    assert!(
        per_owner.keys().all(|k| k.starts_with("agent-")),
        "{per_owner:?}"
    );
    assert!(
        state["traffic"]["routed"].as_u64() >= state["traffic"]["delivered"].as_u64(),
        "{state}"
    );

    // Two event streams at once: each starts with a snapshot and gets fresh ones.
    let a = events(demo.addr);
    let b = events(demo.addr);
    for rx in [&a, &b] {
        let (name, first) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("first event");
        assert_eq!(name, "snapshot");
        assert!(all_alive(&first, 4), "{first}");
        let t0 = first["timeMs"].as_u64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        next_event(rx, deadline, "later snapshot", |n, v| {
            n == "snapshot" && v["timeMs"].as_u64().unwrap() > t0
        });
    }
    drop((a, b));

    demo.interrupt_and_check_clean();
}

#[test]
fn churn_kills_an_agent_the_observer_sees_it_fail_and_it_comes_back() {
    let demo = Demo::start("churn", &["--agents", "4", "--churn-secs", "3"]);
    let rx = events(demo.addr);
    let deadline = Instant::now() + Duration::from_secs(50);
    let kill = next_event(&rx, deadline, "action kill", |n, v| {
        n == "action" && v["kind"] == "kill"
    });
    let victim = kill["id"].as_str().unwrap().to_owned();
    next_event(&rx, deadline, "member failed or suspected", |n, v| {
        n == "member"
            && v["id"] == victim.as_str()
            && (v["kind"] == "failed" || v["kind"] == "suspected")
    });
    next_event(&rx, deadline, "action restart", |n, v| {
        n == "action" && v["kind"] == "restart" && v["id"] == victim.as_str()
    });
    next_event(&rx, deadline, "snapshot with the victim back", |n, v| {
        n == "snapshot"
            && member(v, &victim).is_some_and(|m| m["status"] == "alive" && m["up"] == true)
    });
    drop(rx);
    demo.interrupt_and_check_clean();
}
