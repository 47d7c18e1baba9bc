//! Fan-out: 1000 clients in one room, 10 of them sending at rising rates. Each target climbs the rate ladder until a
//! step loses or repeats a message, falls behind, has p99 above 200 ms, or the generator cannot keep up; its best
//! step is the last clean one. Parlor's best is then compared with the reference's best (the issue's ≥ 80 %), and
//! step by step at equal offered load.

use serde::Serialize;

use crate::load::{BroadcastMeasure, Swarm};
use crate::report::Line;
use crate::scenario::{progress, Comparison, Context};
use crate::spawn::Target;
use crate::stats;

/// Above this p99 the ladder stops: latency has left the range where more load means anything.
const P99_STOP_US: u64 = 200_000;

/// Time one target's ladder may take, so a run stays bounded however many steps pass.
const LADDER_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);
const LADDER_BUDGET_QUICK: std::time::Duration = std::time::Duration::from_secs(20);

/// The fan-out targets.
const DELIVERIES_GOAL: f64 = 400_000.0;
const P99_GOAL_US: u64 = 100_000;
const RATIO_GOAL: f64 = 0.8;

/// One rate step, for both targets.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutStep {
    /// Position on the ladder, from 1.
    pub step: usize,
    /// Messages per second per sender.
    pub rate_per_sender: f64,
    /// Both targets at this rate (a target is absent once its ladder stopped).
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// The outcome of the fan-out ladder.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutSummary {
    /// Parlor's last clean step.
    pub best_parlor: Option<BroadcastMeasure>,
    /// The reference's last clean step.
    pub best_reference: Option<BroadcastMeasure>,
    /// Parlor's best deliveries per second over the reference's best.
    pub ratio_of_best: Option<f64>,
    /// Why Parlor's ladder stopped.
    pub parlor_stop: Option<String>,
    /// Why the reference's ladder stopped.
    pub reference_stop: Option<String>,
}

/// Why a step ends the ladder, or `None` if it passed; notes other work on the pinned cores, which makes it suspect.
fn stop_reason(m: &BroadcastMeasure) -> Option<String> {
    let reason = failure(m)?;
    Some(match m.usage.interference_pct.filter(|_| m.usage.contended) {
        Some(others) => {
            format!("{reason} — but other processes took {others} % of a pinned core: rerun on an idle machine")
        }
        None => reason,
    })
}

fn failure(m: &BroadcastMeasure) -> Option<String> {
    if m.disconnects > 0 {
        return Some(format!("{} connections were closed by the server", m.disconnects));
    }
    if m.lost > 0 || m.duplicated > 0 {
        return Some(format!("loss: {} lost, {} duplicated", m.lost, m.duplicated));
    }
    if m.undelivered > 0 {
        return Some(format!("{} deliveries still missing when the drain ended (backlog)", m.undelivered));
    }
    if m.errors > 0 {
        return Some(format!("{} error events ({})", m.errors, m.first_error.as_deref().unwrap_or("?")));
    }
    if m.latency.p99_us > P99_STOP_US {
        return Some(format!("p99 {} ms > {} ms", m.latency.p99_us / 1000, P99_STOP_US / 1000));
    }
    let behind = !m.clean();
    if m.generator_behind || (behind && m.usage.generator_saturated) {
        return Some(format!(
            "the load generator could not keep up (sent {} of {} msg/s, generator CPU {} %, server CPU {} %)",
            m.sent_per_s, m.offered_msgs_per_s, m.usage.generator_cpu_pct, m.usage.server_cpu_pct
        ));
    }
    if behind {
        return Some(format!(
            "deliveries fell behind ({} of {} /s, server CPU {} %)",
            m.deliveries_per_s, m.expected_deliveries_per_s, m.usage.server_cpu_pct
        ));
    }
    None
}

