//! The run itself: what is measured with how many samples, in which order, and how
//! each measurement becomes a row (a failed one keeps its place, with the error).

use std::time::Duration;

use super::harness::{self, Placement};
use super::pool::{self, PoolPlan};
use super::proto::{OneWayPlan, OneWayRun};
use super::render::size_label;
use super::report::{
    self, LatencyGroup, LatencyRow, Machine, Report, Settings, ThroughputGroup, ThroughputRow, BUS,
    KERNEL, UDS,
};
use super::stats::{median_min_max, Summary};
use super::{shmbus, uds, Wait};

/// Sample counts of one round-trip size.
#[derive(Debug, Clone, Copy)]
struct RtPlan {
    size: usize,
    warmup: usize,
    samples: usize,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    round_trips: Vec<RtPlan>,
    one_way: OneWayPlan,
    pool: PoolPlan,
}

/// One-way cases: (id, size, batched, title).
const ONE_WAY: [(&str, usize, bool, &str); 3] = [
    (
        "oneway-64",
        64,
        false,
        "64 B, one send (bus) / one write (socket) per message",
    ),
    (
        "oneway-64-batched",
        64,
        true,
        "64 B, batched (bus: send_batched + flush; socket: 64 KiB BufWriter)",
    ),
    (
        "oneway-4k",
        4096,
        false,
        "4 KiB, one send / one write per message",
    ),
];

/// The full plan, or the `--quick` one (same measurements, fewer samples), with the
/// batched sender's `batch_delay`.
pub fn plan(quick: bool, batch_delay: Duration) -> Plan {
    if quick {
        return Plan {
            round_trips: vec![
                RtPlan {
                    size: 64,
                    warmup: 3_000,
                    samples: 10_000,
                },
                RtPlan {
                    size: 1 << 20,
                    warmup: 300,
                    samples: 1_000,
                },
            ],
            one_way: OneWayPlan {
                calibrate: 2_000,
                target: Duration::from_millis(15),
                reps: 3,
                min_count: 1_000,
                max_count: 2_000_000,
                batch_delay,
            },
            pool: PoolPlan {
                batches: 15,
                pairs: 50_000,
            },
        };
    }
    Plan {
        round_trips: vec![
            RtPlan {
                size: 64,
                warmup: 10_000,
                samples: 200_000,
            },
            RtPlan {
                size: 1 << 20,
                warmup: 1_000,
                samples: 20_000,
            },
        ],
        one_way: OneWayPlan {
            calibrate: 20_000,
            target: Duration::from_millis(250),
            reps: 7,
            min_count: 10_000,
            max_count: 50_000_000,
            batch_delay,
        },
        pool: PoolPlan {
            batches: 51,
            pairs: 100_000,
        },
    }
}

/// Rows of a failed measurement keep their place with the error as note.
fn failed(errors: &mut Vec<String>, what: String, e: &dyn std::fmt::Display) -> Option<String> {
    let msg = format!("{what}: {e}");
    errors.push(msg.clone());
    Some(format!("failed: {e}"))
}

fn latency_row(
    transport: &'static str,
    wait: &'static str,
    result: Result<Summary, Box<dyn std::error::Error>>,
    what: String,
    errors: &mut Vec<String>,
) -> LatencyRow {
    let (summary, note) = match result {
        Ok(s) => (Some(s), None),
        Err(e) => (None, failed(errors, what, &e)),
    };
    LatencyRow {
        transport,
        wait,
        summary,
        uds_over_this_p50: None,
        note,
    }
}

/// A one-way row without numbers yet.
fn empty_row(transport: &'static str, wait: &'static str, method: &'static str) -> ThroughputRow {
    ThroughputRow {
        transport,
        wait,
        method,
        messages_per_rep: 0,
        reps: 0,
        msgs_per_s: None,
        mb_per_s: None,
        min_msgs_per_s: None,
        max_msgs_per_s: None,
        receiver_msgs_per_s: None,
        this_over_uds: None,
        sender_stalls: None,
        note: None,
    }
}

