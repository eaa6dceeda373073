//! [`Impairment`]: loss and delay injected into a node's own UDP sends, for testing a
//! cluster on a network that is worse than the one at hand (where `tc netem` is not
//! available, as in containers without the `sch_netem` module).
//!
//! Each outgoing datagram is dropped with probability `loss`; the rest leave after
//! `delay` plus a uniform `0..=jitter`. With a loss of 10 % on every node, each
//! datagram between two nodes is lost with probability 10 %, as with netem on every
//! host's egress. TCP traffic is not impaired.

use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::rng::Rng;

/// Loss and delay applied to a node's outgoing datagrams (see [`NodeConfig::impair`](super::NodeConfig::impair)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Probability in `[0, 1]` that a datagram is dropped.
    pub loss: f64,
    /// Fixed delay before a datagram leaves.
    pub delay: Duration,
    /// Extra delay, uniform in `0..=jitter`.
    pub jitter: Duration,
}

impl Impairment {
    /// Whether this changes anything.
    pub fn is_none(&self) -> bool {
        self.loss <= 0.0 && self.delay.is_zero() && self.jitter.is_zero()
    }

    /// Checks the values (loss must be a probability).
    pub(crate) fn validate(&self) -> Result<(), std::string::String> {
        if !(0.0..=1.0).contains(&self.loss) {
            return Err(std::format!(
                "injected loss must be a probability between 0 and 1, not {}",
                self.loss
            ));
        }
        Ok(())
    }
}

/// A datagram held back until `due`.
struct Held {
    due: Instant,
    to: SocketAddr,
    payload: Vec<u8>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    /// Reversed: the earliest due is the greatest, for a min-heap.
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        other.due.cmp(&self.due)
    }
}

/// The driver's outgoing path: drops, holds back, or passes datagrams.
pub(crate) struct Impaired {
    cfg: Impairment,
    rng: Rng,
    held: BinaryHeap<Held>,
    /// Datagrams dropped on purpose.
    pub dropped: u64,
}

impl Impaired {
    pub(crate) fn new(cfg: Impairment, seed: u64) -> Impaired {
        Impaired {
            cfg,
            rng: Rng::new(seed),
            held: BinaryHeap::new(),
            dropped: 0,
        }
    }

    /// Decides the fate of one datagram: `Some` to send it now, `None` when it was
    /// dropped or held back.
    pub(crate) fn offer(
        &mut self,
        now: Instant,
        to: SocketAddr,
        payload: Vec<u8>,
    ) -> Option<(SocketAddr, Vec<u8>)> {
        if self.cfg.loss > 0.0 && self.rng.unit() < self.cfg.loss {
            self.dropped += 1;
            return None;
        }
        let mut wait = self.cfg.delay;
        if !self.cfg.jitter.is_zero() {
            let j = self.cfg.jitter.as_nanos() as u64;
            wait += Duration::from_nanos(self.rng.next_u64() % (j + 1));
        }
        if wait.is_zero() {
            return Some((to, payload));
        }
        self.held.push(Held {
            due: now + wait,
            to,
            payload,
        });
        None
    }

    /// The next held datagram that is due by `now`.
    pub(crate) fn due(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        if self.held.peek().is_some_and(|h| h.due <= now) {
            return self.held.pop().map(|h| (h.to, h.payload));
        }
        None
    }

    /// When the next held datagram is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.held.peek().map(|h| h.due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    #[test]
    fn loss_drops_about_the_given_share() {
        let cfg = Impairment {
            loss: 0.1,
            ..Impairment::default()
        };
        let mut i = Impaired::new(cfg, 7);
        let now = Instant::now();
        let sent = (0..10_000)
            .filter(|_| i.offer(now, addr(), std::vec![0]).is_some())
            .count();
        assert_eq!(sent as u64 + i.dropped, 10_000);
        assert!((8_700..9_300).contains(&sent), "{sent} of 10000 passed");
    }

    #[test]
    fn delay_holds_datagrams_until_due_in_order() {
        let cfg = Impairment {
            delay: Duration::from_millis(5),
            ..Impairment::default()
        };
        let mut i = Impaired::new(cfg, 1);
        let t0 = Instant::now();
        assert!(i.offer(t0, addr(), std::vec![1]).is_none());
        assert!(i
            .offer(t0 + Duration::from_millis(1), addr(), std::vec![2])
            .is_none());
        assert!(i.due(t0 + Duration::from_millis(4)).is_none());
        assert_eq!(i.next_due(), Some(t0 + Duration::from_millis(5)));
        assert_eq!(i.due(t0 + Duration::from_millis(6)).unwrap().1, [1]);
        assert_eq!(i.due(t0 + Duration::from_millis(6)).unwrap().1, [2]);
        assert!(i.due(t0 + Duration::from_secs(1)).is_none());
    }

    #[test]
    fn rejects_a_loss_that_is_not_a_probability() {
        let bad = Impairment {
            loss: 1.5,
            ..Impairment::default()
        };
        assert!(bad.validate().is_err());
        assert!(Impairment::default().validate().is_ok());
        assert!(Impairment::default().is_none());
    }
}
