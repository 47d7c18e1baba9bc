//! The handle the application holds: start a client, ask it things, stop it.
//!
//! Every method checks its input and returns at once; the connection task does the talking. `send` is the
//! exception that matters: it writes the message to the outbox (synced to disk) before returning, so a message the
//! user saw as sent survives a lost connection, a crash and a restart.

use std::sync::{Arc, Mutex, PoisonError};

use parlor_protocol::extras::{validate_reaction, POLL_MAX_OPTIONS, POLL_MIN_OPTIONS, POLL_OPTION_MAX_CHARS};
use parlor_protocol::{names, ClientMessage, Conversation, Limits, PollSpec, Secret};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tracing::Instrument;

use crate::config::{default_limits, ClientConfig};
use crate::connection::{self, Task};
use crate::error::ClientError;
use crate::event::{ClientEvent, ConnectionState};
use crate::outbox::{Outbox, PendingMessage};
use crate::session::send_frame;
use crate::shared::{Command, Core};
use crate::tracker::Tracker;
use crate::trust::{ServerUrl, Trust};

/// A running client: one connection task on the tokio runtime, reconnecting by itself. Dropping the handle stops
/// the task too; [`Client::shutdown`] does it cleanly and waits.
#[derive(Debug)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedSender<ClientEvent>,
    state: watch::Receiver<ConnectionState>,
    outbox: Arc<Mutex<Outbox>>,
    limits: Arc<Mutex<Limits>>,
    task: JoinHandle<()>,
}

impl Client {
    /// Opens the outbox in `config.data_dir` and starts connecting on the current tokio runtime. Events arrive on
    /// `events`: first `state: connecting`, then a `queued` for every message an earlier run left unsent.
    ///
    /// Fails only for things retrying cannot fix: a bad nickname or URL, an unusable data directory, no runtime.
    pub fn start(mut config: ClientConfig, events: mpsc::UnboundedSender<ClientEvent>) -> Result<Self, ClientError> {
        names::validate_nick(&config.nick)
            .map_err(|err| ClientError::InvalidInput(format!("the nickname {:?} is not valid: {err}", config.nick)))?;
        let server = ServerUrl::parse(&config.url)?;
        config.url = server.url;
        let target = target_of(&config.url)?;
        let trust = Trust::new(&config.data_dir, &target, server.pinned);
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        let outbox = Outbox::open(&config.data_dir, &config.url, &config.nick)?;
        let leftovers = outbox.all()?;
        let outbox = Arc::new(Mutex::new(outbox));
        let limits = Arc::new(Mutex::new(default_limits()));

        let (state_tx, state) = watch::channel(ConnectionState::Connecting);
        let _ = events.send(ClientEvent::State(ConnectionState::Connecting));
        for PendingMessage { client_id, room, text, poll, reply_to, announce } in leftovers {
            let _ = events.send(ClientEvent::Queued { client_id, room, text, poll, reply_to, announce });
        }
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let span = tracing::info_span!("parlor_client", server = %target, nick = %config.nick);
        let core = Core {
            tracker: Tracker::default(),
            outbox: outbox.clone(),
            limits: limits.clone(),
            events: events.clone(),
        };
        let task = Task { config, target, commands: commands_rx, core, state: state_tx, trust: trust.clone() };
        let connect = move |url| connection::connect(url, trust.clone());
        let task = runtime.spawn(connection::run(task, connect).instrument(span));
        Ok(Self { commands, events, state, outbox, limits, task })
    }

    /// Joins a room, or opens the direct conversation `@nick`. The reply is a `joined` event; the room is rejoined
    /// after every reconnect, resuming where the client left off. While offline the join waits for the connection.
    pub fn join(&self, room: &str) -> Result<(), ClientError> {
        let room = conversation(room)?.display();
        self.command(Command::Join(room, None))
    }

