//! The human-readable tables of `shoal bench bus` (the JSON is the [`Report`] itself).

use std::fmt::Write;

use super::report::{Figure, Report, UDS};
use super::stats::Summary;

/// `12.3 ns`, `45.60 µs`, `7.89 ms`, `1.23 s`.
pub fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// `950`, `12.3 k`, `4.56 M`.
pub fn fmt_rate(per_s: f64) -> String {
    if per_s < 1e3 {
        format!("{per_s:.0}")
    } else if per_s < 1e6 {
        format!("{:.1} k", per_s / 1e3)
    } else {
        format!("{:.2} M", per_s / 1e6)
    }
}

/// `7.31x`.
fn fmt_ratio(r: f64) -> String {
    format!("{r:.2}x")
}

fn fmt_value(v: f64, unit: &str) -> String {
    match unit {
        "ns" => fmt_time(v),
        "msg/s" => format!("{} msg/s", fmt_rate(v)),
        _ => fmt_ratio(v),
    }
}

fn fmt_figure(f: &Figure) -> String {
    let value = f.value.map_or("n/a".to_owned(), |v| fmt_value(v, f.unit));
    let target = match (f.target, f.met) {
        (Some(t), met) => format!(
            "  (target {} {}{})",
            if t.op == "<=" { "≤" } else { "≥" },
            fmt_value(t.value, f.unit),
            match met {
                Some(true) => ": met",
                Some(false) => ": not met",
                None => "",
            }
        ),
        (None, _) => String::new(),
    };
    format!("{}: {value}{target}", f.text)
}