fn throughput_row(
    transport: &'static str,
    wait: &'static str,
    method: &'static str,
    size: usize,
    result: Result<OneWayRun, Box<dyn std::error::Error>>,
    what: String,
    errors: &mut Vec<String>,
) -> ThroughputRow {
    let mut row = empty_row(transport, wait, method);
    match result {
        Ok(run) => {
            let rate = |ns: &[u64]| -> Vec<f64> {
                ns.iter()
                    .map(|&t| run.count as f64 * 1e9 / t.max(1) as f64)
                    .collect()
            };
            let (median, min, max) = median_min_max(&rate(&run.parent_ns));
            let (receiver, _, _) = median_min_max(&rate(&run.peer_ns));
            row.messages_per_rep = run.count;
            row.reps = run.parent_ns.len();
            row.msgs_per_s = Some(median);
            row.mb_per_s = Some(median * size as f64 / 1e6);
            row.min_msgs_per_s = Some(min);
            row.max_msgs_per_s = Some(max);
            row.receiver_msgs_per_s = Some(receiver);
            if transport == BUS {
                row.sender_stalls = Some(run.sender_stalls);
                if run.sender_stalls > 0 {
                    row.note = Some(format!(
                        "sender waited {}x for free pool buffers",
                        run.sender_stalls
                    ));
                }
            }
        }
        Err(e) => row.note = failed(errors, what, &e),
    }
    row
}

/// Measurements in a plan (progress steps).
pub fn steps(plan: &Plan) -> usize {
    1 + plan.round_trips.len() * 3 + ONE_WAY.len() * 3
}

