//! What lives for the whole life of a client, across connections: the commands the handle sends the connection
//! task, and the [`Core`] state both the task and each [`crate::session::Session`] work on.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use parlor_protocol::{ClientMessage, Limits, Secret, ServerEvent};
use tokio::sync::mpsc::UnboundedSender;

use crate::event::ClientEvent;
use crate::outbox::{Outbox, PendingMessage};
use crate::tracker::Tracker;

/// What the [`crate::Client`] handle asks of the connection task. Room names are already checked and folded.
#[derive(Debug)]
pub(crate) enum Command {
    /// Join a room or open a direct conversation, with the room's password if given; remembered and repeated
    /// after every reconnect (without the password: the server remembers who entered).
    Join(String, Option<Secret>),
    /// Leave a room; it is no longer rejoined.
    Leave(String),
    /// A message was added to the outbox: send it when its turn comes.
    Flush,
    /// A request that only makes sense now (typing, history, who, …); dropped while offline.
    Request(ClientMessage),
    /// Close the connection with 1000 and stop.
    Shutdown,
}

/// State shared by every connection of one client.
#[derive(Debug)]
pub(crate) struct Core {
    /// Joined rooms and how far each was read.
    pub(crate) tracker: Tracker,
    /// Unacknowledged messages; the handle writes to it too.
    pub(crate) outbox: Arc<Mutex<Outbox>>,
    /// The latest server limits, which the handle checks input against.
    pub(crate) limits: Arc<Mutex<Limits>>,
    /// Where events for the application go.
    pub(crate) events: UnboundedSender<ClientEvent>,
}

impl Core {
    /// Sends an event to the application; if it stopped listening, there is no one to tell.
    pub(crate) fn emit(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }

    /// Passes a server event on to the application.
    pub(crate) fn forward(&self, event: ServerEvent) {
        self.emit(ClientEvent::Server { event });
    }

    /// Records the limits a `welcome` announced.
    pub(crate) fn set_limits(&self, limits: &Limits) {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner) = limits.clone();
    }

    /// The oldest outbox message, if any (a database failure is logged and reads as none).
    pub(crate) fn oldest(&self) -> Option<PendingMessage> {
        self.outbox().oldest().unwrap_or_else(|err| {
            tracing::error!(%err, "cannot read the outbox");
            None
        })
    }

    /// Deletes a message from the outbox; true only if it was there and is gone now.
    pub(crate) fn remove(&self, client_id: &str) -> bool {
        self.outbox().remove(client_id).unwrap_or_else(|err| {
            tracing::error!(%err, client_id, "cannot delete from the outbox");
            false
        })
    }

    /// Handles a command while there is no connection: joins and leaves shape the next one, the rest is dropped.
    pub(crate) fn offline(&mut self, command: Command) {
        match command {
            Command::Join(room, _password) => {
                // Remembered for the next connection; a room password is only good online (see `Client::join`).
                self.tracker.join(&room);
            }
            Command::Leave(room) => self.tracker.leave(&room),
            Command::Flush | Command::Shutdown => {}
            Command::Request(request) => tracing::debug!(kind = kind(&request), "not connected; request dropped"),
        }
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        // The outbox's state is in SQLite, so a panic elsewhere while holding the lock leaves nothing half-done.
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request's `type`, for logs: frames themselves are never logged (a `hello` carries the password).
pub(crate) fn kind(message: &ClientMessage) -> &'static str {
    message.kind()
}
