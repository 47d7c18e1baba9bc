//! The clients' tasks: every client reads and checks; senders also write at the swarm's rate.

use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::shared::Shared;
use super::{nanos_since, ROOM};
use crate::client::Ws;
use crate::spawn::Target;
use crate::stats;
use crate::wire::{self, Stamp};

/// Reads one client's events until its connection ends.
pub(super) async fn receive<S>(mut source: S, me: usize, shared: Rc<Shared>)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    while let Some(Ok(message)) = source.next().await {
        if let Message::Text(text) = message {
            shared.on_frame(me, text.as_str());
        }
    }
    shared.disconnects.set(shared.disconnects.get() + 1);
}

/// One sender's writing half: sends at the rate the swarm sets, evenly offset from the other senders.
pub(super) struct Pacer {
    pub(super) me: usize,
    pub(super) senders: usize,
    pub(super) nick: String,
    pub(super) shared: Rc<Shared>,
}

impl Pacer {
    pub(super) async fn run(self, mut sink: SplitSink<Ws, Message>, mut rate: watch::Receiver<f64>) {
        let mut interval: Option<Interval> = None;
        loop {
            tokio::select! {
                changed = rate.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let per_second = *rate.borrow_and_update();
                    interval = self.interval(per_second);
                }
                scheduled = next_tick(&mut interval) => {
                    let now = Instant::now();
                    if sink.send(Message::text(self.frame(now))).await.is_err() {
                        return;
                    }
                    if self.shared.measuring.get() {
                        self.shared.sent_in_window.set(self.shared.sent_in_window.get() + 1);
                        let lag = now.saturating_duration_since(scheduled.into_std());
                        stats::record(&mut self.shared.send_lag.borrow_mut(), lag);
                    }
                }
            }
        }
    }

    fn interval(&self, per_second: f64) -> Option<Interval> {
        if per_second <= 0.0 {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / per_second);
        let offset = period.mul_f64(self.me as f64 / self.senders as f64);
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
        // Late ticks fire at once, so the offered load holds; their lateness is recorded as send lag.
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        Some(interval)
    }

    fn frame(&self, now: Instant) -> String {
        let counter = {
            let mut sent = self.shared.sent.borrow_mut();
            sent[self.me] += 1;
            sent[self.me]
        };
        let stamp = Stamp { sent_ns: nanos_since(self.shared.epoch, now), sender: self.me as u32 };
        match self.shared.target {
            Target::Parlor => wire::send(ROOM, stamp, counter),
            Target::Reference => wire::reference_message(ROOM, stamp, counter, &self.nick),
        }
    }
}

async fn next_tick(interval: &mut Option<Interval>) -> tokio::time::Instant {
    match interval {
        Some(interval) => interval.tick().await,
        None => std::future::pending().await,
    }
}
