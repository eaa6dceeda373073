//! What `shoal bench bus` reports: the JSON shape, the ratios between bus and socket
//! computed from one run, and the human-readable tables.

use serde::Serialize;

pub use crate::bench::machine::Machine;

use super::harness::Placement;
use super::pool::PoolRow;
use super::stats::Summary;

/// Name of the bus rows.
pub const BUS: &str = "shoal bus";
/// Name of the socket rows (the anchor of every ratio).
pub const UDS: &str = "unix socket";
/// Wait label of the socket rows: they block in the kernel.
pub const KERNEL: &str = "kernel";

/// The settings of the run.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// `--quick`.
    pub quick: bool,
    /// Which CPUs the parent and the peer run on.
    pub placement: Placement,
    /// Cost of one `Instant::now()`, included in every round-trip sample.
    pub clock_read_ns: f64,
    /// How round trips are timed.
    pub round_trip_timing: &'static str,
    /// How one-way runs are timed.
    pub one_way_timing: String,
    /// How the pool is timed.
    pub pool_timing: String,
}

/// One transport/wait mode in a round-trip group.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    /// [`BUS`] or [`UDS`].
    pub transport: &'static str,
    /// `spin`, `park` or `kernel`.
    pub wait: &'static str,
    /// Percentiles over the timed round trips (`None` if the measurement failed).
    pub summary: Option<Summary>,
    /// Socket p50 / this row's p50 (> 1: this row is faster than the socket).
    pub uds_over_this_p50: Option<f64>,
    /// Why the row has no numbers, or a caveat.
    pub note: Option<String>,
}

/// Round trips of one message size.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyGroup {
    /// Stable id, e.g. `rt-64`.
    pub id: String,
    /// Message size in bytes (each way).
    pub size: usize,
    /// Untimed round trips first.
    pub warmup: usize,
    /// Timed round trips.
    pub samples: usize,
    /// Bus busy-polling, bus parked, socket.
    pub rows: Vec<LatencyRow>,
}

/// One transport/wait mode in a one-way group.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputRow {
    /// [`BUS`] or [`UDS`].
    pub transport: &'static str,
    /// `spin`, `park` or `kernel`.
    pub wait: &'static str,
    /// What the sender does per message.
    pub method: &'static str,
    /// Messages per timed repetition.
    pub messages_per_rep: u64,
    /// Timed repetitions.
    pub reps: usize,
    /// Median over repetitions of messages per second (parent: first send to the
    /// receiver's reply).
    pub msgs_per_s: Option<f64>,
    /// `msgs_per_s` times the message size, in 10^6 bytes per second.
    pub mb_per_s: Option<f64>,
    /// Slowest repetition, messages per second.
    pub min_msgs_per_s: Option<f64>,
    /// Fastest repetition, messages per second.
    pub max_msgs_per_s: Option<f64>,
    /// Median over repetitions of the receiver's own rate (first to last message).
    pub receiver_msgs_per_s: Option<f64>,
    /// This row's rate / the socket's (> 1: faster than the socket).
    pub this_over_uds: Option<f64>,
    /// Bus only: sends that found the pool exhausted and waited for the receiver to give
    /// buffers back (all repetitions, warm-up included).
    pub sender_stalls: Option<u64>,
    /// Why the row has no numbers, or a caveat.
    pub note: Option<String>,
}

/// One-way runs of one case.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputGroup {
    /// Stable id, e.g. `oneway-64-batched`.
    pub id: String,
    /// What is sent.
    pub title: String,
    /// Message size in bytes.
    pub size: usize,
    /// Bus busy-polling, bus parked, socket.
    pub rows: Vec<ThroughputRow>,
}

/// A target a figure is compared with (for the reader; nothing is asserted).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    /// `<=` or `>=`.
    pub op: &'static str,
    /// The bound, in the figure's unit.
    pub value: f64,
}

/// One headline number: a ratio between two rows of this run, or a figure with a target.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable id.
    pub id: &'static str,
    /// What it is.
    pub text: String,
    /// The value (`None` if a row it needs is missing).
    pub value: Option<f64>,
    /// `x` (ratio), `ns` or `msg/s`.
    pub unit: &'static str,
    /// The target from the issue, if any.
    pub target: Option<Target>,
    /// Whether the value meets the target (reported, never asserted).
    pub met: Option<bool>,
}

