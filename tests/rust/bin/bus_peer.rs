//! A bus peer process for the multi-process tests in `tests/rust/bus.rs`.
//!
//! `bus-peer ROLE BUS [ARGS…]`; every role exits by itself within its deadline, prints
//! `ready` on stdout once attached, and reports results on stdout.
//!
//! * `echo BUS IN OUT` — consumes endpoint IN and sends every message back to OUT
//!   (a copy of its bytes) until a message equal to `b"stop"` arrives.
//! * `send BUS TO COUNT SIZE` — sends COUNT messages of SIZE bytes; message i is filled
//!   with byte `i as u8` and starts with i (u64, little-endian) when SIZE >= 8.
//! * `hold BUS LOANS TO [SIZE]` — loans LOANS buffers (of SIZE bytes, default 100)
//!   and keeps them; if TO is not `-` it also
//!   receives and keeps every message sent to endpoint TO; then sleeps (to be killed).
//! * `flood BUS TO` — sends 64-byte messages to TO as fast as it can until killed.
//! * `open BUS` — opens the bus, prints `ready`, waits for a line on stdin, exits.
//! * `create BUS` — creates the bus (small config), prints `ready`, sleeps.
//! * `batch BUS TO COUNT` — sends COUNT messages with `send_batched` (message i is i as
//!   u64 followed by i % 50 bytes of value i as u8), then flushes.
//! * `linger BUS TO COUNT` — sends COUNT 8-byte messages (i as u64) with
//!   `send_batched`, never flushes, prints `sent COUNT`, and stays attached until a line
//!   arrives on stdin: only the batch timer can deliver them meanwhile.
//! * `subscribe BUS TOPIC COUNT` — subscribes, prints `ready`, receives COUNT messages
//!   and prints `got COUNT OFFSETSUM` (sum of the messages' offsets).
//! * `sink BUS EP` — consumes endpoint EP but never receives; sleeps.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use shoal_core::native::bus::{Bus, BusConfig, BusError, EndpointConfig, Sender};

const DEADLINE: Duration = Duration::from_secs(60);

fn sender(bus: &Bus, to: &str) -> Result<Sender, BusError> {
    let start = Instant::now();
    loop {
        match bus.sender(to) {
            Err(BusError::NoSuchEndpoint(_)) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(2));
            }
            other => return other,
        }
    }
}

fn ready() {
    println!("ready");
    std::io::stdout().flush().ok();
}

fn run(args: &[String]) -> Result<(), BusError> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
    if arg(1) == "create" {
        let _bus = Bus::create(arg(2), &BusConfig::small())?;
        ready();
        std::thread::sleep(DEADLINE);
        return Ok(());
    }
    let bus = Bus::open(arg(2))?;
    match arg(1) {
        "echo" => {
            let mut rx = bus.endpoint(arg(3), EndpointConfig::default())?;
            ready();
            let mut tx = sender(&bus, arg(4))?;
            loop {
                let m = rx.recv_timeout(DEADLINE)?;
                if &m[..] == b"stop" {
                    return Ok(());
                }
                tx.send_copy(&m)?;
            }
        }
        "send" => {
            let mut tx = sender(&bus, arg(3))?;
            ready();
            let (count, size) = (num(4), num(5) as usize);
            for i in 0..count {
                let mut loan = tx.loan(size)?;
                loan.fill(i as u8);
                if size >= 8 {
                    loan[..8].copy_from_slice(&i.to_le_bytes());
                }
                tx.send(loan)?;
            }
            println!("sent {count}");
            Ok(())
        }
        "hold" => {
            let mut kept = Vec::new();
            let size = match num(5) {
                0 => 100,
                n => n as usize,
            };
            for _ in 0..num(3) {
                let mut loan = bus.loan(size)?;
                loan.fill(7);
                kept.push(loan);
            }
            let mut received = Vec::new();
            let mut rx = match arg(4) {
                "-" => None,
                ep => Some(bus.endpoint(ep, EndpointConfig::default())?),
            };
            ready();
            let start = Instant::now();
            while start.elapsed() < DEADLINE {
                if let Some(rx) = rx.as_mut() {
                    if let Ok(m) = rx.recv_timeout(Duration::from_millis(10)) {
                        received.push(m);
                        println!("holding {}", received.len());
                        std::io::stdout().flush().ok();
                    }
                } else {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            Ok(())
        }
        "flood" => {
            let mut tx = sender(&bus, arg(3))?;
            ready();
            let start = Instant::now();
            let mut i = 0u64;
            while start.elapsed() < DEADLINE {
                let mut loan = tx.loan(64)?;
                loan[..8].copy_from_slice(&i.to_le_bytes());
                tx.send(loan)?;
                i += 1;
            }
            Ok(())
        }
        "batch" => {
            let mut tx = sender(&bus, arg(3))?;
            ready();
            let mut buf = Vec::new();
            for i in 0..num(4) {
                buf.clear();
                buf.extend_from_slice(&i.to_le_bytes());
                buf.resize(8 + (i % 50) as usize, i as u8);
                tx.send_batched(&buf)?;
            }
            tx.flush()?;
            println!("sent {}", num(4));
            Ok(())
        }
        "linger" => {
            let mut tx = sender(&bus, arg(3))?;
            ready();
            for i in 0..num(4) {
                tx.send_batched(&i.to_le_bytes())?;
            }
            println!("sent {}", num(4));
            std::io::stdout().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).ok();
            Ok(())
        }
        "subscribe" => {
            let mut rx = bus.subscribe(arg(3), EndpointConfig::default())?;
            ready();
            let mut sum = 0u64;
            for i in 0..num(4) {
                let m = rx.recv_timeout(DEADLINE)?;
                if m[..8] != i.to_le_bytes() {
                    eprintln!("message {i} out of order");
                    std::process::exit(3);
                }
                sum = sum.wrapping_add(m.offset());
            }
            println!("got {} {sum}", num(4));
            Ok(())
        }
        "sink" => {
            let _rx = bus.endpoint(arg(3), EndpointConfig::default())?;
            ready();
            std::thread::sleep(DEADLINE);
            Ok(())
        }
        "open" => {
            ready();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).ok();
            drop(bus);
            println!("left");
            Ok(())
        }
        other => {
            eprintln!("bus-peer: unknown role {other:?}");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Err(e) = run(&args) {
        eprintln!(
            "bus-peer {}: {e}",
            args.get(1).map(String::as_str).unwrap_or("?")
        );
        std::process::exit(1);
    }
}
