//! What the parent and its peer say to each other, identically over the bus and over a
//! Unix socket, and the repetition driver of the one-way runs.
//!
//! * Every message starts with a little-endian `u64` sequence number (the rest of it is
//!   whatever the buffer held: nobody reads it).
//! * Round trips: the peer answers each message with one of the same size carrying the
//!   same sequence number, `count` times, then exits.
//! * One-way runs: the parent sends a 16-byte control message `[count, CONTROL_MAGIC]`,
//!   then `count` messages numbered `0 .. count`; the peer checks every number and answers
//!   with a 16-byte reply `[count, ns from its first to its last message]`. A control
//!   message with count 0 tells the peer to exit.

use std::io;
use std::time::Duration;

/// Bytes of a control message and of a reply.
pub const CONTROL_LEN: usize = 16;

/// Second word of a control message (`"shoalctl"`), so a stray data message is not
/// taken for one.
const CONTROL_MAGIC: u64 = u64::from_le_bytes(*b"shoalctl");

/// Writes `seq` into the first 8 bytes of `buf` (which must hold at least 8).
#[inline(always)]
pub fn put_seq(buf: &mut [u8], seq: u64) {
    buf[..8].copy_from_slice(&seq.to_le_bytes());
}

/// The sequence number at the start of `buf`, or `None` if it is shorter than 8 bytes.
#[inline(always)]
pub fn seq(buf: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(..8)?.try_into().ok()?))
}

fn word(buf: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&buf[8 * i..8 * i + 8]);
    u64::from_le_bytes(w)
}

/// A control message announcing `count` messages (0: stop).
pub fn control(count: u64) -> [u8; CONTROL_LEN] {
    let mut b = [0u8; CONTROL_LEN];
    b[..8].copy_from_slice(&count.to_le_bytes());
    b[8..].copy_from_slice(&CONTROL_MAGIC.to_le_bytes());
    b
}

/// The count of a control message.
pub fn parse_control(b: &[u8]) -> io::Result<u64> {
    if b.len() != CONTROL_LEN || word(b, 1) != CONTROL_MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "expected a control message",
        ));
    }
    Ok(word(b, 0))
}

/// The peer's answer after a one-way run.
pub fn reply(count: u64, elapsed_ns: u64) -> [u8; CONTROL_LEN] {
    let mut b = [0u8; CONTROL_LEN];
    b[..8].copy_from_slice(&count.to_le_bytes());
    b[8..].copy_from_slice(&elapsed_ns.to_le_bytes());
    b
}

/// `(count, elapsed_ns)` of a reply.
pub fn parse_reply(b: &[u8]) -> io::Result<(u64, u64)> {
    if b.len() != CONTROL_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("reply of {} bytes, expected {CONTROL_LEN}", b.len()),
        ));
    }
    Ok((word(b, 0), word(b, 1)))
}

/// The error a peer reports when a message is out of order.
pub fn out_of_order(expected: u64, got: Option<u64>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("message out of order: expected #{expected}, got {got:?}"),
    )
}

/// How long the one-way runs last.
#[derive(Debug, Clone, Copy)]
pub struct OneWayPlan {
    /// Messages of the untimed warm-up repetition and of the first calibration one;
    /// calibration repetitions grow 4x until one lasts at least an eighth of `target`.
    pub calibrate: u64,
    /// Wall time each timed repetition should take, as estimated from the calibration.
    pub target: Duration,
    /// Timed repetitions.
    pub reps: usize,
    /// Fewest and most messages per timed repetition.
    pub min_count: u64,
    /// See `min_count`.
    pub max_count: u64,
    /// [`Sender::set_batch_delay`](shoal_core::native::bus::Sender::set_batch_delay)
    /// of the batched runs.
    pub batch_delay: Duration,
}

/// The outcome of one transport's one-way run.
#[derive(Debug, Clone)]
pub struct OneWayRun {
    /// Messages per timed repetition.
    pub count: u64,
    /// Parent's time per repetition (first send to the peer's reply), ns.
    pub parent_ns: Vec<u64>,
    /// Peer's time per repetition (first to last message received), ns.
    pub peer_ns: Vec<u64>,
    /// Times the sender found no free buffer and waited for the receiver to give one
    /// back, over all repetitions including warm-up and calibration (bus only).
    pub sender_stalls: u64,
}

