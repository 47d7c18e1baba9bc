//! `parlor-bench run`: prepare this process (open files, CPU pin), describe the machine, run the scenarios on a
//! single-threaded runtime, and finish with the summary line and the tables.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::cli::{RunArgs, Scenario};
use crate::client::Sources;
use crate::machine::Machine;
use crate::report::{Line, Reporter, Summary};
use crate::scenario::{self, progress, Context};
use crate::spawn::{self, ServerSpec};
use crate::{procfs, stats, sys, table};

/// Hard bounds on a whole run, however the scenarios behave.
const RUN_BOUND: Duration = Duration::from_secs(15 * 60);
const QUICK_RUN_BOUND: Duration = Duration::from_secs(3 * 60);

/// Ephemeral ports used per loopback source address: most of the range, leaving room for other programs.
fn ports_per_source() -> u64 {
    sys::ephemeral_ports() * 3 / 4
}

/// Runs the benchmark as `args` asks.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let open_files = match sys::raise_open_files() {
        Ok(limit) => limit,
        Err(err) => {
            progress(format_args!("warning: {err:#}"));
            sys::open_files_limits().map_or(1024, |(soft, _)| soft)
        }
    };
    let cpus = sys::available_cpus();
    let pin = !args.no_pin && cpus >= 2;
    if !args.no_pin && !pin {
        progress(format_args!("warning: only one CPU available; servers and generator share it (not pinned)"));
    }
    if pin {
        // Before the runtime exists, so every thread created later inherits the generator's CPU.
        sys::pin_self(args.generator_cpu)?;
    }
    let settings = args.settings(procfs::mem_total());
    let parlor = args.server.clone().unwrap_or_else(spawn::default_parlor_binary);
    if settings.parlor && !parlor.is_file() {
        bail!(
            "parlor-server not found at {}: build it with `cargo build --release -p parlor-server` or pass --server",
            parlor.display()
        );
    }
    let scratch = tempfile::Builder::new().prefix("parlor-bench-").tempdir().context("creating a scratch directory")?;
    let spec = ServerSpec {
        parlor,
        bench: std::env::current_exe().context("finding this binary")?,
        cpu: pin.then_some(args.server_cpu),
        scratch: scratch.path().to_owned(),
    };
    let mut reporter = Reporter::new(args.out.as_deref())?;
    let machine = Machine::describe(cpus, &spec.parlor, open_files, spec.cpu, pin.then_some(args.generator_cpu));
    if machine.load_avg_1m.is_some_and(|load| load > 0.5) {
        progress(format_args!(
            "note: load average {} at start — other work is running; figures will be lower than on an idle machine",
            machine.load_avg_1m.unwrap_or_default()
        ));
    }
    reporter.emit(Line::Machine(Box::new(machine)))?;

    let quick = settings.quick;
    let mut ctx = Context {
        spec,
        sources: Sources::new(ports_per_source()),
        epoch: Instant::now(),
        ticks: sys::clock_ticks(),
        generator_cpu: pin.then_some(args.generator_cpu),
        open_files,
        settings,
        reporter,
        goals: Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    let local = tokio::task::LocalSet::new();
    let bound = if quick { QUICK_RUN_BOUND } else { RUN_BOUND };
    let failures = local.block_on(&runtime, async {
        match tokio::time::timeout(bound, scenarios(&mut ctx, args.scenario)).await {
            Ok(failures) => failures,
            Err(_) => vec![format!("the run exceeded its bound of {} s and was stopped", bound.as_secs())],
        }
    });
    // Tasks still holding connections (a scenario that failed midway) end with the runtime.
    drop(local);
    drop(runtime);
    let summary =
        Summary { quick, duration_s: stats::round2(started.elapsed().as_secs_f64()), goals: ctx.goals.clone() };
    ctx.reporter.emit(Line::Summary(summary))?;
    eprintln!("\n{}", table::render(ctx.reporter.lines()));
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

/// Runs the chosen scenarios in order, carrying on past a failed one; returns what failed.
async fn scenarios(ctx: &mut Context, which: Scenario) -> Vec<String> {
    let wanted = |scenario| which == Scenario::All || which == scenario;
    let mut failures = Vec::new();
    if wanted(Scenario::Classroom) {
        if let Err(err) = scenario::classroom::run(ctx).await {
            failures.push(format!("classroom: {err:#}"));
        }
    }
    if wanted(Scenario::Fanout) {
        if let Err(err) = scenario::fanout::run(ctx).await {
            failures.push(format!("fan-out: {err:#}"));
        }
    }
    if wanted(Scenario::Persistence) {
        if let Err(err) = scenario::persistence::run(ctx).await {
            failures.push(format!("persistence: {err:#}"));
        }
    }
    if wanted(Scenario::Idle) {
        if let Err(err) = scenario::idle::run(ctx).await {
            failures.push(format!("idle: {err:#}"));
        }
    }
    for failure in &failures {
        progress(format_args!("FAILED {failure}"));
    }
    failures
}
