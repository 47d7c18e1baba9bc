//! One connection's protocol logic, without I/O: which frames go out next (paced, outbox messages one at a time
//! and in order), and what each server event means for the outbox, the tracker and the application.
//!
//! The connection task feeds it commands and events and writes what [`Session::next`] hands out; keeping sockets
//! out of it lets the unit tests below drive it directly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use parlor_protocol::{ClientMessage, Conversation, ErrorCode, ErrorEvent, Limits, Secret, ServerEvent, Welcome};
use tokio::time::Instant;

use crate::outbox::PendingMessage;
use crate::pacing::Pacer;
use crate::shared::{Command, Core};

/// How long a message refused with `storage_failed` waits before it is sent again.
const STORAGE_RETRY: Duration = Duration::from_secs(5);

/// How long to pause after a `rate_limited` that does not say.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Errors that answer a `join` rather than another request naming the same room.
const JOIN_ERRORS: &[ErrorCode] = &[
    ErrorCode::NoSuchRoom,
    ErrorCode::InvalidRoom,
    ErrorCode::InvalidNick,
    ErrorCode::NoSuchUser,
    ErrorCode::RoomPasswordRequired,
    ErrorCode::WrongRoomPassword,
    ErrorCode::RemovedFromRoom,
    ErrorCode::StorageFailed,
];

/// What to write next.
#[derive(Debug, PartialEq)]
pub(crate) enum Next {
    /// This frame, now.
    Send(ClientMessage),
    /// Frames are waiting, but not before this instant.
    Wait(Instant),
    /// Nothing to send.
    Idle,
}

/// The state of one greeted connection.
#[derive(Debug)]
pub(crate) struct Session {
    /// The server's limits, from its `welcome`.
    limits: Limits,
    /// Keeps the frames below the server's rate limit.
    pacer: Pacer,
    /// Frames waiting for the pacer, in the order they must go out.
    queue: VecDeque<ClientMessage>,
    /// Joins sent and not yet answered, with the `after` and `after_rev` each carried (the tracker needs `after` to
    /// read `joined`; a retried join repeats both).
    joins: HashMap<String, (Option<u64>, Option<u64>)>,
    /// Room passwords given for joins not yet answered (the server remembers who entered, so only the first join of
    /// a room needs one).
    passwords: HashMap<String, Secret>,
    /// Rooms whose join the server refused on this connection: their queued messages go out anyway and come back
    /// refused, instead of waiting for a join that will never succeed.
    join_failed: HashSet<String>,
    /// The outbox message sent and not yet answered. Only one at a time, so a refused or dropped message can never
    /// be overtaken by the next.
    in_flight: Option<PendingMessage>,
    /// When to send again what a `rate_limited` or `storage_failed` may have cost.
    retry_at: Option<Instant>,
    /// Whether nothing at all may be sent before `retry_at` (after `rate_limited`).
    paused: bool,
}

impl Session {
    /// Starts serving a connection that just got its `welcome`: rejoin every room, catch up direct conversations,
    /// then resend the outbox.
    pub(crate) fn start(core: &mut Core, welcome: &Welcome, moderator_token: Option<Secret>, now: Instant) -> Self {
        core.set_limits(&welcome.limits);
        let mut session = Self {
            limits: welcome.limits.clone(),
            pacer: Pacer::for_limits(&welcome.limits, now),
            queue: VecDeque::new(),
            joins: HashMap::new(),
            passwords: HashMap::new(),
            join_failed: HashSet::new(),
            in_flight: None,
            retry_at: None,
            paused: false,
        };
        if let Some(token) = moderator_token {
            session.queue.push_back(ClientMessage::Moderate { token });
        }
        for room in core.tracker.rooms().to_vec() {
            let after = core.tracker.held(&room);
            session.join(core, room, after);
        }
        for (room, after) in core.tracker.unread_dms(&welcome.dms) {
            session.join(core, room, Some(after));
        }
        session.flush(core);
        session
    }

    /// The next frame the pacer allows, or when to ask again.
    pub(crate) fn next(&mut self, now: Instant) -> Next {
        if self.queue.is_empty() {
            return Next::Idle;
        }
        if let Some(at) = self.retry_at.filter(|at| self.paused && *at > now) {
            return Next::Wait(at);
        }
        match self.pacer.take(now) {
            Ok(()) => self.queue.pop_front().map_or(Next::Idle, Next::Send),
            Err(at) => Next::Wait(at),
        }
    }

