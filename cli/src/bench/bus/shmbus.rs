//! shoal's bus side of the benchmark, parent and peer: round trips of loaned buffers and
//! one-way runs, busy-polling or parked.
//!
//! Every message is a [`Loan`](shoal_core::native::bus::Loan) written in place (only the
//! 8-byte sequence number; a 1 MiB loan is not filled, since the point of the bus is that
//! the bytes are not copied) and sent as a descriptor. Each run gets its own bus, named
//! `bench-<pid>-<case>`, which is removed when the run ends (the peer exits first).
//!
//! Waiting: in busy-polling mode the bench polls `try_recv` itself (exactly what `recv`
//! does under `WaitStrategy::Spin`) so that, every 65 536 polls, it can check the peer is
//! alive and give up after a deadline without reading the clock once per message. In
//! parked mode it calls `recv_timeout` (the endpoint's `WaitStrategy::Park`: park at
//! once on a futex).

use std::error::Error;
use std::time::{Duration, Instant};

use shoal_core::native::bus::{
    Backpressure, Bus, BusConfig, BusError, EndpointConfig, Message, Receiver, Sender, WaitStrategy,
};
use shoal_core::native::shm;
use shoal_core::pool::PoolError;

use super::harness::{Peer, PeerSpec, IDLE_LIMIT, STARTUP_LIMIT};
use super::proto::{self, OneWayPlan, OneWayRun, CONTROL_LEN};
use super::stats::Summary;
use super::{Role, Wait};

type Res<T> = Result<T, Box<dyn Error>>;

/// Polls between liveness and deadline checks in busy-polling mode.
const IDLE_CHECK_SPINS: u32 = 1 << 16;

/// How long one parked wait lasts before the liveness and deadline checks.
const PARK_SLICE: Duration = Duration::from_millis(100);

/// The parent's endpoint (replies) and the peer's (requests and data).
const TO_PARENT: &str = "to-parent";
const TO_PEER: &str = "to-peer";

impl Wait {
    fn strategy(self) -> WaitStrategy {
        match self {
            Wait::Spin => WaitStrategy::Spin,
            Wait::Park => WaitStrategy::Park,
        }
    }

    fn endpoint(self) -> EndpointConfig {
        EndpointConfig {
            backpressure: Backpressure::Block,
            wait: self.strategy(),
        }
    }
}

/// The next message, waiting as `wait` says; fails after `limit` without one or (in the
/// parent) as soon as the peer is seen to have exited.
#[inline]
fn recv(
    rx: &mut Receiver,
    wait: Wait,
    limit: Duration,
    mut peer: Option<&mut Peer>,
) -> Res<Message> {
    let mut since: Option<Instant> = None;
    let mut idle = |peer: &mut Option<&mut Peer>| -> Res<()> {
        let now = Instant::now();
        if now.duration_since(*since.get_or_insert(now)) >= limit {
            return Err(format!("no message on the bus for {limit:?}").into());
        }
        if let Some(p) = peer.as_deref_mut() {
            p.check_alive()?;
        }
        Ok(())
    };
    match wait {
        Wait::Spin => {
            let mut spins = 0u32;
            loop {
                if let Some(m) = rx.try_recv()? {
                    return Ok(m);
                }
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins % IDLE_CHECK_SPINS == 0 {
                    idle(&mut peer)?;
                }
            }
        }
        Wait::Park => loop {
            match rx.recv_timeout(PARK_SLICE) {
                Ok(m) => return Ok(m),
                Err(BusError::Timeout) => idle(&mut peer)?,
                Err(e) => return Err(e.into()),
            }
        },
    }
}

