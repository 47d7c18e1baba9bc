//! Persistence: senders flood their own rooms, each keeping a window of sends in flight, and the figure is acks per
//! second — the server acks only after the message is committed. Then the server is killed with SIGKILL (no clean
//! shutdown, no checkpoint), restarted on the same data, and every acked message must still be there.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Ws};
use crate::load::{nanos_since, nick};
use crate::probe::Usage;
use crate::report::Line;
use crate::scenario::{progress, Context};
use crate::spawn::{ServerProcess, Target};
use crate::stats::{self, Latency};
use crate::wire::{self, Event, Stamp};

/// The target: messages stored per second with ack-after-commit.
const ACKS_GOAL: f64 = 100_000.0;

/// What the persistence scenario measured.
#[derive(Debug, Clone, Serialize)]
pub struct PersistenceMeasure {
    /// Senders, each alone in its own room.
    pub senders: usize,
    /// Sends each keeps unacknowledged.
    pub in_flight_per_sender: usize,
    /// Length of the measured window, seconds.
    pub window_s: f64,
    /// Acks received per second in the window: messages stored.
    pub acks_per_s: f64,
    /// Send-to-ack latency.
    pub ack_latency: Latency,
    /// `error` events (e.g. `storage_failed`).
    pub errors: u64,
    /// The first error code, if any.
    pub first_error: Option<String>,
    /// Acks whose `seq` was not the room's next one.
    pub out_of_order: u64,
    /// CPU and memory over the window (the server's CPU includes its SQLite writer thread), and interference.
    #[serde(flatten)]
    pub usage: Usage,
    /// Messages acked over the whole run.
    pub acked_total: u64,
    /// Messages found after the kill and restart (the rooms' `last_seq`); must be at least `acked_total`.
    pub found_after_kill: Option<u64>,
    /// Whether every acked message survived the kill.
    pub durable: Option<bool>,
}

/// State the flooding clients share.
#[derive(Debug)]
struct Flood {
    epoch: Instant,
    running: Cell<bool>,
    measuring: Cell<bool>,
    acks_in_window: Cell<u64>,
    latency: RefCell<Histogram<u64>>,
    errors: Cell<u64>,
    first_error: RefCell<Option<String>>,
    out_of_order: Cell<u64>,
    /// Per sender: the last acked `seq` (its room's count, as each room starts empty).
    acked: RefCell<Vec<u64>>,
    /// Per sender: sends not yet acked.
    in_flight: Vec<Cell<usize>>,
    /// Per sender: when each unacked send went, oldest first.
    sent_at: Vec<RefCell<VecDeque<Instant>>>,
    /// Per sender: wakes the writer when an ack frees a slot.
    wake: Vec<Notify>,
}

impl Flood {
    fn on_frame(&self, me: usize, text: &str) {
        let answered = match wire::scan(text) {
            Event::Ack { seq } => {
                let mut acked = self.acked.borrow_mut();
                if seq != acked[me] + 1 {
                    self.out_of_order.set(self.out_of_order.get() + 1);
                }
                acked[me] = acked[me].max(seq);
                true
            }
            Event::Error { code } => {
                self.errors.set(self.errors.get() + 1);
                self.first_error.borrow_mut().get_or_insert(code);
                true
            }
            _ => false,
        };
        if answered {
            let sent = self.sent_at[me].borrow_mut().pop_front();
            if self.measuring.get() {
                self.acks_in_window.set(self.acks_in_window.get() + 1);
                if let Some(sent) = sent {
                    stats::record(&mut self.latency.borrow_mut(), sent.elapsed());
                }
            }
            self.in_flight[me].set(self.in_flight[me].get().saturating_sub(1));
            self.wake[me].notify_one();
        }
    }

    fn pending(&self) -> usize {
        self.in_flight.iter().map(Cell::get).sum()
    }
}

async fn read_acks(mut source: SplitStream<Ws>, me: usize, flood: Rc<Flood>) {
    while let Some(Ok(message)) = source.next().await {
        if let Message::Text(text) = message {
            flood.on_frame(me, text.as_str());
        }
    }
}

async fn write_sends(mut sink: SplitSink<Ws, Message>, me: usize, window: usize, flood: Rc<Flood>) {
    let room = room(me);
    let mut counter = 0;
    while flood.running.get() {
        let mut fed = false;
        while flood.in_flight[me].get() < window && flood.running.get() {
            counter += 1;
            let now = Instant::now();
            let stamp = Stamp { sent_ns: nanos_since(flood.epoch, now), sender: me as u32 };
            flood.sent_at[me].borrow_mut().push_back(now);
            flood.in_flight[me].set(flood.in_flight[me].get() + 1);
            if sink.feed(Message::text(wire::send(&room, stamp, counter))).await.is_err() {
                return;
            }
            fed = true;
        }
        if fed && sink.flush().await.is_err() {
            return;
        }
        flood.wake[me].notified().await;
    }
}

fn room(sender: usize) -> String {
    format!("p{sender}")
}

