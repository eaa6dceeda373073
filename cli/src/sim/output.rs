//! Printing a simulation report as text or JSON.

use std::time::Duration;

use serde_json::{json, Value};
use shoal_core::sim::{Percentiles, Report};

fn secs(d: Option<Duration>) -> Value {
    d.map_or(Value::Null, |d| json!(d.as_secs_f64()))
}

fn pct(p: &Percentiles) -> Value {
    json!({"p50": secs(p.p50), "p90": secs(p.p90), "p99": secs(p.p99), "all": secs(p.all)})
}

/// The report as a JSON object (times in seconds).
pub fn json(r: &Report, wall: Duration) -> Value {
    json!({
        "protocol": r.protocol.as_str(),
        "scenario": r.scenario.as_str(),
        "nodes": r.nodes,
        "fanout": r.fanout,
        "loss": r.loss,
        "seed": r.seed,
        "round_s": r.round.as_secs_f64(),
        "converged_s": pct(&r.converged),
        "converged_rounds": r.converged.all.map(|d| r.rounds(d)),
        "detection_first_s": secs(r.detection_first),
        "detection_s": pct(&r.detection),
        "false_failures": r.false_failures,
        "msgs_per_member_sec": r.msgs_per_member_sec,
        "bytes_per_member_sec": r.bytes_per_member_sec,
        "lost": r.lost,
        "delivered": r.delivered,
        "simulated_s": r.simulated.as_secs_f64(),
        "wall_s": wall.as_secs_f64(),
    })
}

fn show(d: Option<Duration>, r: &Report) -> String {
    match d {
        Some(d) => format!("{:.2} s ({:.1} rounds)", d.as_secs_f64(), r.rounds(d)),
        None => "not reached".into(),
    }
}

/// Prints the report for people.
pub fn print(r: &Report, wall: Duration) {
    println!(
        "{} protocol, {} scenario: {} members, fanout {}, loss {:.0} %, seed {}",
        r.protocol.as_str(),
        r.scenario.as_str(),
        r.nodes,
        r.fanout,
        r.loss * 100.0,
        r.seed
    );
    let c = &r.converged;
    if c.p50.is_some() || c.all.is_some() {
        println!("  full view / change known by 50 %: {}", show(c.p50, r));
        println!("                              90 %: {}", show(c.p90, r));
        println!("                              99 %: {}", show(c.p99, r));
        println!("                             100 %: {}", show(c.all, r));
    }
    if r.detection_first.is_some() || !r.detection_times.is_empty() {
        println!(
            "  crash marked failed, first member: {}",
            show(r.detection_first, r)
        );
        println!(
            "                        median: {}",
            show(r.detection.p50, r)
        );
        println!(
            "                   all members: {}",
            show(r.detection.all, r)
        );
    }
    println!("  false failure marks: {}", r.false_failures);
    println!(
        "  load: {:.2} datagrams/s and {:.0} B/s per member",
        r.msgs_per_member_sec, r.bytes_per_member_sec
    );
    println!(
        "  network: {} delivered, {} lost; simulated {:.1} s in {:.2} s wall",
        r.delivered,
        r.lost,
        r.simulated.as_secs_f64(),
        wall.as_secs_f64()
    );
}