    /// Joins a room that has a password (the first time: the server remembers who entered). Online only, since a
    /// mistyped password should be answered now (`wrong_room_password`), not after a reconnect.
    pub fn join_with_password(&self, room: &str, password: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        match self.state() {
            ConnectionState::Online => self.command(Command::Join(room, Some(Secret::new(password)))),
            ConnectionState::Offline { .. } => Err(ClientError::Stopped),
            _ => Err(ClientError::NotConnected),
        }
    }

    /// Creates a room with a password that others give the first time they enter (moderators never do).
    pub fn create_room_with_password(&self, room: &str, topic: &str, password: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        self.check_topic(topic)?;
        let topic = (!topic.is_empty()).then(|| topic.to_owned());
        let password = (!password.is_empty()).then(|| Secret::new(password));
        self.request(ClientMessage::CreateRoom { room, topic, password })
    }

    /// Moderators: gives `room` a password, or (empty) removes it; the answer is `room_list`.
    pub fn set_room_password(&self, room: &str, password: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        let password = (!password.is_empty()).then(|| Secret::new(password));
        self.request(ClientMessage::SetRoomPassword { room, password })
    }

    /// Leaves a room (not a direct conversation: those cannot be left).
    pub fn leave(&self, room: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        self.command(Command::Leave(room))
    }

    /// Queues a message for a room or `@nick` and returns its `client_id`. The message is on disk when this
    /// returns (a `queued` event says so); it goes out when online and in order, and stays queued until the
    /// server acknowledges it, across reconnects and restarts.
    pub fn send(&self, room: &str, text: &str) -> Result<String, ClientError> {
        self.post(room, Draft { text: text.to_owned(), ..Draft::default() })
    }

    /// Like [`Client::send`], for any [`Draft`]: a reply, a poll.
    pub fn post(&self, room: &str, draft: Draft) -> Result<String, ClientError> {
        let room = conversation(room)?.display();
        let limits = self.limits();
        check_text(&draft.text, &limits)?;
        if let Some(poll) = &draft.poll {
            poll.validate().map_err(|_| {
                let message = format!(
                    "a poll needs {POLL_MIN_OPTIONS} to {POLL_MAX_OPTIONS} different options, each one line of at \
                     most {POLL_OPTION_MAX_CHARS} characters"
                );
                ClientError::InvalidInput(message)
            })?;
        }
        let client_id = uuid::Uuid::new_v4().to_string();
        let Draft { text, poll, reply_to, announce } = draft;
        let message = PendingMessage { client_id, room, text, poll, reply_to, announce };
        if serde_json::to_string(&send_frame(&message)).map_or(0, |json| json.len()) > limits.max_frame_bytes {
            let message =
                format!("the message is too large for this server (at most {} bytes)", limits.max_frame_bytes);
            return Err(ClientError::InvalidInput(message));
        }
        if self.commands.is_closed() {
            return Err(ClientError::Stopped);
        }
        {
            // The `queued` event goes out under the lock the task reads the outbox with, so it always comes before
            // the message's `ack`.
            let outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            outbox.push(&message)?;
            let queued = ClientEvent::Queued {
                client_id: message.client_id.clone(),
                room: message.room.clone(),
                text: message.text.clone(),
                poll: message.poll.clone(),
                reply_to: message.reply_to,
                announce: message.announce,
            };
            let _ = self.events.send(queued);
        }
        tracing::debug!(client_id = %message.client_id, room = %message.room, "queued");
        let _ = self.commands.send(Command::Flush);
        Ok(message.client_id)
    }

    /// Votes in the poll `seq` of `room`, replacing the user's earlier vote (no choices: withdraws it). Everyone in
    /// the room gets the poll again as `message_updated`.
    pub fn vote(&self, room: &str, seq: u64, choices: &[u32]) -> Result<(), ClientError> {
        self.request(ClientMessage::Vote { room: conversation(room)?.display(), seq, choices: choices.to_vec() })
    }

    /// Ends the poll `seq` (its creator, or a moderator).
    pub fn close_poll(&self, room: &str, seq: u64) -> Result<(), ClientError> {
        self.request(ClientMessage::ClosePoll { room: conversation(room)?.display(), seq })
    }