/// Pins this thread, runs every measurement of `plan` (pool, round trips, one-way runs;
/// `progress(title)` before each) and assembles the report. A failed measurement leaves
/// a row without numbers and an entry in [`Report::errors`]; the others still run.
pub fn collect(plan: &Plan, quick: bool, mut progress: impl FnMut(&str)) -> Report {
    // Before pinning: afterwards this thread may use one CPU only.
    let machine = Machine::detect();
    let placement = Placement::pin_parent();
    let cpu = placement.child_cpu;
    let clock_read_ns = harness::clock_overhead_ns();
    let mut errors = Vec::new();

    progress("pool alloc + free");
    let pool_rows = match pool::measure(&plan.pool, &[64, 4096]) {
        Ok(rows) => rows,
        Err(e) => {
            errors.push(format!("pool: {e}"));
            Vec::new()
        }
    };

    let mut round_trips = Vec::new();
    for rt in &plan.round_trips {
        let mut rows = Vec::new();
        for wait in [Wait::Spin, Wait::Park] {
            progress(&format!("rt {} bus {}", size_label(rt.size), wait.label()));
            let r = shmbus::round_trip(rt.size, wait, rt.warmup, rt.samples, cpu);
            let what = format!("{} round trip, bus {}", size_label(rt.size), wait.label());
            rows.push(latency_row(BUS, wait.label(), r, what, &mut errors));
        }
        progress(&format!("rt {} socket", size_label(rt.size)));
        let r = uds::round_trip(rt.size, rt.warmup, rt.samples, cpu).map_err(Into::into);
        let what = format!("{} round trip, socket", size_label(rt.size));
        rows.push(latency_row(UDS, KERNEL, r, what, &mut errors));
        let mut g = LatencyGroup {
            id: if rt.size >= 1 << 20 {
                format!("rt-{}m", rt.size >> 20)
            } else {
                format!("rt-{}", rt.size)
            },
            size: rt.size,
            warmup: rt.warmup,
            samples: rt.samples,
            rows,
        };
        g.fill_ratios();
        round_trips.push(g);
    }

    let mut one_way = Vec::new();
    for (id, size, batched, title) in ONE_WAY {
        let mut rows = Vec::new();
        for wait in [Wait::Spin, Wait::Park] {
            progress(&format!("{id} bus {}", wait.label()));
            let what = format!("one-way {id}, bus {}", wait.label());
            let r = shmbus::one_way(size, batched, wait, &plan.one_way, cpu);
            let method = if batched {
                "send_batched + flush"
            } else {
                "loan + send"
            };
            rows.push(throughput_row(
                BUS,
                wait.label(),
                method,
                size,
                r,
                what,
                &mut errors,
            ));
        }
        progress(&format!("{id} socket"));
        let r = uds::one_way(size, batched, &plan.one_way, cpu).map_err(Into::into);
        let method = if batched {
            "BufWriter 64 KiB"
        } else {
            "write per message"
        };
        let what = format!("one-way {id}, socket");
        rows.push(throughput_row(
            UDS,
            KERNEL,
            method,
            size,
            r,
            what,
            &mut errors,
        ));
        let mut g = ThroughputGroup {
            id: id.to_owned(),
            title: title.to_owned(),
            size,
            rows,
        };
        g.fill_ratios();
        one_way.push(g);
    }

    let (ratios, acceptance) = report::figures(&round_trips, &one_way, &pool_rows);
    let mut notes = vec![
        "1 MiB round trips: the bus loans 1 MiB and writes only the 8-byte sequence number \
         (its point is that bytes are not copied); the socket moves all 1 MiB each way \
         through the kernel, which is what a socket costs"
            .to_owned(),
        "the socket has no busy-polling mode: both sides block in the kernel, so it is \
         measured once (wait = kernel)"
            .to_owned(),
        "bus batched: Sender::send_batched copies each message into a 64 KiB pool buffer sent \
         as one descriptor when full or older than the batch delay, plus one flush per repetition; \
         the receiver still gets every message separately"
            .to_owned(),
        format!(
            "bus batched: batch delay {} µs (the flusher thread wakes about once per delay \
             while batches flow)",
            plan.one_way.batch_delay.as_micros()
        ),
        "bus busy-polling: both endpoints WaitStrategy::Spin (the bench polls try_recv, as \
         recv does under Spin); parked: WaitStrategy::Park for endpoints and blocked senders"
            .to_owned(),
    ];
    if placement.child_cpu.is_none() {
        notes.push(format!("not pinned: {}", placement.describe()));
    }
    Report {
        machine,
        settings: Settings {
            quick,
            placement,
            clock_read_ns,
            round_trip_timing: "each round trip timed on its own (consecutive Instant::now)",
            one_way_timing: format!(
                "an untimed warm-up rep and calibration reps (from {} messages, 4x more until one lasts 1/8 of the target), \
                 then the median of {} reps sized to ~{} ms each, timed from the first send to the receiver's \
                 reply; the receiver checks every sequence number (socket: reads through a 64 KiB BufReader)",
                plan.one_way.calibrate,
                plan.one_way.reps,
                plan.one_way.target.as_millis()
            ),
            pool_timing: format!(
                "median of {} batches of {} alloc + free pairs, standard class table on a heap region",
                plan.pool.batches, plan.pool.pairs
            ),
        },
        round_trips,
        one_way,
        pool: pool_rows,
        ratios,
        acceptance,
        notes,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_plan_is_smaller_than_the_full_one() {
        let (q, f) = (plan(true, Duration::ZERO), plan(false, Duration::ZERO));
        assert_eq!(q.round_trips.len(), f.round_trips.len());
        for (a, b) in q.round_trips.iter().zip(&f.round_trips) {
            assert_eq!(a.size, b.size);
            assert!(a.samples < b.samples && a.warmup < b.warmup);
        }
        assert!(q.one_way.target < f.one_way.target && q.one_way.reps < f.one_way.reps);
        assert!(q.pool.batches * q.pool.pairs < f.pool.batches * f.pool.pairs);
        assert_eq!(steps(&f), 16);
    }
}
