//! Idle connections: how much memory a greeted, silent connection costs, and how many the machine holds.
//!
//! Clients connect and send `hello` (they answer the server's pings and read what it sends, nothing more). They do
//! not join a room: with everyone in one room each join is a broadcast to all (N² frames to set up), and spreading
//! them over many rooms makes every `welcome` list all those rooms — either would measure the setup, not the idle
//! connection. Memory per connection is (server RSS now − RSS before any client) / connections.
//!
//! The ramp (e.g. 10k, 20k, 50k, 100k, …) stops at the first step where a connection fails or is dropped, the
//! server's memory passes a bound, the machine runs low on memory, or the open-files limit is reached.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::client::{self, Ws};
use crate::load::nick;
use crate::procfs;
use crate::report::Line;
use crate::scenario::{bytes, progress, Context};
use crate::spawn::{ServerProcess, Target};
use crate::stats;

/// Handshakes in progress at once: below the servers' listen backlog (128, tokio's default), or a server that is
/// briefly busy overflows its accept queue and clients wait a second for the SYN to be retransmitted.
const CONNECT_CONCURRENCY: usize = 100;

/// File descriptors kept free for everything that is not a benchmark connection.
const SPARE_FILES: u64 = 256;

/// The targets.
const BYTES_GOAL: f64 = 8.0 * 1024.0;
const HELD_GOAL: usize = 100_000;

/// One level of the ramp.
#[derive(Debug, Clone, Serialize)]
pub struct IdleStep {
    /// The server measured.
    pub target: Target,
    /// Connections open at this level.
    pub connections: usize,
    /// Server resident memory before any benchmark connection, bytes.
    pub baseline_rss_bytes: u64,
    /// Server resident memory at this level once it settled, bytes.
    pub server_rss_bytes: u64,
    /// (RSS − baseline) / connections.
    pub bytes_per_connection: f64,
    /// The generator's own resident memory, bytes.
    pub generator_rss_bytes: u64,
    /// Seconds it took to open this step's new connections.
    pub connect_s: f64,
    /// New connections opened per second during the step.
    pub connects_per_s: f64,
    /// Connections the server dropped after they were open.
    pub dropped: u64,
    /// Whether every connection opened and stayed open.
    pub ok: bool,
    /// What went wrong, if anything.
    pub note: Option<String>,
}

/// The outcome of the idle scenario.
#[derive(Debug, Clone, Serialize)]
pub struct IdleSummary {
    /// Parlor's memory per idle connection at the first level.
    pub parlor_bytes_per_connection: Option<f64>,
    /// The reference's memory per idle connection at its level.
    pub reference_bytes_per_connection: Option<f64>,
    /// Parlor's per-connection memory over the reference's.
    pub ratio: Option<f64>,
    /// The most connections Parlor held with none failing or dropped.
    pub most_held: usize,
    /// Why the ramp stopped.
    pub stop: String,
    /// The open-files limit each process had; it caps the ramp unless raised.
    pub open_files_limit: u64,
    /// Loopback source addresses the generator's sockets used so far in the run.
    pub source_addresses_used: u64,
}

/// The connections held so far and how many the server dropped.
#[derive(Debug, Default)]
struct Held {
    tasks: Vec<JoinHandle<()>>,
    dropped: Rc<Cell<u64>>,
}

impl Held {
    fn hold(&mut self, mut ws: Ws) {
        let dropped = self.dropped.clone();
        self.tasks.push(tokio::task::spawn_local(async move {
            // Reading answers the server's pings; an idle client has nothing else to do.
            while let Some(Ok(_)) = ws.next().await {}
            dropped.set(dropped.get() + 1);
        }));
    }
}