    /// When [`Session::retry`] is due, if it is.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The wait after `rate_limited` or `storage_failed` is over: send again what may have been dropped — the
    /// unanswered joins and the message in flight. Repeats are harmless: a join answers again, a message already
    /// stored is acknowledged as a duplicate and never posted twice.
    pub(crate) fn retry(&mut self, core: &mut Core) {
        self.retry_at = None;
        self.paused = false;
        let mut rooms: Vec<&String> = self.joins.keys().filter(|room| !self.join_queued(room)).collect();
        rooms.sort();
        let joins: Vec<(String, Option<u64>, Option<u64>)> =
            rooms.into_iter().map(|room| (room.clone(), self.joins[room].0, self.joins[room].1)).collect();
        for (room, after, after_rev) in joins {
            self.queue.push_back(ClientMessage::Join {
                password: self.passwords.get(&room).cloned(),
                room,
                after,
                after_rev,
            });
        }
        if let Some(message) = &self.in_flight {
            let queued = self
                .queue
                .iter()
                .any(|f| matches!(f, ClientMessage::Send { client_id, .. } if *client_id == message.client_id));
            if !queued {
                self.queue.push_back(send_frame(message));
            }
        }
        self.flush(core);
    }

    /// Carries out a command from the application.
    pub(crate) fn on_command(&mut self, core: &mut Core, command: Command) {
        match command {
            Command::Join(room, password) => {
                let after = core.tracker.join(&room);
                self.join_failed.remove(&room);
                if let Some(password) = password {
                    self.passwords.insert(room.clone(), password);
                    // A join already on its way goes again, with the password.
                    self.joins.remove(&room);
                }
                if !self.joins.contains_key(&room) {
                    self.join(core, room, after);
                }
            }
            Command::Leave(room) => {
                core.tracker.leave(&room);
                self.queue.push_back(ClientMessage::Leave { room });
            }
            Command::Flush => self.flush(core),
            Command::Request(request) => self.queue.push_back(request),
            Command::Shutdown => {}
        }
    }

    /// Takes in one event from the server, forwarding what the application should see.
    pub(crate) fn on_event(&mut self, core: &mut Core, event: ServerEvent, now: Instant) {
        match event {
            ServerEvent::Message(message) => {
                if core.tracker.accept(&message.room, message.seq) {
                    core.forward(ServerEvent::Message(message));
                } else {
                    tracing::debug!(room = %message.room, seq = message.seq, "dropped a message already delivered");
                }
            }
            ServerEvent::Joined(joined) => {
                self.passwords.remove(&joined.room);
                let after = self.joins.remove(&joined.room).and_then(|(after, _)| after);
                core.tracker.joined(&joined.room, after, joined.last_seq);
                core.tracker.changed(&joined.room, joined.last_rev);
                core.forward(ServerEvent::Joined(joined));
                self.flush(core);
            }
            ServerEvent::Ack(ack) => {
                if self.in_flight.as_ref().is_some_and(|m| m.client_id == ack.client_id) {
                    self.in_flight = None;
                }
                // A second ack for the same message (after a resend) finds nothing to delete and is not repeated.
                if core.remove(&ack.client_id) {
                    core.forward(ServerEvent::Ack(ack));
                }
                self.flush(core);
            }
            ServerEvent::Left { room } => {
                // Also sent unasked when a moderator removes the user: then the room must not be rejoined. A join
                // sent since (the user came back) is newer than this `left` and wins.
                if !self.joins.contains_key(&room) {
                    core.tracker.leave(&room);
                }
                core.forward(ServerEvent::Left { room });
            }
            ServerEvent::MessageUpdated(message) => {
                core.tracker.changed(&message.room, message.rev);
                core.forward(ServerEvent::MessageUpdated(message));
            }
            ServerEvent::Error(error) => self.on_error(core, error, now),
            other => core.forward(other),
        }
    }

    fn on_error(&mut self, core: &mut Core, error: ErrorEvent, now: Instant) {
        if error.code == ErrorCode::RateLimited {
            let wait = error.retry_after_ms.map_or(DEFAULT_RETRY_AFTER, Duration::from_millis);
            tracing::warn!(retry_after_ms = wait.as_millis(), "rate limited by the server; pausing");
            self.pacer.drain(now);
            self.paused = true;
            self.retry_at = Some(self.retry_at.map_or(now + wait, |at| at.max(now + wait)));
            return;
        }
        if let Some(client_id) = error.client_id.clone() {
            return self.on_send_refused(core, client_id, error, now);
        }
        if let Some(room) =
            error.room.clone().filter(|r| self.joins.contains_key(r) && JOIN_ERRORS.contains(&error.code))
        {
            if error.code == ErrorCode::StorageFailed {
                self.retry_at.get_or_insert(now + STORAGE_RETRY);
            } else {
                tracing::info!(%room, code = %error.code, "join refused");
                self.joins.remove(&room);
                self.passwords.remove(&room);
                core.tracker.leave(&room);
                self.join_failed.insert(room);
            }
            core.forward(ServerEvent::Error(error));
            return self.flush(core);
        }
        core.forward(ServerEvent::Error(error));
    }

