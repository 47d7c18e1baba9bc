//! What one step of a swarm measured, and whether it was clean.

use serde::Serialize;

use crate::probe::Usage;
use crate::spawn::Target;
use crate::stats::Latency;

/// One step of a swarm: what was offered and what came out.
#[derive(Debug, Clone, Serialize)]
pub struct BroadcastMeasure {
    /// The server measured.
    pub target: Target,
    /// Connected clients, all in the room.
    pub clients: usize,
    /// How many of them send.
    pub senders: usize,
    /// Messages per second each sender is asked to send.
    pub rate_per_sender: f64,
    /// Messages per second offered in total.
    pub offered_msgs_per_s: f64,
    /// Deliveries per second if every message reached every client on time.
    pub expected_deliveries_per_s: f64,
    /// Length of the measured window, seconds.
    pub window_s: f64,
    /// Messages per second actually sent in the window.
    pub sent_per_s: f64,
    /// Messages received by all clients in the window, per second.
    pub deliveries_per_s: f64,
    /// Messages a client will never get: it received a later one of the same stream first.
    pub lost: u64,
    /// Messages still missing somewhere when the drain ended (late under backlog, or never sent on by the server).
    pub undelivered: u64,
    /// Messages that arrived twice.
    pub duplicated: u64,
    /// `error` events received (e.g. `rate_limited`).
    pub errors: u64,
    /// The first error code seen, if any.
    pub first_error: Option<String>,
    /// Connections the server closed during the step.
    pub disconnects: u64,
    /// Whether every client had every message before the drain timed out.
    pub drained: bool,
    /// Send-to-delivery latency of deliveries in the window.
    pub latency: Latency,
    /// How late senders were against their schedule in the window: the generator's own delay.
    pub send_lag: Latency,
    /// CPU and memory of the server and the generator over the window, and interference from other work.
    #[serde(flatten)]
    pub usage: Usage,
    /// The generator sent less than 95 % of the offered rate, or its p99 send lag passed 10 ms: it could not keep up.
    pub generator_behind: bool,
}

impl BroadcastMeasure {
    /// No loss, duplicate, error or disconnect, and deliveries kept up with the offered load.
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.undelivered == 0
            && self.duplicated == 0
            && self.errors == 0
            && self.disconnects == 0
            && self.drained
            && self.deliveries_per_s >= 0.95 * self.expected_deliveries_per_s
    }
}
