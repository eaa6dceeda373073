//! `shoal bench bus`: shoal's shared-memory bus against a Unix domain socket, between
//! two processes pinned to different CPUs, in one run.
//!
//! Measured: 64 B and 1 MiB round trips (p50, p90, p99, mean, max), busy-polling and
//! parked; one-way throughput of 64 B messages (one send per message, and batched) and
//! of 4 KiB messages; and the pool's single-threaded alloc + free cost. The socket does
//! the same work in the same run and is the anchor of every ratio; the targets
//! are printed next to the figures they concern, never asserted.
//!
//! The peer is this binary re-executed with hidden `--child …` arguments (see
//! [`ChildArgs`]); it exits by itself after 60 s without traffic and is killed and
//! reaped if the parent fails.

mod harness;
mod pool;
mod proto;
mod render;
mod report;
mod shmbus;
mod stats;
mod suite;
mod uds;

use std::time::Duration;

use clap::ValueEnum;
use shoal_core::native::bus::DEFAULT_BATCH_DELAY;

/// Arguments of `shoal bench bus`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// A short run (a few seconds, even in a debug build): fewer samples, so the numbers
    /// are only indicative.
    #[arg(long)]
    quick: bool,
    /// Batch delay of the bus's batched sender, in microseconds (default: the
    /// library's, 200 µs). While batches flow, a shorter delay wakes the flusher thread
    /// more often.
    #[arg(long, value_name = "MICROSECONDS")]
    batch_delay_us: Option<u64>,
    #[command(flatten)]
    child: ChildArgs,
}

/// The hidden arguments that turn `shoal bench bus` into the benchmark's peer process.
#[derive(clap::Args, Debug, Clone)]
pub struct ChildArgs {
    /// Run as the peer of a benchmark parent, in this role.
    #[arg(long = "child", value_enum, hide = true)]
    role: Option<Role>,
    /// Bus name or socket path.
    #[arg(long, hide = true, default_value = "")]
    name: String,
    /// CPU to pin the peer to.
    #[arg(long, hide = true)]
    cpu: Option<usize>,
    /// Message size in bytes.
    #[arg(long, hide = true, default_value_t = 64)]
    size: usize,
    /// How the peer waits on the bus.
    #[arg(long, value_enum, hide = true, default_value = "spin")]
    wait: Wait,
    /// Round trips to answer (echo roles).
    #[arg(long, hide = true, default_value_t = 0)]
    count: u64,
}

impl ChildArgs {
    /// The command-line arguments (after `bench bus`) that reproduce these.
    fn to_command_line(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(role) = self.role {
            v.extend(["--child".to_owned(), role.cli_name()]);
        }
        v.extend([
            "--name".to_owned(),
            self.name.clone(),
            "--size".to_owned(),
            self.size.to_string(),
            "--wait".to_owned(),
            self.wait.label().to_owned(),
            "--count".to_owned(),
            self.count.to_string(),
        ]);
        if let Some(cpu) = self.cpu {
            v.extend(["--cpu".to_owned(), cpu.to_string()]);
        }
        v
    }
}

/// What a peer process does.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Answers round trips on the bus.
    BusEcho,
    /// Receives one-way runs on the bus.
    BusSink,
    /// Answers round trips on a Unix socket.
    UdsEcho,
    /// Receives one-way runs on a Unix socket.
    UdsSink,
}

impl Role {
    fn cli_name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// `bus echo`, `uds sink`, …
    fn label(self) -> &'static str {
        match self {
            Role::BusEcho => "bus echo",
            Role::BusSink => "bus sink",
            Role::UdsEcho => "socket echo",
            Role::UdsSink => "socket sink",
        }
    }
}

/// How a bus endpoint (and a blocked sender) waits.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Busy-poll.
    Spin,
    /// Park on a futex at once.
    Park,
}

impl Wait {
    /// `spin` or `park`.
    fn label(self) -> &'static str {
        match self {
            Wait::Spin => "spin",
            Wait::Park => "park",
        }
    }
}

/// The peer process: pins itself, then plays its role until done.
fn run_child(role: Role, a: &ChildArgs) -> crate::CliResult {
    if let Some(cpu) = a.cpu {
        shoal_core::native::shm::pin_current_thread(cpu)?;
    }
    match role {
        Role::BusEcho => shmbus::echo(&a.name, a.size, a.wait, a.count),
        Role::BusSink => shmbus::sink(&a.name, a.size, a.wait),
        Role::UdsEcho => Ok(uds::echo(&a.name, a.size, a.count)?),
        Role::UdsSink => Ok(uds::sink(&a.name, a.size)?),
    }
}

/// Runs the benchmark (or, with the hidden `--child`, one of its peers).
pub fn run(args: Args) -> crate::CliResult {
    if let Some(role) = args.child.role {
        return run_child(role, &args.child);
    }
    let batch_delay = args
        .batch_delay_us
        .map_or(DEFAULT_BATCH_DELAY, Duration::from_micros);
    let plan = suite::plan(args.quick, batch_delay);
    let pb = crate::progress::bar(suite::steps(&plan) as u64, "bench bus");
    let mut started = 0;
    let report = suite::collect(&plan, args.quick, |title| {
        if started > 0 {
            pb.inc(1);
        }
        started += 1;
        pb.set_message(title.to_owned());
    });
    pb.inc(1);
    pb.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::render(&report));
    }
    if !report.errors.is_empty() {
        return Err(format!("{} measurement(s) failed", report.errors.len()).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_arguments_parse_back() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let a = ChildArgs {
            role: Some(Role::BusSink),
            name: "bench-1-x".to_owned(),
            cpu: Some(1),
            size: 4096,
            wait: Wait::Park,
            count: 7,
        };
        let mut argv = vec!["shoal".to_owned()];
        argv.extend(a.to_command_line());
        let back = <Cli as clap::Parser>::try_parse_from(argv)
            .unwrap()
            .args
            .child;
        assert_eq!(back.role, Some(Role::BusSink));
        assert_eq!(back.name, "bench-1-x");
        assert_eq!(
            (back.cpu, back.size, back.wait, back.count),
            (Some(1), 4096, Wait::Park, 7)
        );
        assert_eq!(Role::UdsEcho.cli_name(), "uds-echo");
    }
}