/// Everything `--json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// The settings.
    pub settings: Settings,
    /// Round trips, 64 B then 1 MiB.
    pub round_trips: Vec<LatencyGroup>,
    /// One-way runs.
    pub one_way: Vec<ThroughputGroup>,
    /// Allocation cost.
    pub pool: Vec<PoolRow>,
    /// Ratios between rows of this run.
    pub ratios: Vec<Figure>,
    /// The acceptance figures.
    pub acceptance: Vec<Figure>,
    /// Caveats that apply to the whole run.
    pub notes: Vec<String>,
    /// Measurements that failed (their rows have no numbers).
    pub errors: Vec<String>,
}

impl LatencyGroup {
    fn row(&self, transport: &str, wait: &str) -> Option<&Summary> {
        self.rows
            .iter()
            .find(|r| r.transport == transport && r.wait == wait)
            .and_then(|r| r.summary.as_ref())
    }

    /// Fills `uds_over_this_p50` of every row from the socket row.
    pub fn fill_ratios(&mut self) {
        let uds = self.row(UDS, KERNEL).map(|s| s.p50_ns);
        for r in &mut self.rows {
            r.uds_over_this_p50 = match (uds, &r.summary) {
                (Some(u), Some(s)) if s.p50_ns > 0.0 => Some(u / s.p50_ns),
                _ => None,
            };
        }
    }
}

impl ThroughputGroup {
    fn rate(&self, transport: &str, wait: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.transport == transport && r.wait == wait)
            .and_then(|r| r.msgs_per_s)
    }

    /// Fills `this_over_uds` of every row from the socket row.
    pub fn fill_ratios(&mut self) {
        let uds = self.rate(UDS, KERNEL);
        for r in &mut self.rows {
            r.this_over_uds = match (uds, r.msgs_per_s) {
                (Some(u), Some(m)) if u > 0.0 => Some(m / u),
                _ => None,
            };
        }
    }
}

fn figure(
    id: &'static str,
    text: String,
    value: Option<f64>,
    unit: &'static str,
    target: Option<Target>,
) -> Figure {
    let met = match (value, target) {
        (Some(v), Some(t)) if t.op == "<=" => Some(v <= t.value),
        (Some(v), Some(t)) => Some(v >= t.value),
        _ => None,
    };
    Figure {
        id,
        text,
        value,
        unit,
        target,
        met,
    }
}

fn le(value: f64) -> Option<Target> {
    Some(Target { op: "<=", value })
}

