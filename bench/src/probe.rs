//! What the server and the generator used during a window: their CPU and memory, and how busy their two cores were
//! in total — the difference is other work on the machine, which makes a figure unreliable and is flagged.

use serde::Serialize;

use crate::procfs::{self, ProcSample};

/// More CPU than this (percent of a core) taken by others on a pinned core marks a window as contended.
const INTERFERENCE_LIMIT_PCT: f64 = 10.0;

/// Above this CPU use (percent of its core) the generator itself may be what limits a step.
const GENERATOR_BUSY_PCT: f64 = 90.0;

/// Where to look: the server process, and the cores both are pinned to.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The server process.
    pub server_pid: Option<u32>,
    /// The server's core, if pinned.
    pub server_core: Option<usize>,
    /// The generator's core, if pinned.
    pub generator_core: Option<usize>,
    /// Clock ticks per second of /proc CPU times.
    pub ticks: u64,
}

/// One reading of everything a [`Probe`] watches.
#[derive(Debug, Clone)]
pub struct Reading {
    server: ProcSample,
    generator: ProcSample,
    server_core: Option<procfs::CoreSample>,
    generator_core: Option<procfs::CoreSample>,
}

impl Reading {
    /// When the reading was taken.
    pub fn at(&self) -> std::time::Instant {
        self.server.at
    }
}

/// Resource use over a window.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// Server CPU (all its threads), percent of one core.
    pub server_cpu_pct: f64,
    /// Server resident memory at the end, bytes.
    pub server_rss_bytes: u64,
    /// Generator CPU, percent of one core.
    pub generator_cpu_pct: f64,
    /// Generator resident memory at the end, bytes.
    pub generator_rss_bytes: u64,
    /// How busy the server's core was in total, percent.
    pub server_core_busy_pct: Option<f64>,
    /// How busy the generator's core was in total, percent.
    pub generator_core_busy_pct: Option<f64>,
    /// The most CPU other processes took on either pinned core, percent of a core.
    pub interference_pct: Option<f64>,
    /// The most of either pinned core a hypervisor gave to other guests (part of `interference_pct`), percent.
    pub steal_pct: Option<f64>,
    /// Other work took more than 10 % of a pinned core: the figures understate what this machine can do.
    pub contended: bool,
    /// The generator was busier than 90 %: the figures may be limited by it, not by the server.
    pub generator_saturated: bool,
}

impl Probe {
    /// Reads the server, this process and the pinned cores.
    pub fn read(&self) -> anyhow::Result<Reading> {
        Ok(Reading {
            server: procfs::sample(self.server_pid)?,
            generator: procfs::sample(None)?,
            server_core: self.server_core.and_then(procfs::core_sample),
            generator_core: self.generator_core.and_then(procfs::core_sample),
        })
    }

    /// What was used between two readings.
    pub fn usage(&self, start: &Reading, end: &Reading) -> Usage {
        let server_cpu_pct = procfs::cpu_percent(&start.server, &end.server, self.ticks);
        let generator_cpu_pct = procfs::cpu_percent(&start.generator, &end.generator, self.ticks);
        let busy = |a: &Option<procfs::CoreSample>, b: &Option<procfs::CoreSample>| match (a, b) {
            (Some(a), Some(b)) => procfs::core_busy_percent(a, b),
            _ => None,
        };
        let steal = |a: &Option<procfs::CoreSample>, b: &Option<procfs::CoreSample>| match (a, b) {
            (Some(a), Some(b)) => procfs::core_steal_percent(a, b),
            _ => None,
        };
        let steal_pct =
            match (steal(&start.server_core, &end.server_core), steal(&start.generator_core, &end.generator_core)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        let server_core_busy_pct = busy(&start.server_core, &end.server_core);
        let generator_core_busy_pct = busy(&start.generator_core, &end.generator_core);
        let others = |core: Option<f64>, ours: f64| core.map(|core| (core - ours).max(0.0));
        let interference_pct =
            match (others(server_core_busy_pct, server_cpu_pct), others(generator_core_busy_pct, generator_cpu_pct)) {
                (Some(a), Some(b)) => Some(crate::stats::round2(a.max(b))),
                (a, b) => a.or(b),
            };
        Usage {
            server_cpu_pct,
            server_rss_bytes: end.server.rss_bytes,
            generator_cpu_pct,
            generator_rss_bytes: end.generator.rss_bytes,
            server_core_busy_pct,
            generator_core_busy_pct,
            interference_pct,
            steal_pct,
            contended: interference_pct.is_some_and(|pct| pct > INTERFERENCE_LIMIT_PCT),
            generator_saturated: generator_cpu_pct > GENERATOR_BUSY_PCT,
        }
    }
}
