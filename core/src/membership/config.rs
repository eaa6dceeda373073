//! Tunables of the membership protocol, with defaults that follow memberlist's LAN
//! profile where it has one (probe every 1 s, gossip to 3 members every 200 ms,
//! retransmit multiplier 4, 3 indirect probes).

use core::time::Duration;

/// Protocol settings. `Config::default()` is the LAN profile; every field is public.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Time between failure-detection probes (each probe targets one member, in
    /// randomized round-robin order).
    pub probe_interval: Duration,
    /// Time to wait for a direct ack before asking others to probe indirectly.
    pub probe_timeout: Duration,
    /// Members asked to probe indirectly when a direct probe times out (SWIM's k).
    pub indirect_probes: usize,
    /// Time between gossip rounds.
    pub gossip_interval: Duration,
    /// Members gossiped to per round.
    pub gossip_fanout: usize,
    /// Members asked for news per round when this member has none to push.
    pub pull_fanout: usize,
    /// λ: each update is sent `λ·⌈log10(N+1)⌉` times.
    pub retransmit_mult: u32,
    /// Lifeguard α: the shortest suspicion timeout is `α·log10(N)·probe_interval`
    /// (at least one probe interval), reached after [`Config::suspicion_confirmations`]
    /// independent suspicions.
    pub suspicion_mult: f64,
    /// Lifeguard β: a suspicion nobody confirms lasts `β` times the shortest timeout.
    pub suspicion_max_mult: f64,
    /// Independent confirmations that bring the suspicion timeout to its minimum.
    pub suspicion_confirmations: u32,
    /// Lifeguard local-health ceiling: probe timeouts and intervals stretch up to
    /// `(1 + max_health)` times while this member misses acks and nacks.
    pub max_health: u32,
    /// Time between push-pull anti-entropy exchanges with a random member while the
    /// view is stable.
    pub sync_interval: Duration,
    /// Time between exchanges while they still teach this member something (a new
    /// member catching up, a cluster healing): the next exchange comes this soon.
    pub sync_interval_busy: Duration,
    /// Anti-entropy pushes whole subtrees holding at most this many records instead of
    /// descending into them.
    pub sync_leaf_records: u32,
    /// Time between attempts to reach seeds that are not live members and members
    /// recently declared dead, so split clusters find each other again.
    pub reconnect_interval: Duration,
    /// How long dead and left members are remembered (and re-probed) before their
    /// records are dropped.
    pub dead_retention: Duration,
    /// How long members declared dead still receive gossip (so a falsely declared
    /// member learns it and refutes).
    pub gossip_to_dead: Duration,
    /// Queue membership events for [`poll_event`](super::Membership::poll_event).
    /// Simulations of huge clusters turn this off.
    pub events: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            indirect_probes: 3,
            gossip_interval: Duration::from_millis(200),
            gossip_fanout: 3,
            pull_fanout: 1,
            retransmit_mult: 4,
            suspicion_mult: 1.0,
            suspicion_max_mult: 2.0,
            suspicion_confirmations: 3,
            max_health: 8,
            sync_interval: Duration::from_secs(5),
            sync_interval_busy: Duration::from_secs(1),
            sync_leaf_records: 16,
            reconnect_interval: Duration::from_secs(5),
            dead_retention: Duration::from_secs(300),
            gossip_to_dead: Duration::from_secs(30),
            events: true,
        }
    }
}