impl Drop for Held {
    /// Ends every held connection (a task's handle alone would not).
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Runs the ramp on Parlor and one level on the reference; reports each level and the summary.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    let budget = if ctx.settings.quick { Duration::from_secs(30) } else { Duration::from_secs(210) };
    let deadline = Instant::now() + budget;
    let cap = usize::try_from(ctx.open_files.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
    let mut steps: Vec<usize> = ctx.settings.idle_steps.iter().copied().filter(|&n| n <= cap).collect();
    let capped = ctx.settings.idle_steps.iter().any(|&n| n > cap);
    if capped && steps.last().is_none_or(|&last| last < cap) {
        steps.push(cap);
    }
    let mut summary = IdleSummary {
        parlor_bytes_per_connection: None,
        reference_bytes_per_connection: None,
        ratio: None,
        most_held: 0,
        stop: "every level was held".to_owned(),
        open_files_limit: ctx.open_files,
        source_addresses_used: 0,
    };
    if ctx.settings.parlor {
        let (levels, stop) = ramp(ctx, Target::Parlor, &steps, deadline).await?;
        summary.parlor_bytes_per_connection = levels.first().filter(|l| l.ok).map(|l| l.bytes_per_connection);
        summary.most_held = levels.iter().filter(|l| l.ok).map(|l| l.connections).max().unwrap_or(0);
        summary.stop = match stop {
            Some(stop) => stop,
            None if capped => {
                format!("reached the open-files limit ({}); raise `ulimit -Hn` to go further", ctx.open_files)
            }
            None => summary.stop,
        };
        for level in levels {
            ctx.reporter.emit(Line::IdleStep(level))?;
        }
    }
    if ctx.settings.reference {
        let level = ctx.settings.idle_reference.min(cap);
        let deadline = Instant::now() + Duration::from_secs(60);
        let (levels, _) = ramp(ctx, Target::Reference, &[level], deadline).await?;
        summary.reference_bytes_per_connection = levels.first().filter(|l| l.ok).map(|l| l.bytes_per_connection);
        for level in levels {
            ctx.reporter.emit(Line::IdleStep(level))?;
        }
    }
    summary.source_addresses_used = ctx.sources.addresses_used();
    if let (Some(parlor), Some(reference)) =
        (summary.parlor_bytes_per_connection, summary.reference_bytes_per_connection)
    {
        summary.ratio = stats::ratio(parlor, reference);
    }
    if ctx.settings.parlor {
        if let Some(per) = summary.parlor_bytes_per_connection {
            let first = steps.first().copied().unwrap_or(0);
            let measured = format!("{} per connection at {first} connections", bytes(per as u64));
            ctx.goal("idle_memory", "≤ 8 kB (8192 B) per idle connection", measured, Some(per <= BYTES_GOAL));
        }
        let held = summary.most_held;
        let asked = ctx.settings.idle_steps.iter().copied().max().unwrap_or(0);
        let met = if held < HELD_GOAL && (capped || asked < HELD_GOAL) { None } else { Some(held >= HELD_GOAL) };
        let measured = format!("{held} held ({})", summary.stop);
        ctx.goal("idle_held", "100k concurrent connections held", measured, met);
    }
    ctx.reporter.emit(Line::Idle(summary))
}

/// Opens connections level by level; returns the levels measured and why the ramp stopped early, if it did.
async fn ramp(
    ctx: &Context,
    target: Target,
    levels: &[usize],
    deadline: Instant,
) -> anyhow::Result<(Vec<IdleStep>, Option<String>)> {
    progress(format_args!("idle: ramp {levels:?} against {}", target.name()));
    let mut server = ctx.start(target, "idle")?;
    let pid = server.pid();
    settle(pid, ctx.ticks).await;
    let baseline = procfs::sample(pid)?.rss_bytes;
    let mut held = Held::default();
    let mut measured = Vec::new();
    let mut stop = None;
    for &level in levels {
        let started = Instant::now();
        let from = held.tasks.len();
        let problem = open(ctx, &server, from..level, &mut held, deadline).await;
        let connect = started.elapsed();
        settle(pid, ctx.ticks).await;
        let rss = procfs::sample(pid)?.rss_bytes;
        let dropped = held.dropped.get();
        let open_now = held.tasks.len();
        let mut note = problem;
        if dropped > 0 {
            note = Some(format!("the server dropped {dropped} connections"));
        }
        if !server.running() {
            note = Some(format!("the server exited: {}", server.log_tail()));
        }
        let step = IdleStep {
            target,
            connections: open_now,
            baseline_rss_bytes: baseline,
            server_rss_bytes: rss,
            bytes_per_connection: if open_now > 0 {
                stats::round2(rss.saturating_sub(baseline) as f64 / open_now as f64)
            } else {
                0.0
            },
            generator_rss_bytes: procfs::sample(None)?.rss_bytes,
            connect_s: stats::round2(connect.as_secs_f64()),
            connects_per_s: stats::per_second((open_now - from) as u64, connect),
            dropped,
            ok: note.is_none() && open_now == level,
            note: note.clone(),
        };
        progress(format_args!(
            "  {open_now} connections: server RSS {}, {} per connection, opened at {}/s{}",
            bytes(rss),
            bytes(step.bytes_per_connection as u64),
            step.connects_per_s,
            note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default()
        ));
        let ok = step.ok;
        measured.push(step);
        if !ok {
            stop = Some(note.unwrap_or_else(|| format!("only {open_now} of {level} connections opened in time")));
            break;
        }
        if rss > ctx.settings.idle_max_rss_bytes {
            stop = Some(format!("server memory passed the bound of {}", bytes(ctx.settings.idle_max_rss_bytes)));
            break;
        }
        let low = procfs::mem_available().zip(procfs::mem_total()).is_some_and(|(free, total)| free < total / 10);
        if low {
            stop = Some("the machine has less than 10 % of its memory left".to_owned());
            break;
        }
    }
    drop(held);
    server.stop().await;
    Ok((measured, stop))
}

/// Opens connections `range` (greeting them on Parlor) until all are open, one fails, or the deadline passes;
/// returns what went wrong, if anything.
async fn open(
    ctx: &Context,
    server: &ServerProcess,
    range: std::ops::Range<usize>,
    held: &mut Held,
    deadline: Instant,
) -> Option<String> {
    let (addr, target) = (server.addr, server.target);
    let config = client::ws_config(2 * 1024);
    let attempts = range.map(|index| (index, ctx.sources.next())).map(|(index, source)| async move {
        let open = async {
            let mut ws = client::connect(addr, source, config).await?;
            if target == Target::Parlor {
                client::hello(&mut ws, &nick(index)).await?;
            }
            anyhow::Ok(ws)
        };
        tokio::time::timeout(client::GREET_TIMEOUT, open).await.context("timed out")?
    });
    let mut attempts = futures_util::stream::iter(attempts).buffer_unordered(CONNECT_CONCURRENCY);
    let deadline = tokio::time::Instant::from_std(deadline);
    loop {
        match tokio::time::timeout_at(deadline, attempts.next()).await {
            Ok(Some(Ok(ws))) => held.hold(ws),
            Ok(Some(Err(err))) => return Some(format!("a connection failed: {err:#}")),
            Ok(None) => return None,
            Err(_) => return Some("the scenario's time budget ran out".to_owned()),
        }
    }
}

/// Waits until the server's CPU use stays under 5 % for a quarter second (at most 15 s), so memory is read at rest.
async fn settle(pid: Option<u32>, ticks: u64) {
    let give_up = Instant::now() + Duration::from_secs(15);
    let Ok(mut last) = procfs::sample(pid) else { return };
    while Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Ok(now) = procfs::sample(pid) else { return };
        if procfs::cpu_percent(&last, &now, ticks) < 5.0 {
            return;
        }
        last = now;
    }
}
