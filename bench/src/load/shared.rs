//! The counters every client of a swarm shares: one thread, so `Cell`s and `RefCell`s, no locks.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::seq::SeqTracker;
use crate::spawn::Target;
use crate::stats;
use crate::wire::{self, Event};

/// State all clients of a swarm share.
#[derive(Debug)]
pub(super) struct Shared {
    /// Which server: decides what a message's stream is (the room, or the reference's sender).
    pub(super) target: Target,
    /// Zero of the send stamps.
    pub(super) epoch: Instant,
    /// Whether deliveries and sends count towards the window now.
    pub(super) measuring: Cell<bool>,
    /// Messages received by all clients in the window.
    pub(super) deliveries: Cell<u64>,
    /// Messages sent in the window.
    pub(super) sent_in_window: Cell<u64>,
    /// Send-to-delivery latency in the window.
    pub(super) latency: RefCell<Histogram<u64>>,
    /// Senders' lateness against their schedule in the window.
    pub(super) send_lag: RefCell<Histogram<u64>>,
    /// Per client: what it has seen.
    pub(super) trackers: RefCell<Vec<SeqTracker>>,
    /// Per sender: messages sent so far (the reference's per-sender counter).
    pub(super) sent: RefCell<Vec<u64>>,
    /// Parlor: acks received so far; with `sent`, what is still unacknowledged.
    pub(super) acked: Cell<u64>,
    /// Parlor: the room's newest stored `seq`, which every client must reach.
    pub(super) max_ack_seq: Cell<u64>,
    /// `error` events so far.
    pub(super) errors: Cell<u64>,
    /// The first error code, for the report.
    pub(super) first_error: RefCell<Option<String>>,
    /// Connections that ended while the swarm was running.
    pub(super) disconnects: Cell<u64>,
}

impl Shared {
    /// Counts one frame received by client `me`.
    pub(super) fn on_frame(&self, me: usize, text: &str) {
        match wire::scan(text) {
            Event::Message { seq, stamp } => {
                let stream = match (self.target, stamp) {
                    (Target::Reference, Some(stamp)) => stamp.sender as usize,
                    _ => 0,
                };
                if let Some(tracker) = self.trackers.borrow_mut().get_mut(me) {
                    tracker.observe(stream, seq);
                }
                if self.measuring.get() {
                    self.deliveries.set(self.deliveries.get() + 1);
                    if let Some(stamp) = stamp {
                        let sent = Duration::from_nanos(stamp.sent_ns);
                        stats::record(&mut self.latency.borrow_mut(), self.epoch.elapsed().saturating_sub(sent));
                    }
                }
            }
            Event::Ack { seq } => {
                self.acked.set(self.acked.get() + 1);
                self.max_ack_seq.set(self.max_ack_seq.get().max(seq));
            }
            Event::Error { code } => {
                self.errors.set(self.errors.get() + 1);
                self.first_error.borrow_mut().get_or_insert(code);
            }
            _ => {}
        }
    }

    /// Gaps, duplicates, errors and disconnects so far.
    pub(super) fn totals(&self) -> (u64, u64, u64, u64) {
        let trackers = self.trackers.borrow();
        let gaps = trackers.iter().map(SeqTracker::gaps).sum();
        let duplicates = trackers.iter().map(SeqTracker::duplicates).sum();
        (gaps, duplicates, self.errors.get(), self.disconnects.get())
    }

    /// Each stream's last number, and how many sends still wait for their ack.
    fn finals(&self) -> (Vec<u64>, u64) {
        let sent = self.sent.borrow();
        match self.target {
            Target::Parlor => (vec![self.max_ack_seq.get()], sent.iter().sum::<u64>().saturating_sub(self.acked.get())),
            Target::Reference => (sent.clone(), 0),
        }
    }

    /// Deliveries still due: every client short of its streams' last numbers, plus sends not yet acked.
    pub(super) fn missing(&self) -> u64 {
        let (finals, unacked) = self.finals();
        self.trackers.borrow().iter().map(|tracker| tracker.missing(&finals)).sum::<u64>() + unacked
    }
}
