//! Routing between networked nodes on loopback: keys sent from every node reach their
//! owners exactly once; the owner's sink can be its bus endpoint; refusals are retried;
//! and when an owner process is killed mid-stream (`route-peer`, in `rust/bin/`),
//! every acknowledged payload was delivered exactly once, by the node that
//! acknowledged it. Every node and child process is stopped by the test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoal_core::membership::Meta;
use shoal_core::native::bus::{Bus, BusConfig, EndpointConfig};
use shoal_core::native::net::{MsgId, NetError, Node, NodeConfig, RouteConfig};
use shoal_core::native::router::BusTransport;
use shoal_core::router::{Deliver, Destination, Router};

use shoal_tests::fast_protocol;

const PEER: &str = env!("CARGO_BIN_EXE_route-peer");

fn config(id: &str, seeds: &[SocketAddr], weight: u32) -> NodeConfig {
    let mut cfg = NodeConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.id = Some(id.into());
    cfg.seeds = seeds.to_vec();
    cfg.protocol = fast_protocol();
    cfg.meta = Meta {
        weight,
        ..Meta::default()
    };
    cfg
}

/// Waits (`secs` at most) until `ok()` holds.
fn eventually(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a sink received: (member, key, payload).
type Log = Arc<Mutex<Vec<(String, Vec<u8>, Vec<u8>)>>>;

/// A sink that records deliveries.
struct Recorder(Log);

impl Deliver for Recorder {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, owner: &str, key: &[u8], payload: &[u8]) -> Result<(), Self::Error> {
        let entry = (owner.to_string(), key.to_vec(), payload.to_vec());
        self.0.lock().unwrap().push(entry);
        Ok(())
    }
}

fn cluster(n: usize) -> Vec<Node> {
    let first = Node::start(config("n0", &[], 1)).unwrap();
    let seeds = [first.local_addr()];
    let mut nodes = vec![first];
    for i in 1..n {
        nodes.push(Node::start(config(&format!("n{i}"), &seeds, 1)).unwrap());
    }
    eventually("every node sees all", 10, || {
        nodes.iter().all(|x| x.members().len() == n)
    });
    eventually("one placement", 10, || {
        let d = nodes[0].status().placement_digest;
        nodes.iter().all(|x| x.status().placement_digest == d)
    });
    nodes
}

#[test]
fn keys_from_every_node_reach_their_owners_once() {
    let nodes = cluster(5);
    let log: Log = Arc::default();
    for n in &nodes {
        n.serve_routes(Recorder(log.clone()));
    }
    let per = 300;
    for (i, n) in nodes.iter().enumerate() {
        let t = n.transport(RouteConfig::default()).unwrap();
        let acks = t.acks();
        let mut ids = Vec::new();
        for k in 0..per {
            let key = format!("key-{i}-{k}");
            ids.push(
                t.send(key.as_bytes(), format!("from n{i}").as_bytes())
                    .unwrap(),
            );
        }
        t.flush(Duration::from_secs(10)).unwrap();
        let s = t.stats();
        assert_eq!((s.sent, s.acked, s.pending), (per as u64, per as u64, 0));
        let acked: Vec<MsgId> = acks.try_iter().map(|a| a.id).collect();
        assert_eq!(acked.len(), per);
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), nodes.len() * per, "each payload delivered once");
    let mut seen = std::collections::HashSet::new();
    for (member, key, payload) in log.iter() {
        assert!(seen.insert(key.clone()), "{key:?} delivered twice");
        // Delivered by the key's owner, as every node places it.
        for n in &nodes {
            assert_eq!(n.locate(key).as_deref(), Some(member.as_str()));
        }
        let from = String::from_utf8_lossy(&key[4..5]);
        assert_eq!(payload, format!("from n{from}").as_bytes());
    }
    let total = log.len() as u64;
    drop(log);
    // The status counters follow within a refresh.
    eventually("delivery counters", 5, || {
        let delivered: u64 = nodes
            .iter()
            .map(|n| n.status().counter("routes_delivered").unwrap())
            .sum();
        delivered == total
    });
}

