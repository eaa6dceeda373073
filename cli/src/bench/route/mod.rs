//! `shoal bench route`: routed payloads between two hosts vs a plain TCP echo of the
//! same size, in the same run.
//!
//! As root with `ip` available, the two hosts are network namespaces joined by a veth
//! pair, made for the run and removed after; otherwise both run on loopback (the report
//! says which). The server host runs a node that takes routed payloads into a sink
//! that only touches them, and a TCP echo server; the client host joins the cluster
//! holding no keys, then
//! alternates rounds: `count` payloads through [`TcpTransport`] until every one is
//! acknowledged, and `count` messages written to the echo server until every echo is
//! back (writer and reader on two threads).
//!
//! [`TcpTransport`]: shoal_core::native::net::TcpTransport

mod client;
mod netns;
mod server;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use serde::Serialize;

use super::machine::Machine;

/// Arguments of `shoal bench route`.
#[derive(clap::Args)]
pub struct Args {
    /// Messages per round.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Rounds of each (alternating).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Run both hosts on loopback even where namespaces are available.
    #[arg(long)]
    loopback: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Internal: the role of a host process (`server` or `client`).
    #[arg(long, hide = true)]
    role: Option<String>,
    /// Internal: the address a host process binds.
    #[arg(long, hide = true)]
    bind: Option<SocketAddr>,
    /// Internal: the server's address, for the client.
    #[arg(long, hide = true)]
    seed: Option<SocketAddr>,
}

#[derive(Serialize)]
struct Report {
    machine: Machine,
    /// `netns` (two namespaces over veth) or `loopback`, and why when loopback.
    hosts: String,
    size: usize,
    count: usize,
    rounds: Vec<client::Round>,
    routed_median: f64,
    echo_median: f64,
    /// routed ÷ echo, medians.
    ratio: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// A host process, killed and reaped on drop.
struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `shoal …` run in namespace `ns` (or here when `None`).
fn host_command(ns: Option<&str>) -> Result<Command, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    Ok(match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(me);
            c
        }
        None => Command::new(me),
    })
}

/// Runs the benchmark (or, with `--role`, one of its host processes).
pub fn run(a: Args) -> crate::CliResult {
    match (a.role.as_deref(), a.bind, a.seed) {
        (Some("server"), Some(bind), _) => return server::run(bind),
        (Some("client"), Some(bind), Some(seed)) => {
            let rounds = client::run(bind, seed, a.count, a.size, a.rounds)?;
            println!("{}", serde_json::to_string(&rounds)?);
            return Ok(());
        }
        (Some(r), _, _) => return Err(format!("bad internal role {r:?}").into()),
        _ => {}
    }
    if a.count == 0 || a.size == 0 || a.rounds == 0 {
        return Err("--count, --size and --rounds must be at least 1".into());
    }
    let machine = Machine::detect();
    let pair = if a.loopback {
        Err("--loopback".to_string())
    } else {
        netns::Pair::create()
    };
    let (hosts, ns_a, ns_b, ip_a, ip_b) = match &pair {
        Ok(p) => (
            "netns (two namespaces over a veth pair)".to_string(),
            Some(p.a.as_str()),
            Some(p.b.as_str()),
            p.ip_a.clone(),
            p.ip_b.clone(),
        ),
        Err(why) => (
            format!("loopback ({why})"),
            None,
            None,
            "127.0.0.1".to_string(),
            "127.0.0.1".to_string(),
        ),
    };
    let server_at: SocketAddr = format!("{ip_b}:7946").parse()?;
    let mut server = Host(
        host_command(ns_b)?
            .args(["bench", "route", "--role", "server", "--bind"])
            .arg(server_at.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().ok_or("no server stdout")?).read_line(&mut line)?;
    if line.trim() != "ready" {
        return Err(format!("the server host did not start (said {line:?})").into());
    }
    let out = host_command(ns_a)?
        .args(["bench", "route", "--role", "client", "--bind"])
        .arg(format!("{ip_a}:0"))
        .arg("--seed")
        .arg(server_at.to_string())
        .args(["--count", &a.count.to_string()])
        .args(["--size", &a.size.to_string()])
        .args(["--rounds", &a.rounds.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if let Some(mut stdin) = server.0.stdin.take() {
        let _ = stdin.write_all(b"");
    }
    drop(server);
    if !out.status.success() {
        return Err(format!(
            "the client host failed: {}",
            String::from_utf8_lossy(&out.stdout)
        )
        .into());
    }
    let rounds: Vec<client::Round> = serde_json::from_slice(&out.stdout)?;
    let routed_median = median(rounds.iter().map(|r| r.routed).collect());
    let echo_median = median(rounds.iter().map(|r| r.echo).collect());
    let report = Report {
        machine,
        hosts,
        size: a.size,
        count: a.count,
        rounds,
        routed_median,
        echo_median,
        ratio: routed_median / echo_median,
    };
    drop(pair);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "routed {} B messages between two hosts: {}; {} per round, {} build",
        report.size, report.hosts, report.count, report.machine.build
    );
    println!(
        "{:>6} {:>14} {:>14} {:>8}",
        "round", "routed msg/s", "echo msg/s", "ratio"
    );
    for (i, r) in report.rounds.iter().enumerate() {
        println!(
            "{:>6} {:>14.0} {:>14.0} {:>8.2}",
            i + 1,
            r.routed,
            r.echo,
            r.routed / r.echo
        );
    }
    println!(
        "{:>6} {:>14.0} {:>14.0} {:>8.2}",
        "median", report.routed_median, report.echo_median, report.ratio
    );
    Ok(())
}