/// Floods, measures, kills and checks; reports one line.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    if !ctx.settings.parlor {
        return Ok(());
    }
    let (senders, window) = (ctx.settings.persistence_senders, ctx.settings.persistence_in_flight);
    progress(format_args!("persistence: {senders} senders, {window} sends in flight each, ack after commit"));
    let server = ctx.start(Target::Parlor, "persistence")?;
    let rooms: Vec<String> = (0..senders).map(room).collect();
    let mut control = client::connect(server.addr, ctx.sources.next(), client::ws_config(16 * 1024)).await?;
    client::greet(&mut control, "control", "lobby").await?;
    client::create_rooms(&mut control, &rooms).await?;

    let flood = Rc::new(Flood {
        epoch: ctx.epoch,
        running: Cell::new(true),
        measuring: Cell::new(false),
        acks_in_window: Cell::new(0),
        latency: RefCell::new(stats::histogram()),
        errors: Cell::new(0),
        first_error: RefCell::new(None),
        out_of_order: Cell::new(0),
        acked: RefCell::new(vec![0; senders]),
        in_flight: (0..senders).map(|_| Cell::new(0)).collect(),
        sent_at: (0..senders).map(|_| RefCell::new(VecDeque::new())).collect(),
        wake: (0..senders).map(|_| Notify::new()).collect(),
    });
    let mut tasks = Vec::new();
    for (me, room) in rooms.iter().enumerate() {
        let mut ws = client::connect(server.addr, ctx.sources.next(), client::ws_config(64 * 1024)).await?;
        client::greet(&mut ws, &nick(me), room).await?;
        let (sink, source) = ws.split();
        tasks.push(tokio::task::spawn_local(read_acks(source, me, flood.clone())));
        tasks.push(tokio::task::spawn_local(write_sends(sink, me, window, flood.clone())));
    }

    let timing = ctx.settings.timing;
    tokio::time::sleep(timing.warmup).await;
    let probe = ctx.probe(&server);
    let start = probe.read()?;
    flood.latency.borrow_mut().reset();
    flood.measuring.set(true);
    tokio::time::sleep(timing.window).await;
    flood.measuring.set(false);
    let end = probe.read()?;
    flood.running.set(false);
    let deadline = Instant::now() + timing.drain.max(Duration::from_secs(5));
    while flood.pending() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for task in &tasks {
        task.abort();
    }
    let window_elapsed = end.at().saturating_duration_since(start.at());
    let acked: Vec<u64> = flood.acked.borrow().clone();
    let mut measure = PersistenceMeasure {
        senders,
        in_flight_per_sender: window,
        window_s: stats::round2(window_elapsed.as_secs_f64()),
        acks_per_s: stats::per_second(flood.acks_in_window.get(), window_elapsed),
        ack_latency: Latency::of(&flood.latency.borrow()),
        errors: flood.errors.get(),
        first_error: flood.first_error.borrow().clone(),
        out_of_order: flood.out_of_order.get(),
        usage: probe.usage(&start, &end),
        acked_total: acked.iter().sum(),
        found_after_kill: None,
        durable: None,
    };
    progress(format_args!(
        "  {} acks/s, ack p99 {} µs, server CPU {} %, generator CPU {} %; killing the server (SIGKILL) to check durability",
        measure.acks_per_s,
        measure.ack_latency.p99_us,
        measure.usage.server_cpu_pct,
        measure.usage.generator_cpu_pct
    ));
    drop(control);
    let data_dir = server.data_dir.clone();
    server.kill();
    match count_after_restart(ctx, data_dir, &rooms).await {
        Ok(found) => {
            measure.found_after_kill = Some(found.iter().sum());
            measure.durable = Some(found.iter().zip(&acked).all(|(found, acked)| found >= acked));
        }
        Err(err) => progress(format_args!("  durability check failed to run: {err:#}")),
    }
    let clean = measure.errors == 0 && measure.out_of_order == 0 && measure.durable == Some(true);
    let met = measure.acks_per_s >= ACKS_GOAL && clean;
    let inconclusive = measure.usage.generator_saturated || measure.usage.contended;
    let met = if !met && inconclusive && clean { None } else { Some(met) };
    let measured = format!(
        "{} msg/s stored, ack p99 {} ms, durable after kill -9: {}",
        measure.acks_per_s,
        measure.ack_latency.p99_us / 1000,
        measure.durable.map_or("not checked", |ok| if ok { "yes" } else { "NO" })
    );
    ctx.goal("persistence", "≥ 100k messages/s stored, ack after commit", measured, met);
    ctx.reporter.emit(Line::Persistence(measure))
}

/// Restarts the server on the killed one's data and reads each room's `last_seq`.
async fn count_after_restart(
    ctx: &Context,
    data_dir: std::path::PathBuf,
    rooms: &[String],
) -> anyhow::Result<Vec<u64>> {
    let server = ServerProcess::start_on(&ctx.spec, Target::Parlor, data_dir)?;
    let mut ws = client::connect(server.addr, ctx.sources.next(), client::ws_config(16 * 1024)).await?;
    let Some((first, others)) = rooms.split_first() else { return Ok(Vec::new()) };
    let mut found = vec![client::greet(&mut ws, "verify", first).await?];
    for room in others {
        found.push(client::join(&mut ws, room).await?);
    }
    server.stop().await;
    Ok(found)
}
