//! `shoal`: command-line front end of shoal.
//!
//! Subcommands: `ring analyze`, `partitions sweep|analyze`, `bench ring|bus`, `sim`,
//! `agent`, `status`, `demo`, `vectors write|check`.

mod agent;
mod analyze;
mod bench;
mod demo;
mod keys;
mod progress;
mod sim;
mod sweep;
mod table_analyze;
mod vectors;

use clap::{Parser, Subcommand};

/// Result type of every subcommand.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(
    name = "shoal",
    version,
    about = "shoal: placement, membership and zero-copy messaging for agent swarms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Consistent-hash ring tools.
    Ring {
        #[command(subcommand)]
        command: RingCommand,
    },
    /// Fixed-partition table tools.
    Partitions {
        #[command(subcommand)]
        command: PartitionsCommand,
    },
    /// Side-by-side benchmarks against other libraries.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Simulate a cluster: convergence, failure detection, false failures, load.
    Sim(sim::Args),
    /// Run a member of a cluster: gossip over UDP, control over TCP on the same port;
    /// prints membership events until SIGINT or SIGTERM.
    Agent(agent::AgentArgs),
    /// Print a running agent's view: members with status and incarnation, placement
    /// digest, counters of rejected packets.
    Status(agent::StatusArgs),
    /// The live visualizer: a local cluster of agent processes with routed traffic and
    /// churn (kill -9, restart), served to a browser as a page, a JSON snapshot
    /// (/api/state) and server-sent events (/api/events) on 127.0.0.1.
    Demo(demo::Args),
    /// Shared cross-language test vectors.
    Vectors {
        #[command(subcommand)]
        command: VectorsCommand,
    },
}

#[derive(Subcommand)]
enum RingCommand {
    /// Balance and movement of a ring when one node is added and one removed.
    Analyze(analyze::Args),
}

#[derive(Subcommand)]
enum PartitionsCommand {
    /// Variance and collision probability vs vnodes (the source's figure 5).
    Sweep(sweep::Args),
    /// Balance of classic and balanced tables and movement on one join and one leave.
    Analyze(table_analyze::Args),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Lookup, replica and build timing of shoal vs other Rust hashing crates.
    Ring(bench::ring::Args),
    /// Round trips and throughput of the shared-memory bus vs a Unix socket between two
    /// pinned processes, and the pool's alloc + free cost.
    Bus(bench::bus::Args),
    /// Agent processes on loopback: time to full view, failure detection after kill -9.
    Cluster(bench::cluster::Args),
    /// Routed messages between two hosts (network namespaces) vs a plain TCP echo.
    Route(bench::route::Args),
}

#[derive(Subcommand)]
enum VectorsCommand {
    /// Regenerates the shared vectors into a folder.
    Write(vectors::Args),
    /// Checks that the vectors in a folder match this build.
    Check(vectors::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ring {
            command: RingCommand::Analyze(a),
        } => analyze::run(a),
        Command::Partitions {
            command: PartitionsCommand::Sweep(a),
        } => sweep::run(a),
        Command::Partitions {
            command: PartitionsCommand::Analyze(a),
        } => table_analyze::run(a),
        Command::Bench {
            command: BenchCommand::Ring(a),
        } => bench::ring::run(a),
        Command::Bench {
            command: BenchCommand::Bus(a),
        } => bench::bus::run(a),
        Command::Bench {
            command: BenchCommand::Cluster(a),
        } => bench::cluster::run(a),
        Command::Bench {
            command: BenchCommand::Route(a),
        } => bench::route::run(a),
        Command::Sim(a) => sim::run(a),
        Command::Agent(a) => agent::run_agent(a),
        Command::Status(a) => agent::run_status(a),
        Command::Demo(a) => demo::run(a),
        Command::Vectors {
            command: VectorsCommand::Write(a),
        } => vectors::write(a),
        Command::Vectors {
            command: VectorsCommand::Check(a),
        } => vectors::check(a),
    };
    if let Err(e) = result {
        eprintln!("shoal: error: {e}");
        std::process::exit(1);
    }
}
