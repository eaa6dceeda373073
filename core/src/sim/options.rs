//! [`SimOptions`]: a run described in plain numbers (seconds, milliseconds, names), as
//! the bindings and the CLI take it, checked and turned into a [`SimConfig`].

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::time::Duration;

use super::{Protocol, Scenario, SimConfig};

/// A simulation request in plain values. [`SimOptions::to_config`] checks every field
/// and says which one is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions<'a> {
    /// Cluster size, 2 to 100 000.
    pub nodes: usize,
    /// `"join"`, `"rumor"`, `"crash"`, `"partition"`, `"churn"` or `"steady"`.
    pub scenario: &'a str,
    /// `"shoal"` (SWIM/Lifeguard) or `"classic"` (the source's heartbeat gossip).
    pub protocol: &'a str,
    /// Seed of every random choice.
    pub seed: u64,
    /// Datagram loss probability, in [0, 0.9).
    pub loss: f64,
    /// One-way latency range in milliseconds, `(low, high)`.
    pub latency_ms: (f64, f64),
    /// Gossip fanout, 1 to `nodes`.
    pub fanout: usize,
    /// Simulated seconds before the run stops (positive).
    pub duration: f64,
    /// Seconds before the scenario's event.
    pub warmup: f64,
    /// Partition scenario: seconds the halves stay apart.
    pub partition: f64,
    /// Churn scenario: seconds between crash/restart pairs (positive).
    pub churn_interval: f64,
    /// Join scenario: the joins are spread over this many seconds.
    pub stagger: f64,
    /// Authenticate datagrams with HMAC-SHA256.
    pub authenticate: bool,
}

impl Default for SimOptions<'_> {
    /// 10 members joining under the shoal protocol, the defaults of [`SimConfig::new`].
    fn default() -> Self {
        SimOptions {
            nodes: 10,
            scenario: "join",
            protocol: "shoal",
            seed: 1,
            loss: 0.0,
            latency_ms: (10.0, 50.0),
            fanout: 3,
            duration: 120.0,
            warmup: 5.0,
            partition: 30.0,
            churn_interval: 5.0,
            stagger: 0.0,
            authenticate: false,
        }
    }
}

/// A [`SimOptions`] field out of range: which field (its snake_case name) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSimOption {
    /// The field, as named in [`SimOptions`].
    pub field: &'static str,
    /// What is wrong, a sentence fragment following the field name ("must be …").
    pub problem: String,
}