fn ge(value: f64) -> Option<Target> {
    Some(Target { op: ">=", value })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The ratios and acceptance figures of a run. Groups are found by id (`rt-64`,
/// `rt-1m`, `oneway-64`, `oneway-64-batched`, `oneway-4k`); a missing one gives `None`.
pub fn figures(
    rts: &[LatencyGroup],
    ows: &[ThroughputGroup],
    pool: &[PoolRow],
) -> (Vec<Figure>, Vec<Figure>) {
    let rt = |id: &str, t: &str, w: &str| {
        rts.iter()
            .find(|g| g.id == id)
            .and_then(|g| g.row(t, w))
            .map(|s| s.p50_ns)
    };
    let ow =
        |id: &str, t: &str, w: &str| ows.iter().find(|g| g.id == id).and_then(|g| g.rate(t, w));
    let uds64 = rt("rt-64", UDS, KERNEL);
    let uds1m = rt("rt-1m", UDS, KERNEL);
    let mut ratios = Vec::new();
    for (w, label) in [("spin", "busy-polling"), ("park", "parked")] {
        let bus64 = rt("rt-64", BUS, w);
        let bus1m = rt("rt-1m", BUS, w);
        let spin = w == "spin";
        ratios.push(figure(
            if spin {
                "uds-over-bus-rt64-p50-spin"
            } else {
                "uds-over-bus-rt64-p50-park"
            },
            format!("uds/bus 64 B round trip p50, bus {label}"),
            ratio(uds64, bus64),
            "x",
            if spin { ge(4.0) } else { None },
        ));
        ratios.push(figure(
            if spin {
                "uds-over-bus-rt1m-p50-spin"
            } else {
                "uds-over-bus-rt1m-p50-park"
            },
            format!("uds/bus 1 MiB round trip p50, bus {label}"),
            ratio(uds1m, bus1m),
            "x",
            None,
        ));
        ratios.push(figure(
            if spin {
                "bus-rt1m-over-rt64-p50-spin"
            } else {
                "bus-rt1m-over-rt64-p50-park"
            },
            format!("1 MiB / 64 B round trip p50, bus {label}"),
            ratio(bus1m, bus64),
            "x",
            if spin { le(2.0) } else { None },
        ));
    }
    ratios.push(figure(
        "uds-rt1m-over-rt64-p50",
        "1 MiB / 64 B round trip p50, unix socket (for comparison)".to_owned(),
        ratio(uds1m, uds64),
        "x",
        None,
    ));
    for (id, gid, text) in [
        (
            "bus-over-uds-oneway64-spin",
            "oneway-64",
            "bus/uds one-way 64 B msg/s, one send per message, bus busy-polling",
        ),
        (
            "bus-over-uds-oneway64-batched-spin",
            "oneway-64-batched",
            "bus/uds one-way 64 B msg/s, batched, bus busy-polling",
        ),
        (
            "bus-over-uds-oneway4k-spin",
            "oneway-4k",
            "bus/uds one-way 4 KiB msg/s, bus busy-polling",
        ),
    ] {
        ratios.push(figure(
            id,
            text.to_owned(),
            ratio(ow(gid, BUS, "spin"), ow(gid, UDS, KERNEL)),
            "x",
            None,
        ));
    }
    let pool64 = pool
        .iter()
        .find(|r| r.shoal && r.size == 64)
        .map(|r| r.ns_per_pair);
    let acceptance = vec![
        figure(
            "bus-rt64-p50-spin",
            "64 B round trip p50, bus busy-polling".to_owned(),
            rt("rt-64", BUS, "spin"),
            "ns",
            le(800.0),
        ),
        figure(
            "uds-over-bus-rt64-p50-spin",
            "uds/bus 64 B round trip p50, bus busy-polling".to_owned(),
            ratio(uds64, rt("rt-64", BUS, "spin")),
            "x",
            ge(4.0),
        ),
        figure(
            "bus-rt1m-over-rt64-p50-spin",
            "1 MiB / 64 B round trip p50, bus busy-polling".to_owned(),
            ratio(rt("rt-1m", BUS, "spin"), rt("rt-64", BUS, "spin")),
            "x",
            le(2.0),
        ),
        figure(
            "bus-oneway64-batched-spin",
            "one-way 64 B batched, bus busy-polling".to_owned(),
            ow("oneway-64-batched", BUS, "spin"),
            "msg/s",
            ge(10e6),
        ),
        figure(
            "pool-alloc-free-64",
            "pool alloc + free, 64 B, single thread".to_owned(),
            pool64,
            "ns",
            le(20.0),
        ),
    ];
    (ratios, acceptance)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn summary(p50: f64) -> Option<Summary> {
        Some(Summary {
            samples: 10,
            p50_ns: p50,
            p90_ns: p50 * 1.1,
            p99_ns: p50 * 2.0,
            mean_ns: p50 * 1.05,
            min_ns: p50 * 0.9,
            max_ns: p50 * 5.0,
        })
    }

    fn lrow(transport: &'static str, wait: &'static str, p50: Option<f64>) -> LatencyRow {
        LatencyRow {
            transport,
            wait,
            summary: p50.and_then(summary),
            uds_over_this_p50: None,
            note: None,
        }
    }

    fn trow(transport: &'static str, wait: &'static str, rate: Option<f64>) -> ThroughputRow {
        ThroughputRow {
            transport,
            wait,
            method: "m",
            messages_per_rep: 100,
            reps: 3,
            msgs_per_s: rate,
            mb_per_s: rate.map(|r| r * 64.0 / 1e6),
            min_msgs_per_s: rate,
            max_msgs_per_s: rate,
            receiver_msgs_per_s: rate,
            this_over_uds: None,
            sender_stalls: None,
            note: None,
        }
    }

    fn lgroup(id: &str, size: usize, spin: f64, park: f64, uds: f64) -> LatencyGroup {
        let mut g = LatencyGroup {
            id: id.to_owned(),
            size,
            warmup: 1,
            samples: 10,
            rows: vec![
                lrow(BUS, "spin", Some(spin)),
                lrow(BUS, "park", Some(park)),
                lrow(UDS, KERNEL, Some(uds)),
            ],
        };
        g.fill_ratios();
        g
    }

    fn tgroup(id: &str, spin: Option<f64>, uds: f64) -> ThroughputGroup {
        let mut g = ThroughputGroup {
            id: id.to_owned(),
            title: id.to_owned(),
            size: 64,
            rows: vec![
                trow(BUS, "spin", spin),
                trow(BUS, "park", Some(1e5)),
                trow(UDS, KERNEL, Some(uds)),
            ],
        };
        g.fill_ratios();
        g
    }

    #[test]
    fn ratios_and_targets_come_from_the_rows_of_the_run() {
        let rts = vec![
            lgroup("rt-64", 64, 500.0, 8000.0, 4000.0),
            lgroup("rt-1m", 1 << 20, 600.0, 9000.0, 400_000.0),
        ];
        assert_eq!(rts[0].rows[0].uds_over_this_p50, Some(8.0));
        assert_eq!(rts[0].rows[2].uds_over_this_p50, Some(1.0));
        let ows = vec![
            tgroup("oneway-64", Some(5e6), 1e6),
            tgroup("oneway-64-batched", None, 2e6),
            tgroup("oneway-4k", Some(4e6), 5e5),
        ];
        assert_eq!(ows[0].rows[0].this_over_uds, Some(5.0));
        assert_eq!(ows[1].rows[0].this_over_uds, None);
        let pool = vec![PoolRow {
            what: "shoal pool alloc + release".to_owned(),
            size: 64,
            ns_per_pair: 25.0,
            min_ns: 24.0,
            max_ns: 26.0,
            batches: 3,
            pairs_per_batch: 10,
            shoal: true,
        }];
        let (ratios, acc) = figures(&rts, &ows, &pool);
        let get = |v: &[Figure], id: &str| v.iter().find(|f| f.id == id).unwrap().clone();
        let f = get(&ratios, "uds-over-bus-rt64-p50-spin");
        assert_eq!((f.value, f.met), (Some(8.0), Some(true)));
        assert_eq!(get(&ratios, "uds-over-bus-rt64-p50-park").value, Some(0.5));
        assert_eq!(get(&ratios, "bus-rt1m-over-rt64-p50-spin").value, Some(1.2));
        assert_eq!(get(&ratios, "uds-rt1m-over-rt64-p50").value, Some(100.0));
        assert_eq!(get(&ratios, "bus-over-uds-oneway4k-spin").value, Some(8.0));
        assert_eq!(
            get(&ratios, "bus-over-uds-oneway64-batched-spin").value,
            None
        );
        assert_eq!(acc.len(), 5);
        assert_eq!(get(&acc, "bus-rt64-p50-spin").met, Some(true));
        assert_eq!(get(&acc, "bus-oneway64-batched-spin").met, None);
        assert_eq!(get(&acc, "pool-alloc-free-64").met, Some(false));
    }

    /// A complete report from made-up rows (for the renderer's tests).
    pub(in super::super) fn sample() -> Report {
        let rts = vec![
            lgroup("rt-64", 64, 500.0, 8000.0, 4000.0),
            lgroup("rt-1m", 1 << 20, 600.0, 9000.0, 400_000.0),
        ];
        let ows = vec![
            tgroup("oneway-64", Some(5e6), 1e6),
            tgroup("oneway-64-batched", None, 2e6),
            tgroup("oneway-4k", Some(4e6), 5e5),
        ];
        let (ratios, acceptance) = figures(&rts, &ows, &[]);
        Report {
            machine: Machine {
                nproc: 2,
                cpu_model: None,
                kernel: None,
                os: "linux",
                arch: "x86_64",
                build: "release",
            },
            settings: Settings {
                quick: true,
                placement: Placement {
                    allowed: vec![0, 1],
                    parent_cpu: Some(0),
                    child_cpu: Some(1),
                    note: None,
                },
                clock_read_ns: 20.0,
                round_trip_timing: "each on its own",
                one_way_timing: "reps".to_owned(),
                pool_timing: "batches".to_owned(),
            },
            round_trips: rts,
            one_way: ows,
            pool: Vec::new(),
            ratios,
            acceptance,
            notes: vec!["a note".to_owned()],
            errors: vec!["one-way oneway-64-batched, bus spin: boom".to_owned()],
        }
    }
}
