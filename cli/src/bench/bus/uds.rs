//! The anchor: the same round trips and one-way runs over a Unix domain stream socket
//! (`std::os::unix::net`), parent and peer.
//!
//! A socket has no busy-polling mode: both sides block in the kernel, so it is measured
//! once per case. Every payload byte crosses the socket (a 1 MiB round trip copies 1 MiB
//! into the kernel and out again, each way): that is what a socket costs, and what the
//! bus's loans avoid.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Instant;

use super::harness::{self, Peer, PeerSpec, SocketPath, IDLE_LIMIT, STARTUP_LIMIT};
use super::proto::{self, OneWayPlan, OneWayRun, CONTROL_LEN};
use super::stats::Summary;
use super::{Role, Wait};

/// Size of the writer's buffer in the batched case and of the receiver's read buffer.
pub const BUFFER: usize = 64 << 10;

/// A listening socket and its connected peer. Field order matters: the peer is killed
/// (if still running) before the socket file is removed.
struct Session {
    stream: UnixStream,
    peer: Peer,
    _listener: UnixListener,
    _path: SocketPath,
}

fn start(
    tag: &str,
    role: Role,
    size: usize,
    count: u64,
    cpu: Option<usize>,
) -> io::Result<Session> {
    let path = SocketPath::new(tag);
    let listener = UnixListener::bind(path.path())?;
    let mut peer = Peer::spawn(&PeerSpec {
        role,
        name: path.as_str()?,
        cpu,
        size,
        wait: Wait::Spin,
        count,
    })?;
    let stream = harness::accept_peer(&listener, &mut peer)?;
    stream.set_read_timeout(Some(STARTUP_LIMIT))?;
    Ok(Session {
        stream,
        peer,
        _listener: listener,
        _path: path,
    })
}

/// `warmup` untimed, then `samples` timed round trips of `size` bytes each way; every
/// round trip is timed on its own (consecutive `Instant`s).
pub fn round_trip(
    size: usize,
    warmup: usize,
    samples: usize,
    cpu: Option<usize>,
) -> io::Result<Summary> {
    let total = (warmup + samples) as u64;
    let mut s = start(&format!("rt{size}"), Role::UdsEcho, size, total, cpu)?;
    let mut out = vec![0u8; size];
    let mut back = vec![0u8; size];
    let mut times = Vec::with_capacity(samples);
    let mut one = |seq: u64, stream: &mut UnixStream| -> io::Result<()> {
        proto::put_seq(&mut out, seq);
        stream.write_all(&out)?;
        stream.read_exact(&mut back)?;
        match proto::seq(&back) {
            Some(got) if got == seq => Ok(()),
            got => Err(proto::out_of_order(seq, got)),
        }
    };
    for i in 0..warmup as u64 {
        one(i, &mut s.stream)?;
    }
    let mut t0 = Instant::now();
    for i in warmup as u64..total {
        one(i, &mut s.stream)?;
        let t1 = Instant::now();
        times.push((t1 - t0).as_nanos() as u64);
        t0 = t1;
    }
    s.peer.finish(STARTUP_LIMIT)?;
    Ok(Summary::of(&mut times))
}

/// One-way run of `size`-byte messages: one `write` per message, or (`buffered`)
/// through a 64 KiB `BufWriter` flushed at the end of each repetition.
pub fn one_way(
    size: usize,
    buffered: bool,
    plan: &OneWayPlan,
    cpu: Option<usize>,
) -> io::Result<OneWayRun> {
    let tag = format!("ow{size}{}", if buffered { "b" } else { "" });
    let s = start(&tag, Role::UdsSink, size, 0, cpu)?;
    let stream = &s.stream;
    let mut buf = vec![0u8; size];
    let run = proto::drive(plan, |count| -> io::Result<(u64, u64)> {
        (&*stream).write_all(&proto::control(count))?;
        let t0 = Instant::now();
        if buffered {
            let mut w = BufWriter::with_capacity(BUFFER, stream);
            for i in 0..count {
                proto::put_seq(&mut buf, i);
                w.write_all(&buf)?;
            }
            w.flush()?;
        } else {
            let mut w = stream;
            for i in 0..count {
                proto::put_seq(&mut buf, i);
                w.write_all(&buf)?;
            }
        }
        let mut r = [0u8; CONTROL_LEN];
        (&*stream).read_exact(&mut r)?;
        let parent = t0.elapsed().as_nanos() as u64;
        Ok((parent, proto::check_reply(&r, count)?))
    })?;
    (&s.stream).write_all(&proto::control(0))?;
    s.peer.finish(STARTUP_LIMIT)?;
    Ok(run)
}

/// Peer of [`round_trip`]: answers `count` messages of `size` bytes with the same bytes.
pub fn echo(path: &str, size: usize, count: u64) -> io::Result<()> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(IDLE_LIMIT))?;
    let mut buf = vec![0u8; size];
    for _ in 0..count {
        stream.read_exact(&mut buf)?;
        stream.write_all(&buf)?;
    }
    Ok(())
}

/// Peer of [`one_way`]: reads through a 64 KiB buffer, checks every sequence number and
/// answers each repetition with its count and time.
pub fn sink(path: &str, size: usize) -> io::Result<()> {
    let stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(IDLE_LIMIT))?;
    let mut reader = BufReader::with_capacity(BUFFER, &stream);
    let mut buf = vec![0u8; size];
    loop {
        let mut c = [0u8; CONTROL_LEN];
        reader.read_exact(&mut c)?;
        let count = proto::parse_control(&c)?;
        if count == 0 {
            return Ok(());
        }
        let mut start = None;
        for i in 0..count {
            reader.read_exact(&mut buf)?;
            start.get_or_insert_with(Instant::now);
            if proto::seq(&buf) != Some(i) {
                return Err(proto::out_of_order(i, proto::seq(&buf)));
            }
        }
        let ns = start.map_or(0, |t| t.elapsed().as_nanos() as u64);
        (&stream).write_all(&proto::reply(count, ns))?;
    }
}