#[test]
fn router_delivers_remote_keys_to_the_owners_bus_endpoint() {
    let nodes = cluster(3);
    let bus_name = format!("route{}", std::process::id());
    let bus = Bus::create(&bus_name, &BusConfig::default()).unwrap();
    // Each member's application consumes endpoint "agent/<id>" (one bus: one host).
    let mut inboxes: HashMap<String, _> = nodes
        .iter()
        .map(|n| {
            let ep = bus
                .endpoint(&format!("agent/{}", n.id()), EndpointConfig::default())
                .unwrap();
            n.serve_routes(BusTransport::with_prefix(bus.clone(), "agent/"));
            (n.id().to_string(), ep)
        })
        .collect();
    let me = &nodes[0];
    let mut router = Router::new(
        BusTransport::with_prefix(bus.clone(), "agent/"),
        me.transport(RouteConfig::default()).unwrap(),
    );
    router.add_local(me.id());
    let mut expected: HashMap<String, usize> = HashMap::new();
    for k in 0..100 {
        let key = format!("order-{k}");
        let to = router
            .route(&*me.placement(), key.as_bytes(), key.as_bytes())
            .unwrap();
        let owner = match to {
            Destination::Local(o) => {
                assert_eq!(o, me.id());
                o
            }
            Destination::Remote(o) => {
                assert_ne!(o, me.id());
                o
            }
        };
        *expected.entry(owner).or_default() += 1;
    }
    router.remote_mut().flush(Duration::from_secs(10)).unwrap();
    let stats = router.stats();
    assert!(stats.local > 0 && stats.remote > 0, "{stats:?}");
    for (id, ep) in &mut inboxes {
        let want = expected.get(id).copied().unwrap_or(0);
        let mut got = 0;
        while got < want {
            let m = ep.recv_timeout(Duration::from_secs(5)).unwrap();
            let key = std::str::from_utf8(&m).unwrap();
            assert_eq!(me.locate(key).as_deref(), Some(id.as_str()));
            got += 1;
        }
        assert!(
            ep.try_recv().unwrap().is_none(),
            "{id} got more than {want}"
        );
    }
}

#[test]
fn refused_payloads_stay_pending_until_a_sink_serves_them() {
    let nodes = cluster(2);
    let (a, b) = (&nodes[0], &nodes[1]);
    let key = (0..)
        .map(|k| format!("k{k}"))
        .find(|k| b.locate(k).as_deref() == Some(b.id()))
        .unwrap();
    let t = a.transport(RouteConfig::default()).unwrap();
    t.send(key.as_bytes(), b"later").unwrap();
    eventually("a refusal", 5, || t.stats().refused > 0);
    assert!(t.flush(Duration::from_millis(200)).is_err());
    assert_eq!(t.stats().pending, 1);
    let log: Log = Arc::default();
    b.serve_routes(Recorder(log.clone()));
    t.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(t.stats().resent > 0);
}

#[test]
fn bad_sends_are_errors_and_send_nothing() {
    let alone = Node::start(config("solo", &[], 0)).unwrap();
    let t = alone.transport(RouteConfig::default()).unwrap();
    // Weight 0: nothing is placed.
    assert!(matches!(t.send(b"k", b"v"), Err(NetError::NoOwner)));
    let big = vec![0u8; 17 << 20];
    assert!(matches!(
        t.send_to("solo", b"k", &big),
        Err(NetError::TooLarge(_))
    ));
    assert_eq!(t.stats().sent, 0);
    let bad = RouteConfig {
        max_pending: 0,
        ..RouteConfig::default()
    };
    assert!(matches!(
        alone.transport(bad),
        Err(NetError::InvalidConfig(_))
    ));
}

