//! # parlor-bench
//!
//! Parlor's load generator. It starts parlor-server (release build, fresh data directory, rate limits lifted) and a
//! bare tokio-tungstenite broadcast server — the reference — each pinned to one CPU, pins itself to another, and
//! drives both with real WebSocket clients over loopback. Every figure comes with the same figure for the reference,
//! so it can be read as "what Parlor costs over the bare library on this machine".
//!
//! ## Layout
//! - `cli`, `runner`: the command line, and a run from start to summary.
//! - `scenario`: classroom, fan-out, idle, persistence — one module each.
//! - `load`: a swarm of clients in one room, paced senders, measured steps.
//! - `client`: connecting from rotating loopback source addresses, greeting.
//! - `wire`: the requests sent and the minimal scan of the events received.
//! - `seq`, `stats`: sequence checking (loss, duplicates) and latency percentiles.
//! - `spawn`, `sys`: server processes; open-files limits, CPU pinning, signals.
//! - `procfs`, `probe`, `machine`: /proc sampling, resource use over a window (and interference), machine facts.
//! - `reference`: the reference server (`parlor-bench reference-server`).
//! - `report`, `table`: JSON lines and the tables at the end.

mod cli;
mod client;
mod load;
mod machine;
mod probe;
mod procfs;
mod reference;
mod report;
mod runner;
mod scenario;
mod seq;
mod spawn;
mod stats;
mod sys;
mod table;
mod wire;

use anyhow::bail;
use clap::Parser;

/// Parses the command line and does what it says.
pub fn main() -> anyhow::Result<()> {
    match cli::Cli::parse().command {
        cli::Command::Run(args) => runner::run(args),
        cli::Command::ReferenceServer { bind } => {
            if !bind.ip().is_loopback() {
                bail!("the reference server is for benchmarks on this machine: bind a loopback address, not {bind}");
            }
            reference::main(bind)
        }
    }
}
