//! The simulated network: addresses, latency, loss and partitions, and the event
//! queue in virtual time.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use crate::time::Instant;

/// The address of simulated member `i`: `10.a.b.c:7946` with `a.b.c` = `i + 1`.
pub fn addr_of(i: usize) -> SocketAddr {
    let n = (i + 1) as u32;
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8)),
        7946,
    )
}

/// The member index of a simulated address.
pub fn index_of(addr: SocketAddr) -> Option<usize> {
    match addr.ip() {
        IpAddr::V4(ip) => {
            let o = ip.octets();
            let n = (u32::from(o[1]) << 16) | (u32::from(o[2]) << 8) | u32::from(o[3]);
            (o[0] == 10 && n > 0).then(|| n as usize - 1)
        }
        IpAddr::V6(_) => None,
    }
}

/// Something that happens at an instant.
#[derive(Debug)]
pub(crate) enum Item {
    /// A datagram arrives at `to`.
    Deliver {
        to: usize,
        from: usize,
        bytes: Vec<u8>,
    },
    /// Member `node`'s timer, valid if `generation` is still its current one.
    Wake { node: usize, generation: u64 },
    /// Scenario step number `step`.
    Action(usize),
    /// Sample the metrics.
    Check,
}

struct Entry {
    at: Instant,
    seq: u64,
    item: Item,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at && self.seq == o.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// Events in time order; equal instants in insertion order (so runs replay exactly).
#[derive(Default)]
pub(crate) struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Queue {
    pub(crate) fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            item,
        }));
    }

    /// When the next event is due.
    pub(crate) fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    pub(crate) fn pop(&mut self) -> Option<(Instant, Item)> {
        self.heap.pop().map(|Reverse(e)| (e.at, e.item))
    }
}

/// Link behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct NetConfig {
    /// Probability that a datagram is lost, `0.0..1.0`.
    pub loss: f64,
    /// One-way latency, uniform in this range.
    pub latency: (Duration, Duration),
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            loss: 0.0,
            latency: (Duration::from_millis(10), Duration::from_millis(50)),
        }
    }
}