/// A `route-peer` child: killed and reaped on drop; its stdout lines are collected.
struct Peer {
    child: Child,
    _stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
}

impl Peer {
    fn spawn(id: &str, seed: Option<SocketAddr>) -> Peer {
        let seed = seed.map_or("-".to_string(), |s| s.to_string());
        let mut child = Command::new(PEER)
            .args([id, &seed])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn route-peer");
        let stdin = child.stdin.take();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let addr = first
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("route-peer said {first:?}"))
            .trim()
            .parse()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        Peer {
            child,
            _stdin: stdin,
            lines,
            addr,
        }
    }

    /// Payload numbers this peer delivered, with how often.
    fn delivered(&self) -> HashMap<u64, usize> {
        let mut out = HashMap::new();
        for l in self.lines.lock().unwrap().iter() {
            if let Some(n) = l.split(' ').nth(2).and_then(|n| n.parse().ok()) {
                *out.entry(n).or_default() += 1;
            }
        }
        out
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn killing_the_owner_mid_stream_loses_and_repeats_nothing_acknowledged() {
    let mut peers = vec![Peer::spawn("p0", None)];
    let seed = peers[0].addr;
    for i in 1..5 {
        peers.push(Peer::spawn(&format!("p{i}"), Some(seed)));
    }
    // The sender holds no keys (weight 0), so every payload crosses TCP.
    let me = Node::start(config("sender", &[seed], 0)).unwrap();
    eventually("six members", 15, || me.members().len() == 6);
    eventually("five placed", 15, || {
        me.placement().ring().is_some_and(|r| r.len() == 5)
    });
    let t = me
        .transport(RouteConfig {
            retry_after: Duration::from_millis(500),
            ..RouteConfig::default()
        })
        .unwrap();
    let acks = t.acks();
    let victim = 2;
    let total: u64 = 4000;
    let mut ids: HashMap<MsgId, u64> = HashMap::new();
    for n in 0..total {
        if n == total / 4 {
            let p = &mut peers[victim];
            p.child.kill().unwrap(); // SIGKILL
            p.child.wait().unwrap();
        }
        let key = format!("k{n}");
        let mut payload = n.to_le_bytes().to_vec();
        payload.resize(256, 0xAB);
        let id = t.send(key.as_bytes(), &payload).unwrap();
        ids.insert(id, n);
        if n % 100 == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    t.flush(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}; stats {:?}", t.stats()));
    let stats = t.stats();
    assert_eq!(stats.acked, total, "{stats:?}");
    assert!(stats.failovers > 0, "the owner's keys moved: {stats:?}");
    // Let the peers print their last deliveries, then read them.
    std::thread::sleep(Duration::from_millis(300));
    let victim_id = format!("p{victim}");
    let logs: Vec<HashMap<u64, usize>> = peers.iter().map(Peer::delivered).collect();
    let mut by_acker = 0;
    for a in acks.try_iter() {
        let n = ids[&a.id];
        let acker: usize = a.owner[1..].parse().unwrap();
        assert_eq!(
            logs[acker].get(&n),
            Some(&1),
            "payload {n} at its acker {}",
            a.owner
        );
        for (i, log) in logs.iter().enumerate() {
            if i != acker && i != victim {
                assert!(!log.contains_key(&n), "payload {n} also at p{i}");
            }
        }
        by_acker += 1;
    }
    assert_eq!(by_acker, total);
    // The killed owner delivered some before it died; after, its keys moved.
    assert!(!logs[victim].is_empty());
    for log in &logs {
        assert!(log.values().all(|&c| c == 1), "a payload delivered twice");
    }
    eprintln!(
        "killed {victim_id}: {stats:?}; deliveries per peer {:?}",
        logs.iter().map(HashMap::len).collect::<Vec<_>>()
    );
    for p in &mut peers {
        if let Some(mut s) = p._stdin.take() {
            let _ = s.write_all(b"");
        }
    }
}
