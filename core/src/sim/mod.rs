//! A deterministic discrete-event simulator of a cluster, over the real membership
//! state machine and the real wire encoding.
//!
//! Virtual time, one seeded random source, N members exchanging real datagrams
//! through a simulated network with loss, latency and partitions. The same seed gives
//! the same run, event for event. It runs shoal's protocol ([`Membership`]) or the
//! source article's classic heartbeat gossip ([`Classic`]) under the same scenarios
//! and measures convergence, detection, false failures and load.
//!
//! Large clusters start from one shared converged [`MemberTable`]: each member's view
//! is a clone that copies only what it changes, so 100 000 members fit in memory.
//!
//! [`Membership`]: crate::membership::Membership
//! [`MemberTable`]: crate::membership::MemberTable

mod agent;
mod classic;
mod cluster;
mod driver;
mod net;
mod options;
mod report;
pub mod theory;

pub use agent::EventKind;
pub use classic::{Classic, ClassicConfig};
pub use cluster::{Cluster, ClusterEvent, MAX_RECORDED};
pub use driver::run;
pub use net::{addr_of, index_of, NetConfig};
pub use options::{InvalidSimOption, SimOptions};
pub use report::{Percentiles, Report};

use crate::membership::Config;
use core::time::Duration;

/// Which protocol the members run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The source article's heartbeat gossip with full-state push.
    Classic,
    /// shoal's SWIM/Lifeguard protocol with summary anti-entropy.
    Shoal,
}

impl Protocol {
    /// `"classic"` or `"shoal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Classic => "classic",
            Protocol::Shoal => "shoal",
        }
    }
}

/// What happens during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Every member starts alone and joins through member 0 (spread over `stagger`);
    /// measures the time until members have the full view.
    Join,
    /// A converged cluster; one member joins at `warmup` through member 0; measures
    /// the time until every member knows it (one membership change spreading).
    Rumor,
    /// A converged cluster; one member crashes at `warmup`; measures the time until
    /// the first and all members mark it failed.
    Crash,
    /// A converged cluster split into two halves at `warmup` for `partition`, then
    /// healed; measures the time after the heal until every member has the full view.
    Partition,
    /// A converged cluster where every `churn_interval` one member crashes and one
    /// crashed member restarts; measures false failures and detection.
    Churn,
    /// A converged cluster left alone (with loss): counts false failures and load.
    Steady,
}

impl Scenario {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Join => "join",
            Scenario::Rumor => "rumor",
            Scenario::Crash => "crash",
            Scenario::Partition => "partition",
            Scenario::Churn => "churn",
            Scenario::Steady => "steady",
        }
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The protocol.
    pub protocol: Protocol,
    /// Cluster size.
    pub nodes: usize,
    /// The scenario.
    pub scenario: Scenario,
    /// Seed of every random choice in the run.
    pub seed: u64,
    /// Loss and latency.
    pub net: NetConfig,
    /// shoal protocol settings (its gossip fanout is overridden by `fanout`).
    pub membership: Config,
    /// Classic protocol settings (its fanout is overridden by `fanout`).
    pub classic: ClassicConfig,
    /// Gossip fanout k for either protocol.
    pub fanout: usize,
    /// Time before the scenario's event (crash, join, split), for a steady start.
    pub warmup: Duration,
    /// Join: the joins are spread uniformly over this time.
    pub stagger: Duration,
    /// Partition: how long the halves stay apart.
    pub partition: Duration,
    /// Churn: time between crash/restart pairs.
    pub churn_interval: Duration,
    /// The run stops at this simulated time (or earlier once the scenario's metric is
    /// complete, except in `Steady` and `Churn`).
    pub duration: Duration,
    /// Metric sampling period.
    pub check_interval: Duration,
    /// Authenticate datagrams with HMAC-SHA256 (costs CPU; the bytes grow by the tag).
    pub authenticate: bool,
}

impl SimConfig {
    /// Defaults for `protocol`, `nodes` and `scenario`: 10–50 ms latency, no loss,
    /// fanout 3, the protocols' default timings.
    pub fn new(protocol: Protocol, nodes: usize, scenario: Scenario) -> SimConfig {
        SimConfig {
            protocol,
            nodes,
            scenario,
            seed: 1,
            net: NetConfig::default(),
            membership: Config::default(),
            classic: ClassicConfig::default(),
            fanout: 3,
            warmup: Duration::from_secs(5),
            stagger: Duration::ZERO,
            partition: Duration::from_secs(30),
            churn_interval: Duration::from_secs(5),
            duration: Duration::from_secs(120),
            check_interval: Duration::from_millis(50),
            authenticate: false,
        }
    }

    /// The gossip round length of the chosen protocol.
    pub fn round(&self) -> Duration {
        match self.protocol {
            Protocol::Classic => self.classic.gossip_interval,
            Protocol::Shoal => self.membership.gossip_interval,
        }
    }
}