/// `64 B`, `4 KiB`, `1 MiB`.
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size % (1 << 20) == 0 {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size % (1 << 10) == 0 {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// The human-readable report.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let m = &r.machine;
    let s = &r.settings;
    let _ = writeln!(
        o,
        "machine: {} CPUs, {}, {} {}{}, {} build",
        m.nproc,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.os,
        m.arch,
        m.kernel
            .as_deref()
            .map_or(String::new(), |k| format!(" (kernel {k})")),
        m.build
    );
    let _ = writeln!(o, "pinning: {}", s.placement.describe());
    let _ = writeln!(
        o,
        "method: two processes (this binary re-executed as the peer); {}; clock read ≈ {:.0} ns, included in each sample{}",
        s.round_trip_timing,
        s.clock_read_ns,
        if s.quick { "; --quick: indicative only" } else { "" }
    );
    let _ = writeln!(o, "        one-way: {}", s.one_way_timing);
    let _ = writeln!(o, "        pool: {}", s.pool_timing);
    if m.build == "debug" {
        let _ = writeln!(o, "warning: debug build; compare only release numbers");
    }
    for n in &r.notes {
        let _ = writeln!(o, "note: {n}");
    }

    for g in &r.round_trips {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "== {} round trip [{}] ({} warm-up + {} timed round trips per row)",
            size_label(g.size),
            g.id,
            g.warmup,
            g.samples
        );
        let _ = writeln!(
            o,
            "  {:<11}  {:<6}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>12}",
            "transport", "wait", "p50", "p90", "p99", "mean", "max", "uds/this p50"
        );
        for row in &g.rows {
            let cell = |f: fn(&Summary) -> f64| {
                row.summary
                    .as_ref()
                    .map_or("-".to_owned(), |s| fmt_time(f(s)))
            };
            let ratio = if row.transport == UDS {
                "baseline".to_owned()
            } else {
                row.uds_over_this_p50.map_or("-".to_owned(), fmt_ratio)
            };
            let _ = writeln!(
                o,
                "  {:<11}  {:<6}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>12}{}",
                row.transport,
                row.wait,
                cell(|s| s.p50_ns),
                cell(|s| s.p90_ns),
                cell(|s| s.p99_ns),
                cell(|s| s.mean_ns),
                cell(|s| s.max_ns),
                ratio,
                row.note
                    .as_deref()
                    .map_or(String::new(), |n| format!("  {n}"))
            );
        }
    }

    for g in &r.one_way {
        let _ = writeln!(o);
        let _ = writeln!(o, "== one-way {} [{}]", g.title, g.id);
        let mw = g
            .rows
            .iter()
            .map(|x| x.method.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            o,
            "  {:<11}  {:<6}  {:<mw$}  {:>12}  {:>9}  {:>18}  {:>9}  {:>8}",
            "transport",
            "wait",
            "method",
            "msg/s",
            "MB/s",
            "reps x messages",
            "receiver",
            "this/uds"
        );
        for row in &g.rows {
            let rate = |v: Option<f64>| v.map_or("-".to_owned(), fmt_rate);
            let ratio = if row.transport == UDS {
                "baseline".to_owned()
            } else {
                row.this_over_uds.map_or("-".to_owned(), fmt_ratio)
            };
            let _ = writeln!(
                o,
                "  {:<11}  {:<6}  {:<mw$}  {:>12}  {:>9}  {:>18}  {:>9}  {:>8}{}",
                row.transport,
                row.wait,
                row.method,
                rate(row.msgs_per_s),
                row.mb_per_s.map_or("-".to_owned(), |v| format!("{v:.0}")),
                if row.reps > 0 {
                    format!("{} x {}", row.reps, row.messages_per_rep)
                } else {
                    "-".to_owned()
                },
                rate(row.receiver_msgs_per_s),
                ratio,
                row.note
                    .as_deref()
                    .map_or(String::new(), |n| format!("  {n}"))
            );
        }
    }

    if !r.pool.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "== allocation, single thread, in process [pool]");
        let ww = r
            .pool
            .iter()
            .map(|x| x.what.chars().count())
            .max()
            .unwrap_or(4);
        let _ = writeln!(
            o,
            "  {:<ww$}  {:>7}  {:>10}  {:>10}  {:>10}",
            "what", "size", "median", "min", "max"
        );
        for row in &r.pool {
            let _ = writeln!(
                o,
                "  {:<ww$}  {:>7}  {:>10}  {:>10}  {:>10}",
                row.what,
                size_label(row.size),
                fmt_time(row.ns_per_pair),
                fmt_time(row.min_ns),
                fmt_time(row.max_ns)
            );
        }
    }

    let _ = writeln!(o);
    let _ = writeln!(o, "== ratios (rows of this run; > 1: the first is larger)");
    for f in &r.ratios {
        let _ = writeln!(o, "  {}", fmt_figure(f));
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "== acceptance figures (reported, never asserted)");
    for f in &r.acceptance {
        let _ = writeln!(o, "  {}", fmt_figure(f));
    }
    if !r.errors.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "== errors ({} measurement(s) failed)", r.errors.len());
        for e in &r.errors {
            let _ = writeln!(o, "  {e}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_units() {
        assert_eq!(size_label(64), "64 B");
        assert_eq!(size_label(4096), "4 KiB");
        assert_eq!(size_label(1 << 20), "1 MiB");
        assert_eq!(size_label(1000), "1000 B");
        assert_eq!(fmt_rate(950.0), "950");
        assert_eq!(fmt_rate(12_345.0), "12.3 k");
        assert_eq!(fmt_rate(4_560_000.0), "4.56 M");
        assert_eq!(fmt_time(12.34), "12.3 ns");
        assert_eq!(fmt_time(45_600.0), "45.60 µs");
    }

    #[test]
    fn figures_print_value_target_and_verdict() {
        let r = super::super::report::tests::sample();
        let get = |v: &[Figure], id: &str| v.iter().find(|f| f.id == id).unwrap().clone();
        assert_eq!(
            fmt_figure(&get(&r.ratios, "uds-over-bus-rt64-p50-spin")),
            "uds/bus 64 B round trip p50, bus busy-polling: 8.00x  (target ≥ 4.00x: met)"
        );
        assert_eq!(
            fmt_figure(&get(&r.ratios, "uds-over-bus-rt64-p50-park")),
            "uds/bus 64 B round trip p50, bus parked: 0.50x"
        );
        assert_eq!(
            fmt_figure(&get(&r.acceptance, "bus-rt64-p50-spin")),
            "64 B round trip p50, bus busy-polling: 500.0 ns  (target ≤ 800.0 ns: met)"
        );
        assert_eq!(
            fmt_figure(&get(&r.acceptance, "bus-oneway64-batched-spin")),
            "one-way 64 B batched, bus busy-polling: n/a  (target ≥ 10.00 M msg/s)"
        );
    }

    #[test]
    fn every_group_ratio_and_error_is_printed() {
        let text = render(&super::super::report::tests::sample());
        for needle in [
            "pinning: parent on CPU 0, peer on CPU 1",
            "== 64 B round trip [rt-64]",
            "== 1 MiB round trip [rt-1m]",
            "[oneway-64-batched]",
            "[oneway-4k]",
            "baseline",
            "8.00x",
            "1 MiB / 64 B round trip p50, bus busy-polling: 1.20x  (target ≤ 2.00x: met)",
            "note: a note",
            "== errors (1 measurement(s) failed)",
            "boom",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // No pool rows: no pool table.
        assert!(!text.contains("[pool]"));
    }
}