impl fmt::Display for InvalidSimOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl InvalidSimOption {
    /// The field in camelCase (`latency_ms` → `latencyMs`), for messages about the
    /// JavaScript option names.
    pub fn camel_field(&self) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in self.field.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn bad(field: &'static str, problem: String) -> InvalidSimOption {
    InvalidSimOption { field, problem }
}

fn seconds(field: &'static str, value: f64, positive: bool) -> Result<Duration, InvalidSimOption> {
    if !(value.is_finite() && (0.0..1e7).contains(&value)) || (positive && value == 0.0) {
        let range = if positive { "(0, 1e7)" } else { "[0, 1e7)" };
        return Err(bad(
            field,
            format!("must be a number of seconds in {range}, got {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

impl Protocol {
    /// The protocol named `"shoal"` or `"classic"`.
    pub fn parse(name: &str) -> Option<Protocol> {
        match name {
            "shoal" => Some(Protocol::Shoal),
            "classic" => Some(Protocol::Classic),
            _ => None,
        }
    }
}

impl Scenario {
    /// The scenario with this lower-case name.
    pub fn parse(name: &str) -> Option<Scenario> {
        [
            Scenario::Join,
            Scenario::Rumor,
            Scenario::Crash,
            Scenario::Partition,
            Scenario::Churn,
            Scenario::Steady,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

impl SimOptions<'_> {
    /// The checked configuration, or the first field that is out of range.
    pub fn to_config(&self) -> Result<SimConfig, InvalidSimOption> {
        let scenario = Scenario::parse(self.scenario).ok_or_else(|| {
            bad(
                "scenario",
                format!(
                    "must be join, rumor, crash, partition, churn or steady, not {:?}",
                    self.scenario
                ),
            )
        })?;
        let protocol = Protocol::parse(self.protocol).ok_or_else(|| {
            bad(
                "protocol",
                format!("must be \"shoal\" or \"classic\", not {:?}", self.protocol),
            )
        })?;
        let nodes = self.nodes;
        if !(2..=100_000).contains(&nodes) {
            return Err(bad("nodes", format!("must be 2 to 100000, got {nodes}")));
        }
        if self.fanout == 0 || self.fanout > nodes {
            return Err(bad(
                "fanout",
                format!("must be 1 to nodes ({nodes}), got {}", self.fanout),
            ));
        }
        if !(0.0..0.9).contains(&self.loss) {
            return Err(bad(
                "loss",
                format!("must be in [0, 0.9), got {}", self.loss),
            ));
        }
        let (lo, hi) = self.latency_ms;
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi < 1e10 && lo <= hi) {
            return Err(bad(
                "latency_ms",
                format!(
                    "must be (low, high) milliseconds with 0 <= low <= high < 1e10, got ({lo}, {hi})"
                ),
            ));
        }
        let mut cfg = SimConfig::new(protocol, nodes, scenario);
        cfg.seed = self.seed;
        cfg.net.loss = self.loss;
        cfg.net.latency = (
            Duration::from_secs_f64(lo / 1e3),
            Duration::from_secs_f64(hi / 1e3),
        );
        cfg.fanout = self.fanout;
        cfg.duration = seconds("duration", self.duration, true)?;
        cfg.warmup = seconds("warmup", self.warmup, false)?;
        cfg.partition = seconds("partition", self.partition, false)?;
        cfg.churn_interval = seconds("churn_interval", self.churn_interval, true)?;
        cfg.stagger = seconds("stagger", self.stagger, false)?;
        cfg.authenticate = self.authenticate;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_make_the_default_config() {
        let cfg = SimOptions::default().to_config().unwrap();
        let want = SimConfig::new(Protocol::Shoal, 10, Scenario::Join);
        assert_eq!(cfg.fanout, want.fanout);
        assert_eq!(cfg.net.latency, want.net.latency);
        assert_eq!(cfg.duration, want.duration);
        assert_eq!(cfg.warmup, want.warmup);
    }

    #[test]
    fn camel_field_names_the_javascript_option() {
        let e = SimOptions {
            latency_ms: (50.0, 10.0),
            ..Default::default()
        }
        .to_config()
        .unwrap_err();
        assert_eq!(e.field, "latency_ms");
        assert_eq!(e.camel_field(), "latencyMs");
        let e = SimOptions {
            nodes: 1,
            ..Default::default()
        }
        .to_config()
        .unwrap_err();
        assert_eq!(e.camel_field(), "nodes");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(SimOptions<'_>, &str); 8] = [
            (
                SimOptions {
                    nodes: 1,
                    ..Default::default()
                },
                "nodes",
            ),
            (
                SimOptions {
                    scenario: "explode",
                    ..Default::default()
                },
                "scenario",
            ),
            (
                SimOptions {
                    protocol: "raft",
                    ..Default::default()
                },
                "protocol",
            ),
            (
                SimOptions {
                    loss: 1.5,
                    ..Default::default()
                },
                "loss",
            ),
            (
                SimOptions {
                    fanout: 0,
                    ..Default::default()
                },
                "fanout",
            ),
            (
                SimOptions {
                    duration: f64::INFINITY,
                    ..Default::default()
                },
                "duration",
            ),
            (
                SimOptions {
                    latency_ms: (50.0, 10.0),
                    ..Default::default()
                },
                "latency_ms",
            ),
            (
                SimOptions {
                    churn_interval: 0.0,
                    ..Default::default()
                },
                "churn_interval",
            ),
        ];
        for (opts, field) in cases {
            let e = opts.to_config().unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(alloc::string::ToString::to_string(&e).starts_with(field));
        }
    }

    #[test]
    fn names_round_trip() {
        for s in ["join", "rumor", "crash", "partition", "churn", "steady"] {
            assert_eq!(Scenario::parse(s).unwrap().as_str(), s);
        }
        for p in ["shoal", "classic"] {
            assert_eq!(Protocol::parse(p).unwrap().as_str(), p);
        }
    }
}
