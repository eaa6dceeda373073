//! A networked agent process for the routing tests in `tests/rust/route.rs`.
//!
//! `route-peer ID SEED` starts a node on 127.0.0.1 (a free port) with member id ID and
//! seed SEED (`-` for none), with fast protocol timings, and takes routed payloads: for
//! each one delivered it prints `D KEY N` (N: the payload's first 8 bytes as a
//! little-endian u64) and flushes, so a parent that kills this process with SIGKILL
//! still reads every delivery made before. Prints `ready ADDR` once started. Exits
//! when stdin closes, or after 120 s.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::Duration;

use shoal_core::native::net::{Node, NodeConfig};
use shoal_core::router::Deliver;

/// Prints each delivery on stdout.
struct Printer;

impl Deliver for Printer {
    type Error = std::io::Error;

    fn deliver(&mut self, _owner: &str, key: &[u8], payload: &[u8]) -> std::io::Result<()> {
        let mut n = [0u8; 8];
        let len = payload.len().min(8);
        n[..len].copy_from_slice(&payload[..len]);
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "D {} {}",
            String::from_utf8_lossy(key),
            u64::from_le_bytes(n)
        )?;
        out.flush()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, seed] = args.as_slice() else {
        eprintln!("usage: route-peer ID SEED|-");
        std::process::exit(2);
    };
    let mut cfg = NodeConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.id = Some(id.clone());
    if seed != "-" {
        cfg.seeds = vec![seed.parse::<SocketAddr>().expect("seed address")];
    }
    cfg.protocol = shoal_tests::fast_protocol();
    let node = Node::start(cfg).expect("start node");
    node.serve_routes(Printer);
    println!("ready {}", node.local_addr());
    std::io::stdout().flush().unwrap();
    // Stdin closing (the parent going away) or the deadline ends the process.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {
            line.clear();
        }
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(120));
    drop(node);
}