    fn on_send_refused(&mut self, core: &mut Core, client_id: String, error: ErrorEvent, now: Instant) {
        let in_flight = self.in_flight.as_ref().is_some_and(|m| m.client_id == client_id);
        match error.code {
            // Not stored, but it may be later: keep it and try again.
            ErrorCode::StorageFailed => {
                if in_flight {
                    self.retry_at.get_or_insert(now + STORAGE_RETRY);
                }
                core.forward(ServerEvent::Error(error));
            }
            // Slow mode: the same message is welcome once the interval has passed.
            ErrorCode::SlowMode => {
                if in_flight {
                    let wait = error.retry_after_ms.map_or(DEFAULT_RETRY_AFTER, Duration::from_millis);
                    self.retry_at = Some(self.retry_at.map_or(now + wait, |at| at.max(now + wait)));
                }
                core.forward(ServerEvent::Error(error));
            }
            // The server is going away; the message goes out again after the reconnect.
            ErrorCode::Unavailable => tracing::info!(%client_id, "server unavailable; the message stays queued"),
            // Resending cannot fix the rest (invalid text, no such user, not in the room, …): drop it and say so.
            code => {
                tracing::info!(%client_id, %code, "message refused for good");
                if in_flight {
                    self.in_flight = None;
                }
                if core.remove(&client_id) {
                    core.forward(ServerEvent::Error(error));
                }
                self.flush(core);
            }
        }
    }

    /// Puts the oldest outbox message in the queue when nothing is in flight and its room is joined; joins the
    /// room first if needed (a message queued before a restart, or before the join went out).
    fn flush(&mut self, core: &mut Core) {
        while self.in_flight.is_none() {
            let oldest = match core.oldest() {
                Some(message) => message,
                None => return,
            };
            if let Ok(Conversation::Room(room)) = Conversation::parse(&oldest.room) {
                if self.joins.contains_key(&room) {
                    return;
                }
                if !core.tracker.wants(&room) && !self.join_failed.contains(&room) {
                    tracing::info!(%room, "joining the room of a queued message");
                    let after = core.tracker.join(&room);
                    return self.join(core, room, after);
                }
            }
            let frame = send_frame(&oldest);
            let bytes = serde_json::to_string(&frame).map_or(0, |json| json.len());
            if bytes > self.limits.max_frame_bytes {
                let max = self.limits.max_frame_bytes;
                tracing::warn!(client_id = %oldest.client_id, bytes, max, "a queued message is too large for this server");
                if !core.remove(&oldest.client_id) {
                    return;
                }
                let message = format!("the message is too large for this server (at most {max} bytes per frame)");
                let mut error = ErrorEvent::new(ErrorCode::FrameTooLarge, message).in_room(oldest.room.clone());
                error.client_id = Some(oldest.client_id);
                core.forward(ServerEvent::Error(error));
                continue;
            }
            self.queue.push_back(frame);
            self.in_flight = Some(oldest);
        }
    }

    /// Queues a join; with `after`, it also names the last revision held, to hear of changes missed meanwhile.
    fn join(&mut self, core: &Core, room: String, after: Option<u64>) {
        let after_rev = after.and_then(|_| core.tracker.rev(&room));
        self.joins.insert(room.clone(), (after, after_rev));
        self.queue.push_back(ClientMessage::Join {
            password: self.passwords.get(&room).cloned(),
            room,
            after,
            after_rev,
        });
    }

    fn join_queued(&self, room: &str) -> bool {
        self.queue.iter().any(|f| matches!(f, ClientMessage::Join { room: r, .. } if r == room))
    }
}

/// The `send` that (re)sends a pending message.
pub(crate) fn send_frame(message: &PendingMessage) -> ClientMessage {
    ClientMessage::Send {
        room: message.room.clone(),
        text: message.text.clone(),
        client_id: message.client_id.clone(),
        poll: message.poll.clone(),
        reply_to: message.reply_to,
        announce: message.announce,
    }
}

#[cfg(test)]
mod tests;