    /// Adds (`on`) or takes back the user's `emoji` on message `seq`.
    pub fn react(&self, room: &str, seq: u64, emoji: &str, on: bool) -> Result<(), ClientError> {
        validate_reaction(emoji).map_err(|_| {
            ClientError::InvalidInput("a reaction is one emoji: at most 10 characters and no spaces".into())
        })?;
        let room = conversation(room)?.display();
        self.request(ClientMessage::React { room, seq, emoji: emoji.to_owned(), on })
    }

    /// Replaces the text of the user's own message `seq`; everyone sees it marked as edited.
    pub fn edit(&self, room: &str, seq: u64, text: &str) -> Result<(), ClientError> {
        check_text(text, &self.limits())?;
        self.request(ClientMessage::Edit { room: conversation(room)?.display(), seq, text: text.to_owned() })
    }

    /// Searches `room` (or `@nick`) for the words of `query`, newest first, older than `before` if given; the answer
    /// is `search_results`.
    pub fn search(&self, room: &str, query: &str, before: Option<u64>) -> Result<(), ClientError> {
        let room = conversation(room)?.display();
        self.request(ClientMessage::Search { room, query: query.to_owned(), before, limit: None })
    }

    /// Says "I've read it" to the announcement `seq`.
    pub fn acknowledge(&self, room: &str, seq: u64) -> Result<(), ClientError> {
        self.request(ClientMessage::Acknowledge { room: conversation(room)?.display(), seq })
    }

    /// Moderators: mutes (`true`) or unmutes `nick` in `room`; the answer is `room_state`.
    pub fn mute(&self, room: &str, nick: &str, muted: bool) -> Result<(), ClientError> {
        let (room, nick) = (room_only(room)?, nick.to_owned());
        self.request(if muted { ClientMessage::Mute { room, nick } } else { ClientMessage::Unmute { room, nick } })
    }

    /// Moderators: removes (`true`) `nick` from `room`, or readmits them; the answer is `room_state`.
    pub fn remove(&self, room: &str, nick: &str, removed: bool) -> Result<(), ClientError> {
        let (room, nick) = (room_only(room)?, nick.to_owned());
        self.request(if removed { ClientMessage::Remove { room, nick } } else { ClientMessage::Readmit { room, nick } })
    }

    /// Moderators: pins message `seq` in `room` (or, with `None`, unpins); the room gets `pinned`.
    pub fn pin(&self, room: &str, seq: Option<u64>) -> Result<(), ClientError> {
        let room = room_only(room)?;
        self.request(match seq {
            Some(seq) => ClientMessage::Pin { room, seq },
            None => ClientMessage::Unpin { room },
        })
    }

    /// Deletes message `seq`: the user's own, or anyone's for a moderator.
    pub fn delete(&self, room: &str, seq: u64) -> Result<(), ClientError> {
        self.request(ClientMessage::Delete { room: conversation(room)?.display(), seq })
    }

    /// Says the user started or stopped typing. Dropped while offline: a late indicator would be wrong.
    pub fn typing(&self, room: &str, typing: bool) -> Result<(), ClientError> {
        let room = conversation(room)?.display();
        match self.request(ClientMessage::Typing { room, typing }) {
            Err(ClientError::NotConnected) => Ok(()),
            other => other,
        }
    }

    /// Asks for a page of stored messages: the newest, those before `before`, or those after `after` (for a
    /// window scrolled back down towards the present). The page arrives as `history`.
    pub fn history(&self, room: &str, before: Option<u64>, after: Option<u64>) -> Result<(), ClientError> {
        if before.is_some() && after.is_some() {
            return Err(ClientError::InvalidInput("ask for messages before or after a point, not both".into()));
        }
        let room = conversation(room)?.display();
        self.request(ClientMessage::History { room, before, after, limit: None })
    }

    /// Creates a room (an empty topic means none). Everyone online receives `room_created`; join it next.
    pub fn create_room(&self, room: &str, topic: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        self.check_topic(topic)?;
        let topic = (!topic.is_empty()).then(|| topic.to_owned());
        self.request(ClientMessage::CreateRoom { room, topic, password: None })
    }

