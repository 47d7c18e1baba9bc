//! A swarm: many clients in one room, the first few sending at a set rate, every one of them receiving, checking
//! sequence numbers and timing each delivery. The classroom and fan-out scenarios are swarms at different sizes.
//!
//! The generator runs on one thread (a current-thread runtime and a `LocalSet`), so the clients share their counters
//! through `Rc`/`Cell` without locks ([`shared`]). Senders stamp each message with the time it actually went, and
//! separately record how late that was against their schedule (`send_lag`): tokio's timers fire on a 1 ms grid, which
//! would otherwise add up to a millisecond of the generator's own delay to every latency, while a generator that
//! falls behind shows up as a large lag (and `generator_behind`) instead of silently lowering the load.
//!
//! - [`measure`]: what a step reports. - [`shared`]: the counters. - [`pacer`]: the clients' tasks.

mod measure;
mod pacer;
mod shared;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use measure::BroadcastMeasure;
use pacer::{receive, Pacer};
use shared::Shared;

use crate::client::{self, Sources, Ws};
use crate::probe::{Probe, Reading};
use crate::seq::SeqTracker;
use crate::spawn::{ServerProcess, Target};
use crate::stats::{self, Latency};

/// Connections opened at once while a swarm connects (below the servers' listen backlog of 128).
const CONNECT_CONCURRENCY: usize = 64;

/// A p99 send lag above this means the generator is not sending on schedule.
const SEND_LAG_LIMIT_US: u64 = 10_000;

/// The room every swarm talks in.
const ROOM: &str = "lobby";

/// How long each phase of a step lasts.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Load before measuring, so queues and caches reach their steady state.
    pub warmup: Duration,
    /// The measured window.
    pub window: Duration,
    /// After the senders stop, how long receivers may take to receive everything that was sent.
    pub drain: Duration,
}

/// Connected clients ready to run steps; closing or dropping it ends every connection.
#[derive(Debug)]
pub struct Swarm {
    shared: Rc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    rate: watch::Sender<f64>,
    clients: usize,
    senders: usize,
}

