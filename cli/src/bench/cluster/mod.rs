//! `shoal bench cluster`: real `shoal agent` processes on loopback, observed through
//! their status endpoints.
//!
//! Measured: the time from the last agent's start until every agent sees all of them
//! (full view); after a `kill -9` of one agent, the time until each other agent marks it
//! failed (median and max over agents), and whether any other member was ever seen
//! failed (false failures). Times are rounded up to the polling period (100 ms).

mod spawn;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use shoal_core::membership::Status;
use shoal_core::native::net::{query_status, NodeStatus};

use spawn::AgentProc;

/// Arguments of `shoal bench cluster`.
#[derive(clap::Args)]
pub struct Args {
    /// Agent processes to start.
    #[arg(long, default_value_t = 50)]
    agents: usize,
    /// Kill -9 rounds (each kills a different agent, measures detection, restarts it).
    #[arg(long, default_value_t = 3)]
    kills: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Agents refresh their published status every 100 ms; polling faster only adds load.
const POLL: Duration = Duration::from_millis(100);
const LIMIT: Duration = Duration::from_secs(60);

#[derive(Serialize)]
struct KillRound {
    victim: String,
    /// Per other agent: seconds from the kill until it stopped seeing the victim alive
    /// (suspect or dead); median.
    suspected_median_s: f64,
    /// Per other agent: seconds from the kill until it saw the victim dead.
    median_s: f64,
    max_s: f64,
    /// Seconds until the restarted victim was live in every view again.
    rejoin_s: f64,
}

#[derive(Serialize)]
struct Report {
    agents: usize,
    /// Seconds from the last agent's start until every agent had the full view.
    full_view_s: f64,
    kills: Vec<KillRound>,
    /// Members never killed but seen dead by some agent, over the whole run.
    false_failures: usize,
    poll_ms: u64,
}

fn statuses(agents: &[AgentProc]) -> Vec<Option<NodeStatus>> {
    agents
        .iter()
        .map(|a| query_status(a.addr, Duration::from_millis(500)).ok())
        .collect()
}

fn status_of(s: &NodeStatus, id: &str) -> Option<Status> {
    s.members.iter().find(|m| m.id() == id).map(|m| m.status())
}

/// Polls until `done(index, status)` holds for every agent but `skip`; returns each
/// agent's first time (since `t0`) it held. Records false failures on the way.
fn until_each(
    agents: &[AgentProc],
    skip: Option<usize>,
    t0: Instant,
    victims: &[String],
    false_failures: &mut std::collections::BTreeSet<String>,
    done: impl Fn(&NodeStatus) -> bool,
) -> Result<Vec<f64>, String> {
    let mut when: Vec<Option<f64>> = vec![None; agents.len()];
    loop {
        for (i, s) in statuses(agents).into_iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let Some(s) = s else { continue };
            for m in &s.members {
                if m.status() == Status::Dead && !victims.iter().any(|v| v == m.id()) {
                    false_failures.insert(m.id().to_owned());
                }
            }
            if when[i].is_none() && done(&s) {
                when[i] = Some(t0.elapsed().as_secs_f64());
            }
        }
        let pending = (0..agents.len()).filter(|&i| Some(i) != skip && when[i].is_none());
        if pending.count() == 0 {
            return Ok(when.into_iter().flatten().collect());
        }
        if t0.elapsed() > LIMIT {
            return Err(format!("not done within {} s", LIMIT.as_secs()));
        }
        std::thread::sleep(POLL);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the benchmark.
pub fn run(args: Args) -> crate::CliResult {
    if args.agents < 2 {
        return Err("--agents must be at least 2".into());
    }
    let pb = crate::progress::bar((args.agents + 1 + args.kills) as u64, "bench cluster");
    let mut agents = vec![AgentProc::start("agent-000", &[])?];
    let seeds: Vec<SocketAddr> = vec![agents[0].addr];
    pb.inc(1);
    for i in 1..args.agents {
        agents.push(AgentProc::start(&format!("agent-{i:03}"), &seeds)?);
        pb.inc(1);
    }
    let last_start = Instant::now();
    let mut false_failures = std::collections::BTreeSet::new();
    let n = args.agents;
    let mut victims: Vec<String> = Vec::new();
    let full = until_each(
        &agents,
        None,
        last_start,
        &victims,
        &mut false_failures,
        |s| s.live() == n,
    )?;
    let full_view_s = full.iter().copied().fold(0.0, f64::max);
    pb.inc(1);
    let mut kills = Vec::new();
    for k in 0..args.kills {
        let victim = 1 + (k * 7919) % (n - 1);
        let id = agents[victim].id.clone();
        let addr = agents[victim].addr;
        victims.push(id.clone());
        agents[victim].kill9();
        let t0 = Instant::now();
        let suspected = until_each(
            &agents,
            Some(victim),
            t0,
            &victims,
            &mut false_failures,
            |s| status_of(s, &id) != Some(Status::Alive),
        )?;
        let seen = until_each(
            &agents,
            Some(victim),
            t0,
            &victims,
            &mut false_failures,
            |s| status_of(s, &id) == Some(Status::Dead),
        )?;
        // Restart on the same address with the same id.
        let restarted = restart(&id, addr, &seeds)?;
        agents[victim] = restarted;
        let t1 = Instant::now();
        let back = until_each(&agents, None, t1, &victims, &mut false_failures, |s| {
            s.live() == n && status_of(s, &id) == Some(Status::Alive)
        })?;
        kills.push(KillRound {
            victim: id,
            suspected_median_s: median(suspected),
            median_s: median(seen.clone()),
            max_s: seen.iter().copied().fold(0.0, f64::max),
            rejoin_s: back.iter().copied().fold(0.0, f64::max),
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let report = Report {
        agents: n,
        full_view_s,
        kills,
        false_failures: false_failures.len(),
        poll_ms: POLL.as_millis() as u64,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "== {} shoal agents on loopback (LAN protocol profile, polled every {} ms)",
            n, report.poll_ms
        );
        println!(
            "  full view everywhere after the last start: {:.2} s  (target ≤ 3 s)",
            report.full_view_s
        );
        for r in &report.kills {
            println!(
                "  kill -9 {}: suspected after median {:.2} s; marked failed by the others after median {:.2} s, max {:.2} s (target median ≤ 5 s); restart live everywhere after {:.2} s",
                r.victim, r.suspected_median_s, r.median_s, r.max_s, r.rejoin_s
            );
        }
        println!(
            "  false failures (members never killed but seen dead): {}",
            report.false_failures
        );
    }
    Ok(())
}

/// Starts `id` again on `addr` (retrying briefly while the old port is released).
fn restart(id: &str, addr: SocketAddr, seeds: &[SocketAddr]) -> Result<AgentProc, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match AgentProc::start_at(id, addr, seeds) {
            Ok(a) => return Ok(a),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