/// Climbs the ladder for one target; returns every step measured and why it stopped.
async fn ladder(ctx: &Context, target: Target) -> anyhow::Result<(Vec<BroadcastMeasure>, String)> {
    let settings = &ctx.settings;
    let (clients, senders) = (settings.fanout_clients, settings.fanout_senders);
    progress(format_args!("fan-out: {clients} clients, {senders} senders, against {}", target.name()));
    let mut server = ctx.start(target, "fanout")?;
    let swarm = Swarm::connect(&server, clients, senders, &ctx.sources, ctx.epoch).await?;
    let mut steps = Vec::new();
    let mut stop = "every rate on the ladder passed".to_owned();
    let budget = if settings.quick { LADDER_BUDGET_QUICK } else { LADDER_BUDGET };
    let started = std::time::Instant::now();
    for &rate in &settings.fanout_rates {
        if started.elapsed() > budget {
            stop = format!("the ladder's time budget ({} s) ran out", budget.as_secs());
            break;
        }
        let measure = swarm.step(rate, &settings.timing, &ctx.probe(&server)).await?;
        progress(format_args!(
            "  {rate} msg/s/sender: {} deliveries/s (expected {}), p99 {} µs, lost {}, server CPU {} %, generator CPU {} %",
            measure.deliveries_per_s,
            measure.expected_deliveries_per_s,
            measure.latency.p99_us,
            measure.lost,
            measure.usage.server_cpu_pct,
            measure.usage.generator_cpu_pct
        ));
        let reason = stop_reason(&measure);
        steps.push(measure);
        if let Some(reason) = reason {
            stop = reason;
            break;
        }
        if !server.running() {
            stop = format!("the server exited: {}", server.log_tail());
            break;
        }
    }
    swarm.close();
    server.stop().await;
    Ok((steps, stop))
}

/// Runs the ladder on each target, then reports each step and the summary.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    let mut parlor = (Vec::new(), None);
    let mut reference = (Vec::new(), None);
    for target in ctx.targets() {
        let (steps, stop) = ladder(ctx, target).await?;
        let slot = if target == Target::Parlor { &mut parlor } else { &mut reference };
        *slot = (steps, Some(stop));
    }
    let rungs = parlor.0.len().max(reference.0.len());
    for index in 0..rungs {
        let comparison = Comparison::new(parlor.0.get(index).cloned(), reference.0.get(index).cloned());
        let rate = ctx.settings.fanout_rates.get(index).copied().unwrap_or_default();
        ctx.reporter.emit(Line::FanoutStep(FanoutStep { step: index + 1, rate_per_sender: rate, comparison }))?;
    }
    let best = |steps: &[BroadcastMeasure]| steps.iter().rfind(|m| stop_reason(m).is_none()).cloned();
    let (best_parlor, best_reference) = (best(&parlor.0), best(&reference.0));
    let ratio_of_best = match (&best_parlor, &best_reference) {
        (Some(p), Some(r)) => stats::ratio(p.deliveries_per_s, r.deliveries_per_s),
        _ => None,
    };
    if ctx.settings.parlor {
        let (measured, met) = match &best_parlor {
            Some(best) => (
                format!(
                    "{} deliveries/s at {} msg/s/sender, p99 {} ms, {} clients",
                    best.deliveries_per_s,
                    best.rate_per_sender,
                    best.latency.p99_us / 1000,
                    best.clients
                ),
                best.deliveries_per_s >= DELIVERIES_GOAL && best.latency.p99_us <= P99_GOAL_US && best.clients >= 1000,
            ),
            None => ("no clean step".to_owned(), false),
        };
        // A ladder stopped by the generator or by other work says nothing about the server's limit.
        let generator_limited =
            parlor.1.as_deref().is_some_and(|stop| stop.contains("generator") || stop.contains("idle machine"));
        let small = ctx.settings.fanout_clients < 1000;
        let met = if !met && (generator_limited || small) { None } else { Some(met) };
        let measured = if small { format!("{measured} (the goal is for 1000 clients)") } else { measured };
        let goal = "1000 clients: ≥ 400k deliveries/s, no loss, p99 ≤ 100 ms, persistence on";
        ctx.goal("fanout_deliveries", goal, measured, met);
        if let (Some(ratio), Some(p), Some(r)) = (ratio_of_best, &best_parlor, &best_reference) {
            let met = if ratio < RATIO_GOAL && generator_limited { None } else { Some(ratio >= RATIO_GOAL) };
            let measured = format!(
                "{ratio} (Parlor {} deliveries/s at {}/s/sender, reference {} at {}/s/sender)",
                p.deliveries_per_s, p.rate_per_sender, r.deliveries_per_s, r.rate_per_sender
            );
            ctx.goal("fanout_vs_reference", "≥ 80 % of the bare reference's best", measured, met);
        }
    }
    let summary = FanoutSummary {
        best_parlor,
        best_reference,
        ratio_of_best,
        parlor_stop: parlor.1,
        reference_stop: reference.1,
    };
    ctx.reporter.emit(Line::Fanout(summary))
}
