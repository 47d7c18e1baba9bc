//! The four scenarios, and what they share: server settings, source addresses, the clock, the report.
//!
//! - [`classroom`]: 40 clients in one room, every one sending 1 message/s.
//! - [`fanout`]: 1000 clients in one room, 10 senders at rising rates until something gives.
//! - [`idle`]: as many greeted, silent connections as the machine holds, and the memory each costs.
//! - [`persistence`]: senders flooding with a window of unacknowledged sends; acks only follow commits.
//!
//! Each scenario starts its own servers (fresh data directory, pinned to the server CPU) and stops them when done,
//! so one scenario's state never colours another's figures.

pub mod classroom;
pub mod fanout;
pub mod idle;
pub mod persistence;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Sources;
use crate::load::{BroadcastMeasure, Timing};
use crate::probe::Probe;
use crate::report::Reporter;
use crate::spawn::{ServerProcess, ServerSpec, Target};
use crate::stats;

/// Settings of a run, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Short phases and small sizes, for a smoke run.
    pub quick: bool,
    /// Whether parlor-server is measured.
    pub parlor: bool,
    /// Whether the reference server is measured.
    pub reference: bool,
    /// Phases of every broadcast step (classroom uses a longer window).
    pub timing: Timing,
    /// Classroom size; every member sends.
    pub classroom_clients: usize,
    /// Fan-out room size.
    pub fanout_clients: usize,
    /// Fan-out senders.
    pub fanout_senders: usize,
    /// Fan-out rates per sender, tried in order until a step fails.
    pub fanout_rates: Vec<f64>,
    /// Idle connection counts to reach, in order.
    pub idle_steps: Vec<usize>,
    /// Connections the reference holds in the idle comparison.
    pub idle_reference: usize,
    /// Stop the idle ramp once the server's memory passes this.
    pub idle_max_rss_bytes: u64,
    /// Persistence senders, each in its own room.
    pub persistence_senders: usize,
    /// Unacknowledged sends each persistence sender keeps in flight.
    pub persistence_in_flight: usize,
}

/// What every scenario uses.
#[derive(Debug)]
pub struct Context {
    /// How to start servers.
    pub spec: ServerSpec,
    /// Loopback source addresses for client sockets.
    pub sources: Sources,
    /// Zero of the send stamps.
    pub epoch: Instant,
    /// Clock ticks per second of /proc CPU times.
    pub ticks: u64,
    /// The generator's CPU, if pinned.
    pub generator_cpu: Option<usize>,
    /// Open files the generator and servers may each hold.
    pub open_files: u64,
    /// The run's settings.
    pub settings: Settings,
    /// Where results go.
    pub reporter: Reporter,
    /// The targets, as measured so far.
    pub goals: Vec<Goal>,
}

impl Context {
    /// The targets this run measures, Parlor first.
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        if self.settings.parlor {
            targets.push(Target::Parlor);
        }
        if self.settings.reference {
            targets.push(Target::Reference);
        }
        targets
    }

    /// Starts a server for a scenario; the label names its data directory.
    pub fn start(&self, target: Target, scenario: &str) -> anyhow::Result<ServerProcess> {
        let server = ServerProcess::start(&self.spec, target, &format!("{scenario}-{}", target.name()))?;
        progress(format_args!("  {} listening on {} (pid {})", target.name(), server.url(), server.pid().unwrap_or(0)));
        Ok(server)
    }

    /// A probe of `server` and the pinned cores.
    pub fn probe(&self, server: &ServerProcess) -> Probe {
        Probe {
            server_pid: server.pid(),
            server_core: self.spec.cpu,
            generator_core: self.generator_cpu,
            ticks: self.ticks,
        }
    }

    /// Records whether one of the targets was met.
    pub fn goal(&mut self, name: &'static str, goal: &str, measured: String, met: Option<bool>) {
        let note = self.settings.quick.then(|| "quick run: indicative only".to_owned());
        self.goals.push(Goal { name, goal: goal.to_owned(), measured, met, note });
    }
}

/// One of the performance targets and how this run did against it.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    /// Short name, e.g. `fanout_deliveries`.
    pub name: &'static str,
    /// The target, in words.
    pub goal: String,
    /// What was measured.
    pub measured: String,
    /// Whether it was met; `None` when this run could not tell.
    pub met: Option<bool>,
    /// A caveat, e.g. for quick runs.
    pub note: Option<String>,
}

/// Parlor and the reference measured the same way, and how they compare.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// parlor-server's figures.
    pub parlor: Option<BroadcastMeasure>,
    /// The reference's figures.
    pub reference: Option<BroadcastMeasure>,
    /// Parlor's deliveries per second over the reference's.
    pub ratio_deliveries: Option<f64>,
    /// Parlor's p99 latency over the reference's (lower is better for Parlor).
    pub ratio_p99: Option<f64>,
}

impl Comparison {
    /// Pairs two measurements of the same step.
    pub fn new(parlor: Option<BroadcastMeasure>, reference: Option<BroadcastMeasure>) -> Self {
        let (ratio_deliveries, ratio_p99) = match (&parlor, &reference) {
            (Some(p), Some(r)) => (
                stats::ratio(p.deliveries_per_s, r.deliveries_per_s),
                stats::ratio(p.latency.p99_us as f64, r.latency.p99_us as f64),
            ),
            _ => (None, None),
        };
        Self { parlor, reference, ratio_deliveries, ratio_p99 }
    }
}

/// A progress line on stderr (stdout carries only JSON).
pub fn progress(message: std::fmt::Arguments<'_>) {
    eprintln!("{message}");
}

/// Seconds as a `Duration`, for settings given as fractional seconds.
pub fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.max(0.0))
}

/// A byte count for people: `12.3 MiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(8 * 1024), "8.0 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
    }
}