impl Config {
    /// Timings by profile name, as the bindings' `Node.start(protocol=…)` take them:
    /// `"lan"` (the defaults: probe every 1 s, gossip every 200 ms) or `"fast"` (probe
    /// every 200 ms with a 100 ms timeout, gossip every 50 ms: quick convergence and
    /// failure detection on one machine, for tests and demos; too eager for loaded or
    /// real networks). `None` for another name.
    pub fn profile(name: &str) -> Option<Config> {
        match name {
            "lan" => Some(Config::default()),
            "fast" => Some(Config {
                probe_interval: Duration::from_millis(200),
                probe_timeout: Duration::from_millis(100),
                gossip_interval: Duration::from_millis(50),
                sync_interval: Duration::from_millis(500),
                sync_interval_busy: Duration::from_millis(200),
                reconnect_interval: Duration::from_millis(500),
                ..Config::default()
            }),
            _ => None,
        }
    }

    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.probe_interval.is_zero() || self.gossip_interval.is_zero() {
            return Err("probe_interval and gossip_interval must be positive");
        }
        if self.probe_timeout >= self.probe_interval {
            return Err("probe_timeout must be shorter than probe_interval");
        }
        if self.sync_interval.is_zero()
            || self.sync_interval_busy.is_zero()
            || self.reconnect_interval.is_zero()
        {
            return Err("sync intervals and reconnect_interval must be positive");
        }
        if !(self.suspicion_mult > 0.0 && self.suspicion_mult.is_finite()) {
            return Err("suspicion_mult must be a positive number");
        }
        if !(self.suspicion_max_mult >= 1.0 && self.suspicion_max_mult.is_finite()) {
            return Err("suspicion_max_mult must be at least 1");
        }
        if self.retransmit_mult == 0 {
            return Err("retransmit_mult must be at least 1");
        }
        if self.sync_leaf_records == 0 {
            return Err("sync_leaf_records must be at least 1");
        }
        Ok(())
    }

    /// Sends per update at cluster size `n`: `λ·⌈log10(n+1)⌉`.
    pub fn retransmit_limit(&self, n: usize) -> u32 {
        self.retransmit_mult * ceil_log10(n as u64 + 1).max(1)
    }

    /// Lifeguard suspicion timeout at cluster size `n` after `confirmations`
    /// independent suspicions: from `β·min` down to `min` on a log scale.
    pub fn suspicion_timeout(&self, n: usize, confirmations: u32) -> Duration {
        let scale = libm::log10((n.max(1)) as f64).max(1.0);
        let min = self.probe_interval.as_secs_f64() * self.suspicion_mult * scale;
        let max = min * self.suspicion_max_mult;
        let k = f64::from(self.suspicion_confirmations.max(1));
        let c = f64::from(confirmations.min(self.suspicion_confirmations));
        let t = max - (max - min) * libm::log(c + 1.0) / libm::log(k + 1.0);
        Duration::from_micros((t.max(min) * 1e6) as u64)
    }
}

fn ceil_log10(mut x: u64) -> u32 {
    // Number of decimal digits of x-1 (so that 10 -> 1, 11 -> 2).
    x = x.saturating_sub(1);
    let mut d = 0;
    while x > 0 {
        x /= 10;
        d += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_valid_and_named() {
        assert_eq!(Config::profile("lan"), Some(Config::default()));
        let fast = Config::profile("fast").unwrap();
        assert!(fast.validate().is_ok());
        assert!(fast.probe_interval < Config::default().probe_interval);
        assert_eq!(Config::profile("slow"), None);
    }

    #[test]
    fn retransmit_limit_is_lambda_log10() {
        let c = Config::default();
        assert_eq!(c.retransmit_limit(9), 4);
        assert_eq!(c.retransmit_limit(99), 8);
        assert_eq!(c.retransmit_limit(100), 12);
        assert_eq!(c.retransmit_limit(10_000), 20);
        assert_eq!(c.retransmit_limit(0), 4);
    }

    #[test]
    fn suspicion_shrinks_with_confirmations() {
        let c = Config::default();
        let full = c.suspicion_timeout(100, 0);
        let one = c.suspicion_timeout(100, 1);
        let all = c.suspicion_timeout(100, 3);
        assert_eq!(all, Duration::from_secs(2));
        assert_eq!(full, Duration::from_secs(4));
        assert!(one < full && one > all);
        assert_eq!(c.suspicion_timeout(100, 50), all);
        assert!(c.suspicion_timeout(1000, 3) > all);
        assert!(c.validate().is_ok());
    }
}
