//! What a simulation run measured.

use alloc::vec::Vec;
use core::time::Duration;

use super::{Protocol, Scenario};

/// Times at which 50, 90, 99 and 100 % of the members reached a state (`None`: not
/// reached before the run ended), measured from the scenario's event.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// 50 % of members.
    pub p50: Option<Duration>,
    /// 90 %.
    pub p90: Option<Duration>,
    /// 99 %.
    pub p99: Option<Duration>,
    /// Every member.
    pub all: Option<Duration>,
}

impl Percentiles {
    /// From per-member times (`None` = never) over `total` members.
    pub fn from_times(times: &[Option<Duration>], total: usize) -> Percentiles {
        let mut t: Vec<Duration> = times.iter().flatten().copied().collect();
        t.sort_unstable();
        let at = |frac: f64| {
            let need = libm::ceil(frac * total as f64) as usize;
            (need >= 1 && need <= t.len()).then(|| t[need - 1])
        };
        Percentiles {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            all: at(1.0),
        }
    }
}

/// The measurements of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Protocol run.
    pub protocol: Protocol,
    /// Scenario run.
    pub scenario: Scenario,
    /// Cluster size.
    pub nodes: usize,
    /// Gossip fanout.
    pub fanout: usize,
    /// Datagram loss probability.
    pub loss: f64,
    /// Seed.
    pub seed: u64,
    /// Length of one gossip round (to convert times to rounds).
    pub round: Duration,
    /// Join / Rumor / Partition: time until members had the full correct view (or
    /// knew the change), from the scenario's event.
    pub converged: Percentiles,
    /// Crash / Churn: time from a crash until members marked the member failed
    /// (first member, then the percentiles over all live members).
    pub detection_first: Option<Duration>,
    /// See `detection_first`.
    pub detection: Percentiles,
    /// Every member's detection time of every crash (for a CDF).
    pub detection_times: Vec<Duration>,
    /// Failed marks (in any member's view) of members that were up and had not
    /// restarted recently: false failure declarations.
    pub false_failures: u64,
    /// Datagrams sent per member per second, before the scenario's event (steady
    /// state of the converged start; the whole run for Join).
    pub msgs_per_member_sec: f64,
    /// Bytes sent per member per second, same window.
    pub bytes_per_member_sec: f64,
    /// Datagrams dropped by the simulated network.
    pub lost: u64,
    /// Datagrams delivered.
    pub delivered: u64,
    /// Simulated time at the end of the run.
    pub simulated: Duration,
}

impl Report {
    /// `d` in gossip rounds.
    pub fn rounds(&self, d: Duration) -> f64 {
        d.as_secs_f64() / self.round.as_secs_f64()
    }
}