    /// Changes the topic of a joined room (empty clears it).
    pub fn set_topic(&self, room: &str, topic: &str) -> Result<(), ClientError> {
        let room = room_only(room)?;
        self.check_topic(topic)?;
        self.request(ClientMessage::SetTopic { room, topic: topic.to_owned() })
    }

    /// Moderators: only moderators may post in `room` until [`Client::unlock_room`], or for `seconds` if given. The
    /// answer is a `room_state` event (or `not_moderator`).
    pub fn lock_room(&self, room: &str, seconds: Option<u32>) -> Result<(), ClientError> {
        self.request(ClientMessage::LockRoom { room: room_only(room)?, seconds })
    }

    /// Moderators: everyone may post in `room` again.
    pub fn unlock_room(&self, room: &str) -> Result<(), ClientError> {
        self.request(ClientMessage::UnlockRoom { room: room_only(room)? })
    }

    /// Moderators: one message per participant every `seconds` in `room`; 0 turns slow mode off.
    pub fn slow_mode(&self, room: &str, seconds: u32) -> Result<(), ClientError> {
        self.request(ClientMessage::SlowMode { room: room_only(room)?, seconds })
    }

    /// Raises (`true`) or lowers the user's hand in a joined room; the answer is a `hands` event.
    pub fn raise_hand(&self, room: &str, raised: bool) -> Result<(), ClientError> {
        self.request(ClientMessage::RaiseHand { room: room_only(room)?, raised })
    }

    /// Moderators: calls on `nick` in `room` (a `called_on` event to the room; their hand goes down).
    pub fn call_on(&self, room: &str, nick: &str) -> Result<(), ClientError> {
        self.request(ClientMessage::CallOn { room: room_only(room)?, nick: nick.to_owned() })
    }

    /// Moderators: lowers every hand in `room`.
    pub fn clear_hands(&self, room: &str) -> Result<(), ClientError> {
        self.request(ClientMessage::ClearHands { room: room_only(room)? })
    }

    /// Registers the nickname as an account with `password`. The answer is `registered` with a session token the
    /// client uses for its next connections (keep it, e.g. in the OS keyring, to sign in after a restart).
    pub fn register(&self, password: &str) -> Result<(), ClientError> {
        let chars = password.chars().count();
        if chars < parlor_protocol::MIN_ACCOUNT_PASSWORD_CHARS {
            let message =
                format!("a password needs at least {} characters", parlor_protocol::MIN_ACCOUNT_PASSWORD_CHARS);
            return Err(ClientError::InvalidInput(message));
        }
        self.request(ClientMessage::Register { password: password.into() })
    }

    /// Revokes every session token of the signed-in account, this client's included ("log out everywhere"). The
    /// answer is `logged_out`; the next connection needs the password again.
    pub fn logout_everywhere(&self) -> Result<(), ClientError> {
        self.request(ClientMessage::LogoutEverywhere)
    }

    /// Asks for every room; the answer arrives as `room_list`.
    pub fn list_rooms(&self) -> Result<(), ClientError> {
        self.request(ClientMessage::ListRooms)
    }

    /// Asks who is in a room now; the answer arrives as `members`.
    pub fn who(&self, room: &str) -> Result<(), ClientError> {
        let room = conversation(room)?.display();
        self.request(ClientMessage::Who { room })
    }