impl Swarm {
    /// Connects `clients` clients to `server` (Parlor: greeted and in the room); the first `senders` will send.
    /// Each client starts reading as soon as it is connected, so nothing piles up while the others connect.
    pub async fn connect(
        server: &ServerProcess,
        clients: usize,
        senders: usize,
        sources: &Sources,
        epoch: Instant,
    ) -> anyhow::Result<Self> {
        let (target, addr) = (server.target, server.addr);
        let shared = Rc::new(Shared {
            target,
            epoch,
            measuring: Cell::new(false),
            deliveries: Cell::new(0),
            sent_in_window: Cell::new(0),
            latency: RefCell::new(stats::histogram()),
            send_lag: RefCell::new(stats::histogram()),
            trackers: RefCell::new(vec![SeqTracker::default(); clients]),
            sent: RefCell::new(vec![0; senders]),
            acked: Cell::new(0),
            max_ack_seq: Cell::new(0),
            errors: Cell::new(0),
            first_error: RefCell::new(None),
            disconnects: Cell::new(0),
        });
        let (rate, rate_rx) = watch::channel(0.0);
        let mut swarm =
            Self { shared: shared.clone(), tasks: Vec::with_capacity(clients + senders), rate, clients, senders };
        // The server's own read buffer size: tungstenite zero-fills it before every read, so bigger costs more.
        let config = client::ws_config(4 * 1024);
        let connecting = (0..clients).map(|index| (index, sources.next())).map(|(index, source)| async move {
            let open = async {
                let mut ws = client::connect(addr, source, config).await?;
                let last_seq = match target {
                    Target::Parlor => client::greet(&mut ws, &nick(index), ROOM).await?,
                    Target::Reference => 0,
                };
                anyhow::Ok((index, ws, last_seq))
            };
            tokio::time::timeout(client::GREET_TIMEOUT, open).await.context("connecting timed out")?
        });
        let mut opened = futures_util::stream::iter(connecting).buffer_unordered(CONNECT_CONCURRENCY);
        while let Some(result) = opened.next().await {
            let (index, ws, last_seq) = result?;
            swarm.start_client(index, ws, last_seq, &rate_rx);
        }
        if target == Target::Reference {
            // The reference registers a connection just after its handshake reply; let the last ones land.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(swarm)
    }

    fn start_client(&mut self, index: usize, ws: Ws, last_seq: u64, rate: &watch::Receiver<f64>) {
        let shared = &self.shared;
        shared.trackers.borrow_mut()[index] = SeqTracker::starting_at(last_seq);
        if shared.target == Target::Parlor {
            shared.max_ack_seq.set(shared.max_ack_seq.get().max(last_seq));
        }
        if index < self.senders {
            let (sink, source) = ws.split();
            self.tasks.push(tokio::task::spawn_local(receive(source, index, shared.clone())));
            let pacer = Pacer { me: index, senders: self.senders, nick: nick(index), shared: shared.clone() };
            self.tasks.push(tokio::task::spawn_local(pacer.run(sink, rate.clone())));
        } else {
            // A client that only reads needs no split (and no lock between the halves).
            self.tasks.push(tokio::task::spawn_local(receive(ws, index, shared.clone())));
        }
    }

    /// Runs one step at `rate` messages per second per sender and measures it.
    pub async fn step(&self, rate: f64, timing: &Timing, probe: &Probe) -> anyhow::Result<BroadcastMeasure> {
        let shared = &self.shared;
        let (gaps0, dups0, errors0, disconnects0) = shared.totals();
        self.rate.send_replace(rate);
        tokio::time::sleep(timing.warmup).await;

        let start = probe.read()?;
        shared.deliveries.set(0);
        shared.sent_in_window.set(0);
        shared.latency.borrow_mut().reset();
        shared.send_lag.borrow_mut().reset();
        shared.measuring.set(true);
        tokio::time::sleep(timing.window).await;
        shared.measuring.set(false);
        let end = probe.read()?;
        self.rate.send_replace(0.0);

        let deadline = Instant::now() + timing.drain;
        while shared.missing() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let missing = shared.missing();
        let (gaps1, dups1, errors1, disconnects1) = shared.totals();
        let counts = Counts {
            lost: gaps1 - gaps0,
            undelivered: missing,
            duplicated: dups1 - dups0,
            errors: errors1 - errors0,
            disconnects: disconnects1 - disconnects0,
        };
        Ok(self.measure(rate, probe, [&start, &end], counts))
    }

    fn measure(&self, rate: f64, probe: &Probe, [start, end]: [&Reading; 2], counts: Counts) -> BroadcastMeasure {
        let shared = &self.shared;
        let window = end.at().saturating_duration_since(start.at());
        let offered = rate * self.senders as f64;
        let sent_per_s = stats::per_second(shared.sent_in_window.get(), window);
        let send_lag = Latency::of(&shared.send_lag.borrow());
        BroadcastMeasure {
            target: shared.target,
            clients: self.clients,
            senders: self.senders,
            rate_per_sender: rate,
            offered_msgs_per_s: offered,
            expected_deliveries_per_s: offered * self.clients as f64,
            window_s: stats::round2(window.as_secs_f64()),
            sent_per_s,
            deliveries_per_s: stats::per_second(shared.deliveries.get(), window),
            lost: counts.lost,
            undelivered: counts.undelivered,
            duplicated: counts.duplicated,
            errors: counts.errors,
            first_error: shared.first_error.borrow().clone(),
            disconnects: counts.disconnects,
            drained: counts.undelivered == 0,
            latency: Latency::of(&shared.latency.borrow()),
            send_lag,
            usage: probe.usage(start, end),
            generator_behind: sent_per_s < 0.95 * offered || send_lag.p99_us > SEND_LAG_LIMIT_US,
        }
    }

    /// Ends every connection.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What changed in the counters during a step.
#[derive(Debug)]
struct Counts {
    lost: u64,
    undelivered: u64,
    duplicated: u64,
    errors: u64,
    disconnects: u64,
}

/// The benchmark nickname of client `index`: `b00042`.
pub fn nick(index: usize) -> String {
    format!("b{index:05}")
}

/// Nanoseconds from `epoch` to `at`.
pub fn nanos_since(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}
