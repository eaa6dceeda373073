//! The sending host of `shoal bench route`: routed payloads to the server's node vs a
//! plain TCP echo of the same size, in alternating rounds.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shoal_core::membership::Meta;
use shoal_core::native::net::{Node, NodeConfig, RouteConfig, TcpTransport};

/// One round's rates, messages per second.
#[derive(Serialize, Deserialize, Clone, Copy)]
pub struct Round {
    pub routed: f64,
    pub echo: f64,
}

/// Sends `count` routed payloads of `size` bytes (distinct keys, one owner) and waits
/// for every acknowledgement.
fn routed(t: &TcpTransport, count: usize, size: usize, round: usize) -> Result<f64, String> {
    let mut payload = vec![0x5Au8; size];
    let start = Instant::now();
    for i in 0..count {
        payload[..8.min(size)].copy_from_slice(&(i as u64).to_le_bytes()[..8.min(size)]);
        let key = format!("r{round}-{i}");
        t.send(key.as_bytes(), &payload)
            .map_err(|e| e.to_string())?;
    }
    t.flush(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Writes `count` messages of `size` bytes to the echo server while a second thread
/// reads all echoes back; the rate is until the last echo arrived.
fn echo(at: SocketAddr, count: usize, size: usize) -> Result<f64, String> {
    let s = TcpStream::connect(at).map_err(|e| format!("echo server {at}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut r = s.try_clone().map_err(|e| e.to_string())?;
    let total = count * size;
    let start = Instant::now();
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = vec![0u8; 64 << 10];
        let mut got = 0;
        while got < total {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got += n;
        }
        Ok(())
    });
    let msg = vec![0x5Au8; size];
    let mut w = &s;
    for _ in 0..count {
        w.write_all(&msg).map_err(|e| e.to_string())?;
    }
    reader
        .join()
        .map_err(|_| "echo reader panicked".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Joins the server's cluster (holding no keys) and runs `rounds` alternating rounds.
pub fn run(
    bind: SocketAddr,
    seed: SocketAddr,
    count: usize,
    size: usize,
    rounds: usize,
) -> Result<Vec<Round>, String> {
    let mut cfg = NodeConfig::new(bind);
    cfg.id = Some("client".into());
    cfg.seeds = vec![seed];
    cfg.meta = Meta {
        weight: 0,
        ..Meta::default()
    };
    let node = Node::start(cfg).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.placement().ring().is_none_or(|r| r.len() != 1) {
        if Instant::now() > deadline {
            return Err("the server's node did not join within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = node
        .transport(RouteConfig::default())
        .map_err(|e| e.to_string())?;
    let echo_at = SocketAddr::new(seed.ip(), seed.port() + 1);
    // One warm-up of each, not reported.
    routed(&t, count / 10, size, usize::MAX)?;
    echo(echo_at, count / 10, size)?;
    let mut out = Vec::new();
    for round in 0..rounds {
        let (r, e) = if round % 2 == 0 {
            let r = routed(&t, count, size, round)?;
            (r, echo(echo_at, count, size)?)
        } else {
            let e = echo(echo_at, count, size)?;
            (routed(&t, count, size, round)?, e)
        };
        out.push(Round { routed: r, echo: e });
    }
    Ok(out)
}