/// A sender to `endpoint`, retrying while its consumer has not created it yet.
fn sender_to(bus: &Bus, endpoint: &str, wait: Wait, mut peer: Option<&mut Peer>) -> Res<Sender> {
    let deadline = Instant::now() + STARTUP_LIMIT;
    loop {
        match bus.sender(endpoint) {
            Ok(mut s) => {
                s.set_wait(wait.strategy());
                return Ok(s);
            }
            Err(BusError::NoSuchEndpoint(_)) if Instant::now() < deadline => {
                if let Some(p) = peer.as_deref_mut() {
                    p.check_alive()?;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(format!("sender to {endpoint:?}: {e}").into()),
        }
    }
}

/// Runs `op` until it does not fail for lack of a free pool buffer. Under the `Block`
/// policy `Sender::loan` (and so `send_batched`) already waits for the receiver to give
/// buffers back, so this is a guard for other policies; `stalls` counts the operations
/// that had to wait here (0 under `Block`). Gives up after [`STARTUP_LIMIT`].
#[inline]
fn until_pool_has_room<T>(stalls: &mut u64, mut op: impl FnMut() -> Result<T, BusError>) -> Res<T> {
    let mut since: Option<Instant> = None;
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(BusError::Pool(PoolError::Exhausted { .. })) => {
                let now = Instant::now();
                let first = *since.get_or_insert_with(|| {
                    *stalls += 1;
                    now
                });
                if now.duration_since(first) >= STARTUP_LIMIT {
                    return Err(format!("the pool stayed exhausted for {STARTUP_LIMIT:?}").into());
                }
                std::hint::spin_loop();
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Loans `size` bytes, writes `seq` at the front and sends.
#[inline]
fn send_seq(tx: &mut Sender, size: usize, seq: u64, stalls: &mut u64) -> Res<()> {
    let mut loan = until_pool_has_room(stalls, || tx.loan(size))?;
    proto::put_seq(&mut loan, seq);
    tx.send(loan)?;
    Ok(())
}

/// Sends a 16-byte control message or reply.
fn send_small(tx: &mut Sender, bytes: &[u8; CONTROL_LEN]) -> Res<()> {
    let mut loan = tx.loan(CONTROL_LEN)?;
    loan.copy_from_slice(bytes);
    tx.send(loan)?;
    Ok(())
}

fn bus_name(tag: &str) -> String {
    format!("bench-{}-{tag}", std::process::id())
}

/// Whether the bus's shared-memory object is gone (checked after a run).
fn segment_removed(name: &str) -> bool {
    match shm::os_name(name) {
        Ok(os) => !std::path::Path::new("/dev/shm").join(&os[1..]).exists(),
        Err(_) => true,
    }
}

fn check_removed(name: &str) -> Res<()> {
    if segment_removed(name) {
        Ok(())
    } else {
        Err(format!("bus segment {name:?} still exists after the run").into())
    }
}

/// `warmup` untimed, then `samples` timed round trips: a loan of `size` bytes each way
/// (the peer answers with a loan of its own), every round trip timed on its own.
pub fn round_trip(
    size: usize,
    wait: Wait,
    warmup: usize,
    samples: usize,
    cpu: Option<usize>,
) -> Res<Summary> {
    let name = bus_name(&format!("rt{size}-{}", wait.label()));
    let total = (warmup + samples) as u64;
    let summary = {
        let bus = Bus::create(&name, &BusConfig::default())?;
        let mut rx = bus.endpoint(TO_PARENT, wait.endpoint())?;
        let mut peer = Peer::spawn(&PeerSpec {
            role: Role::BusEcho,
            name: &name,
            cpu,
            size,
            wait,
            count: total,
        })?;
        let mut tx = sender_to(&bus, TO_PEER, wait, Some(&mut peer))?;
        let mut times = Vec::with_capacity(samples);
        let mut one = |seq: u64, peer: &mut Peer| -> Res<()> {
            send_seq(&mut tx, size, seq, &mut 0)?;
            let m = recv(&mut rx, wait, STARTUP_LIMIT, Some(peer))?;
            match proto::seq(&m) {
                Some(got) if got == seq && m.len() == size => Ok(()),
                got => Err(proto::out_of_order(seq, got).into()),
            }
        };
        for i in 0..warmup as u64 {
            one(i, &mut peer)?;
        }
        let mut t0 = Instant::now();
        for i in warmup as u64..total {
            one(i, &mut peer)?;
            let t1 = Instant::now();
            times.push((t1 - t0).as_nanos() as u64);
            t0 = t1;
        }
        peer.finish(STARTUP_LIMIT)?;
        Summary::of(&mut times)
    };
    check_removed(&name)?;
    Ok(summary)
}

/// One-way run of `size`-byte messages: a loan and a `send` per message, or
/// (`batched`) `send_batched` of a copy (the sender packs messages into 64 KiB batches,
/// sent when full, older than the batch delay, or flushed) and one `flush` per
/// repetition. The receiver gets every message separately either way.
pub fn one_way(
    size: usize,
    batched: bool,
    wait: Wait,
    plan: &OneWayPlan,
    cpu: Option<usize>,
) -> Res<OneWayRun> {
    let name = bus_name(&format!(
        "ow{size}{}-{}",
        if batched { "b" } else { "" },
        wait.label()
    ));
    let run = {
        let bus = Bus::create(&name, &BusConfig::default())?;
        let mut rx = bus.endpoint(TO_PARENT, wait.endpoint())?;
        let mut peer = Peer::spawn(&PeerSpec {
            role: Role::BusSink,
            name: &name,
            cpu,
            size,
            wait,
            count: 0,
        })?;
        let mut tx = sender_to(&bus, TO_PEER, wait, Some(&mut peer))?;
        tx.set_batch_delay(plan.batch_delay);
        let mut buf = vec![0u8; size];
        let mut stalls = 0;
        let mut run = proto::drive(plan, |count| -> Res<(u64, u64)> {
            send_small(&mut tx, &proto::control(count))?;
            let t0 = Instant::now();
            if batched {
                for i in 0..count {
                    proto::put_seq(&mut buf, i);
                    // A batch that cannot get a buffer queues nothing: retrying is safe.
                    until_pool_has_room(&mut stalls, || tx.send_batched(&buf))?;
                }
                tx.flush()?;
            } else {
                for i in 0..count {
                    send_seq(&mut tx, size, i, &mut stalls)?;
                }
            }
            let reply = recv(&mut rx, wait, STARTUP_LIMIT, Some(&mut peer))?;
            let parent = t0.elapsed().as_nanos() as u64;
            Ok((parent, proto::check_reply(&reply, count)?))
        })?;
        run.sender_stalls = stalls;
        send_small(&mut tx, &proto::control(0))?;
        peer.finish(STARTUP_LIMIT)?;
        run
    };
    check_removed(&name)?;
    Ok(run)
}

/// Peer of [`round_trip`]: answers `count` messages, each with a fresh loan of `size`
/// bytes carrying the same sequence number.
pub fn echo(name: &str, size: usize, wait: Wait, count: u64) -> Res<()> {
    let bus = Bus::open(name)?;
    let mut rx = bus.endpoint(TO_PEER, wait.endpoint())?;
    let mut tx = sender_to(&bus, TO_PARENT, wait, None)?;
    for _ in 0..count {
        let m = recv(&mut rx, wait, IDLE_LIMIT, None)?;
        let seq = proto::seq(&m).ok_or("message shorter than 8 bytes")?;
        send_seq(&mut tx, size, seq, &mut 0)?;
        drop(m);
    }
    Ok(())
}

/// Peer of [`one_way`]: checks every sequence number and answers each repetition with
/// its count and time.
pub fn sink(name: &str, size: usize, wait: Wait) -> Res<()> {
    let bus = Bus::open(name)?;
    let mut rx = bus.endpoint(TO_PEER, wait.endpoint())?;
    let mut tx = sender_to(&bus, TO_PARENT, wait, None)?;
    loop {
        let count = proto::parse_control(&recv(&mut rx, wait, IDLE_LIMIT, None)?)?;
        if count == 0 {
            return Ok(());
        }
        let mut start = None;
        for i in 0..count {
            let m = recv(&mut rx, wait, IDLE_LIMIT, None)?;
            start.get_or_insert_with(Instant::now);
            if proto::seq(&m) != Some(i) || m.len() != size {
                return Err(proto::out_of_order(i, proto::seq(&m)).into());
            }
        }
        let ns = start.map_or(0, |t| t.elapsed().as_nanos() as u64);
        send_small(&mut tx, &proto::reply(count, ns))?;
    }
}