/// Runs an untimed warm-up repetition of `plan.calibrate` messages (it also absorbs the
/// peer's start-up), then untimed calibration repetitions (from `plan.calibrate`
/// messages, 4x larger each time, until one lasts `plan.target / 8` or reaches
/// `plan.max_count`), sizes the timed ones to last about `plan.target` from the last
/// calibration, and runs `plan.reps` of them. `rep(count)` sends
/// `count` messages and returns `(parent ns, peer ns)`.
pub fn drive<E>(
    plan: &OneWayPlan,
    mut rep: impl FnMut(u64) -> Result<(u64, u64), E>,
) -> Result<OneWayRun, E> {
    let target = plan.target.as_nanos() as f64;
    let max = plan.max_count.max(1);
    let mut n = plan.calibrate.clamp(1, max);
    rep(n)?;
    let per_msg = loop {
        let (t, _) = rep(n)?;
        if t as f64 * 8.0 >= target || n >= max {
            break t.max(1) as f64 / n as f64;
        }
        n = n.saturating_mul(4).min(max);
    };
    let count = (target / per_msg).clamp(plan.min_count.max(1) as f64, max as f64) as u64;
    let mut run = OneWayRun {
        count,
        parent_ns: Vec::with_capacity(plan.reps),
        peer_ns: Vec::with_capacity(plan.reps),
        sender_stalls: 0,
    };
    for _ in 0..plan.reps.max(1) {
        let (parent, peer) = rep(count)?;
        run.parent_ns.push(parent);
        run.peer_ns.push(peer);
    }
    Ok(run)
}

/// Checks that a reply acknowledges `count` messages and returns the peer's time.
pub fn check_reply(b: &[u8], count: u64) -> io::Result<u64> {
    let (n, ns) = parse_reply(b)?;
    if n != count {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("peer acknowledged {n} messages, {count} were sent"),
        ));
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let mut buf = [0u8; 64];
        put_seq(&mut buf, 0x0102_0304_0506_0708);
        assert_eq!(seq(&buf), Some(0x0102_0304_0506_0708));
        assert_eq!(seq(&buf[..7]), None);
        assert_eq!(parse_control(&control(42)).unwrap(), 42);
        assert!(parse_control(&reply(42, 7)).is_err());
        assert!(parse_control(&buf[..16]).is_err());
        assert_eq!(parse_reply(&reply(42, 7)).unwrap(), (42, 7));
        assert_eq!(check_reply(&reply(42, 7), 42).unwrap(), 7);
        assert!(check_reply(&reply(41, 7), 42).is_err());
    }

    #[test]
    fn drive_calibrates_then_sizes_the_timed_reps() {
        let plan = OneWayPlan {
            calibrate: 1000,
            target: Duration::from_millis(10),
            reps: 3,
            min_count: 10,
            max_count: 1_000_000,
            batch_delay: Duration::ZERO,
        };
        let mut counts = Vec::new();
        // 100 ns per message: calibration grows until a rep lasts >= 1.25 ms (16 000
        // messages), and 10 ms is 100 000 messages.
        let run = drive(&plan, |n| {
            counts.push(n);
            Ok::<_, io::Error>((n * 100, n * 90))
        })
        .unwrap();
        assert_eq!(
            counts,
            [1000, 1000, 4000, 16_000, 100_000, 100_000, 100_000]
        );
        assert_eq!(run.count, 100_000);
        assert_eq!(run.parent_ns, [10_000_000; 3]);
        assert_eq!(run.peer_ns, [9_000_000; 3]);
        // Clamped at both ends; a very fast transport stops calibrating at max_count.
        let slow = drive(&plan, |n| Ok::<_, io::Error>((n * 1_000_000, 0))).unwrap();
        assert_eq!(slow.count, 10);
        let mut fast_counts = Vec::new();
        let fast = drive(&plan, |n| {
            fast_counts.push(n);
            Ok::<_, io::Error>((0, 0))
        })
        .unwrap();
        assert_eq!(fast.count, 1_000_000);
        assert_eq!(
            fast_counts[..7],
            [1000, 1000, 4000, 16_000, 64_000, 256_000, 1_000_000]
        );
        // An error stops the run.
        assert!(drive(&plan, |_| Err::<(u64, u64), _>(io::Error::other("x"))).is_err());
    }
}