    /// The connection's state now.
    pub fn state(&self) -> ConnectionState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every state change, for code that waits for `online`.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// The messages not yet acknowledged, oldest first (also after a restart, before they are resent).
    pub fn pending(&self) -> Result<Vec<PendingMessage>, ClientError> {
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner).all()
    }

    /// Closes the connection with 1000 and returns once the task has stopped. Queued messages stay in the outbox.
    pub async fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Err(err) = self.task.await {
            tracing::error!(%err, "the connection task failed");
        }
    }

    fn command(&self, command: Command) -> Result<(), ClientError> {
        self.commands.send(command).map_err(|_| ClientError::Stopped)
    }

    fn request(&self, request: ClientMessage) -> Result<(), ClientError> {
        match self.state() {
            ConnectionState::Online => self.command(Command::Request(request)),
            ConnectionState::Offline { .. } => Err(ClientError::Stopped),
            _ => Err(ClientError::NotConnected),
        }
    }

    fn limits(&self) -> Limits {
        self.limits.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn check_topic(&self, topic: &str) -> Result<(), ClientError> {
        let max = self.limits().max_topic_chars;
        if topic.chars().count() > max {
            return Err(ClientError::InvalidInput(format!("a topic is at most {max} characters")));
        }
        if !topic.is_empty() && (!names::is_displayable_text(topic) || topic.contains(['\n', '\r'])) {
            let message = "a topic is one line of visible text without control characters";
            return Err(ClientError::InvalidInput(message.into()));
        }
        Ok(())
    }
}

/// What [`Client::post`] sends: text, and optionally a poll it asks or the message it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The text, or the poll's question.
    pub text: String,
    /// Makes the message a poll.
    pub poll: Option<PollSpec>,
    /// The `seq` of the message in the same conversation that this one answers.
    pub reply_to: Option<u64>,
    /// Moderators: an announcement each participant acknowledges.
    pub announce: bool,
}

/// The rules every message text follows, checked before it is queued so the user hears at once.
fn check_text(text: &str, limits: &Limits) -> Result<(), ClientError> {
    if !names::is_displayable_text(text) {
        let message = "a message needs visible text and no control or direction-override characters";
        return Err(ClientError::InvalidInput(message.into()));
    }
    if text.chars().count() > limits.max_text_chars {
        let message = format!("a message is at most {} characters", limits.max_text_chars);
        return Err(ClientError::InvalidInput(message));
    }
    Ok(())
}

/// Parses a room field (`lobby` or `@nick`), folding its case as the server does.
fn conversation(room: &str) -> Result<Conversation, ClientError> {
    Conversation::parse(room).map_err(|err| ClientError::InvalidInput(format!("{room:?} is not a valid room: {err}")))
}

/// Parses a room field that must name a room, not a direct conversation.
fn room_only(room: &str) -> Result<String, ClientError> {
    match conversation(room)? {
        Conversation::Room(room) => Ok(room),
        Conversation::Direct(_) => {
            Err(ClientError::InvalidInput(format!("{room:?} is a direct conversation; this needs a room")))
        }
    }
}

/// Checks that `url` is a WebSocket URL and returns its `host:port`, for messages.
fn target_of(url: &str) -> Result<String, ClientError> {
    let invalid = |why: String| ClientError::InvalidInput(format!("{url:?} is not a server address: {why}"));
    let request = url.into_client_request().map_err(|err| invalid(err.to_string()))?;
    let uri = request.uri();
    if !matches!(uri.scheme_str(), Some("ws" | "wss")) {
        return Err(invalid("it must start with ws:// (e.g. ws://127.0.0.1:7878/ws)".into()));
    }
    uri.authority().map(|authority| authority.to_string()).ok_or_else(|| invalid("it names no host".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked() {
        assert_eq!(target_of("ws://127.0.0.1:7878/ws").expect("valid"), "127.0.0.1:7878");
        assert_eq!(target_of("wss://chat.example:443/ws").expect("valid"), "chat.example:443");
        assert!(target_of("http://127.0.0.1:7878/ws").is_err());
        assert!(target_of("127.0.0.1:7878").is_err());
        assert!(target_of("ws://").is_err());
    }

    #[test]
    fn the_handle_can_live_in_shared_application_state() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Client>();
        assert_send_sync::<ClientEvent>();
    }

    #[test]
    fn rooms_are_folded_and_checked() {
        assert_eq!(conversation("Lobby").expect("valid").display(), "lobby");
        assert_eq!(conversation("@Bob").expect("valid").display(), "@bob");
        assert!(matches!(conversation("a b"), Err(ClientError::InvalidInput(_))));
        assert!(matches!(room_only("@bob"), Err(ClientError::InvalidInput(_))));
    }
}
