//! One client's protocol state: greeting, rate limiting, and what each request does.
//!
//! [`crate::connection`] moves frames; this module decides what they mean. Every refusal is an `error` event with a
//! code and a sentence, and the connection stays open; only persistent abuse asks the connection to close.

use std::net::IpAddr;
use std::sync::Arc;

use parlor_protocol::extras::{POLL_MAX_OPTIONS, POLL_MIN_OPTIONS, POLL_OPTION_MAX_CHARS};
use parlor_protocol::names::{self, fold};
use parlor_protocol::{
    decode_with_depth, Auth, ClientMessage, CloseCode, Conversation, ErrorCode, ErrorEvent, IdentityKind, NameError,
    PollSpec, Secret, ServerEvent, PROTOCOL_VERSION,
};
use tokio::time::Instant;

use crate::accounts::{Admitted, Refused};
use crate::hub::RuleChange;
use crate::outbox::PeerHandle;
use crate::rate::TokenBucket;
use crate::rules::Refusal;
use crate::server::Shared;
use crate::store::{Anchor, Append, Edit, Greeting, Op};
use moderation::Sanction;

mod changes;
mod live;
mod moderation;
mod room_password;

/// Messages per history page when the client does not say.
const DEFAULT_PAGE: u32 = 50;

/// Matches in one `search` reply unless the client asks for another number.
const DEFAULT_SEARCH_PAGE: u32 = 20;

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// What a command answers: an event for the requester (if any), or a refusal.
type Reply = Result<Option<ServerEvent>, ErrorEvent>;

/// What a `send` posts, besides where.
struct Post {
    text: String,
    client_id: String,
    poll: Option<PollSpec>,
    reply_to: Option<u64>,
    announce: bool,
}

/// A close the session asks for: code and reason.
pub(crate) type CloseRequest = (CloseCode, String);

/// The nickname a greeted connection holds, and how.
#[derive(Debug, Clone)]
struct Identity {
    nick: String,
    key: String,
    kind: IdentityKind,
    /// Gave the moderator token (`moderate`) on this connection.
    moderator: bool,
}

/// Protocol state of one connection.
#[derive(Debug)]
pub(crate) struct Session {
    shared: Arc<Shared>,
    handle: PeerHandle,
    /// Shared so each request takes a reference count, not copies of the nickname.
    identity: Option<Arc<Identity>>,
    ip: IpAddr,
    bucket: TokenBucket,
    refused_in_a_row: u32,
}

fn error(code: ErrorCode, message: impl Into<String>) -> ErrorEvent {
    ErrorEvent::new(code, message)
}

/// The refusal for reading a password room one has not entered.
fn password_required(room: &str) -> ErrorEvent {
    error(ErrorCode::RoomPasswordRequired, "this room has a password; join it with the password first").in_room(room)
}

fn name_error(code: ErrorCode, what: &str, err: &NameError, field: &str) -> ErrorEvent {
    error(code, format!("{what} {field:?} is not allowed: {err}"))
}

/// The error for a refused account request; a failure of the account store is logged and reported as such.
fn account_refusal(refused: Refused) -> ErrorEvent {
    match refused {
        Refused::Client(event) => event,
        Refused::Store(err) => {
            tracing::error!(%err, "account store failed");
            error(ErrorCode::StorageFailed, "the server could not check the account; try again")
        }
    }
}

/// Parses a `room` field into a conversation, or the error to send back.
fn conversation(field: &str) -> Result<Conversation, ErrorEvent> {
    Conversation::parse(field).map_err(|err| {
        let (code, what) = if field.starts_with('@') {
            (ErrorCode::InvalidNick, "the nickname in")
        } else {
            (ErrorCode::InvalidRoom, "the room name")
        };
        name_error(code, what, &err, field).in_room(field)
    })
}

impl Session {
    /// A fresh, not yet greeted session.
    pub(crate) fn new(shared: Arc<Shared>, handle: PeerHandle, ip: IpAddr) -> Self {
        let bucket = TokenBucket::new(shared.limits.rate_per_second, shared.limits.rate_burst);
        Self { shared, handle, identity: None, ip, bucket, refused_in_a_row: 0 }
    }

    /// Whether `hello` has succeeded.
    pub(crate) fn greeted(&self) -> bool {
        self.identity.is_some()
    }

    fn reply(&self, event: ServerEvent) {
        self.handle.reply(&event);
    }

    fn refuse(&self, error: ErrorEvent) {
        self.reply(ServerEvent::Error(error));
    }

    /// Counts a frame against the connection's and its address's rate limits. `Err` carries a close when the
    /// client ignores the limit for too long.
    fn admit(&mut self) -> Result<bool, CloseRequest> {
        let now = Instant::now();
        match self.bucket.take(now).and_then(|()| self.shared.per_ip.take(self.ip, now)) {
            Ok(()) => {
                self.refused_in_a_row = 0;
                Ok(true)
            }
            Err(wait) => {
                self.refused_in_a_row += 1;
                if self.refused_in_a_row > 2 * self.shared.limits.rate_burst {
                    return Err((CloseCode::PolicyViolation, "too many requests after rate_limited errors".into()));
                }
                let mut refusal = error(ErrorCode::RateLimited, "you are sending too fast; wait and try again");
                refusal.retry_after_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1));
                self.refuse(refusal);
                Ok(false)
            }
        }
    }

    /// Handles a binary frame, which the protocol does not use.
    pub(crate) fn on_binary(&mut self) -> Result<(), CloseRequest> {
        if self.admit()? {
            self.refuse(error(ErrorCode::BinaryFrame, "send JSON in text frames; binary frames are not used"));
        }
        Ok(())
    }

    /// Handles one text frame.
    pub(crate) async fn on_text(&mut self, text: &str) -> Result<(), CloseRequest> {
        if !self.admit()? {
            return Ok(());
        }
        let max = self.shared.limits.max_frame_bytes;
        if text.len() > max {
            let message = format!("the frame is {} bytes; the limit is {max}", text.len());
            self.refuse(error(ErrorCode::FrameTooLarge, message));
            return Ok(());
        }
        match decode_with_depth(text, self.shared.limits.max_json_depth) {
            Ok(message) => self.dispatch(message).await,
            Err(err) => self.refuse(error(err.code, err.detail)),
        }
        Ok(())
    }

    /// Takes the connection offline; called once when it ends.
    pub(crate) fn end(&mut self) {
        if let Some(identity) = self.identity.take() {
            tracing::info!(nick = %identity.nick, "left");
            self.shared.hub.unregister(self.handle.id());
        }
    }

    async fn dispatch(&mut self, message: ClientMessage) {
        let identity = match (&message, &self.identity) {
            (ClientMessage::Ping { nonce }, _) => return self.reply(ServerEvent::Pong { nonce: nonce.clone() }),
            (ClientMessage::Hello { protocol, nick, client, password, auth }, None) => {
                let password = password.as_ref().map(Secret::expose);
                return self.hello(*protocol, nick, client.as_deref(), password, auth.as_ref()).await;
            }
            (ClientMessage::Hello { .. }, Some(identity)) => {
                let message = format!("this connection is already {:?}; open a new one to change", identity.nick);
                return self.refuse(error(ErrorCode::AlreadyGreeted, message));
            }
            (ClientMessage::Send { room, client_id, .. }, None) => {
                // A refused send names itself so a client can keep it pending and resend after `hello`.
                let mut refusal = error(ErrorCode::HelloRequired, "send hello first").in_room(room);
                refusal.client_id = Some(client_id.clone());
                return self.refuse(refusal);
            }
            (_, None) => return self.refuse(error(ErrorCode::HelloRequired, "send hello first")),
            (ClientMessage::Moderate { token }, Some(_)) => {
                let granted = self.shared.moderator_token.matches(token.expose());
                return match self.identity.as_mut().map(Arc::make_mut) {
                    Some(identity) if granted => {
                        identity.moderator = true;
                        tracing::info!(nick = %identity.nick, "became a moderator");
                        self.reply(ServerEvent::Moderating);
                    }
                    _ => {
                        let message = "that is not this server's moderator token; the host finds it in the data \
                                       directory (moderator-token)";
                        self.refuse(error(ErrorCode::NotModerator, message));
                    }
                };
            }
            (_, Some(identity)) => identity.clone(),
        };
        let result = match message {
            ClientMessage::Join { room, after, after_rev, password } => {
                self.join(&identity, &room, after, after_rev, password).await
            }
            ClientMessage::Leave { room } => self.leave(&room),
            ClientMessage::CreateRoom { room, topic, password } => {
                self.create_room(&identity, &room, topic.unwrap_or_default(), password).await
            }
            ClientMessage::SetRoomPassword { room, password } => {
                self.set_room_password(&identity, &room, password).await
            }
            ClientMessage::SetTopic { room, topic } => self.set_topic(&identity, &room, topic).await,
            ClientMessage::ListRooms => Ok(Some(ServerEvent::RoomList { rooms: self.shared.hub.rooms() })),
            ClientMessage::Who { room } => self.who(&identity, &room),
            ClientMessage::Send { room, text, client_id, poll, reply_to, announce } => {
                self.send(&identity, &room, Post { text, client_id, poll, reply_to, announce }).await
            }
            ClientMessage::Typing { room, typing } => self.typing(&room, typing),
            ClientMessage::History { room, before, after, limit } => {
                self.history(&identity, &room, before, after, limit).await
            }
            ClientMessage::Register { password } => self.register(&identity, password).await,
            ClientMessage::LogoutEverywhere => self.logout_everywhere(&identity).await,
            ClientMessage::LockRoom { room, seconds } => {
                let lock = seconds.map(|s| std::time::Duration::from_secs(u64::from(s)));
                self.change_rules(&identity, &room, RuleChange::Lock(lock))
            }
            ClientMessage::UnlockRoom { room } => self.change_rules(&identity, &room, RuleChange::Unlock),
            ClientMessage::SlowMode { room, seconds } => {
                let every = std::time::Duration::from_secs(u64::from(seconds));
                self.change_rules(&identity, &room, RuleChange::SlowMode(every))
            }
            ClientMessage::RaiseHand { room, raised } => self.raise_hand(&room, raised),
            ClientMessage::CallOn { room, nick } => self.call_on(&identity, &room, &nick),
            ClientMessage::ClearHands { room } => self.clear_hands(&identity, &room),
            ClientMessage::Vote { room, seq, choices } => self.change(&identity, &room, seq, Edit::Vote(choices)).await,
            ClientMessage::ClosePoll { room, seq } => self.change(&identity, &room, seq, Edit::ClosePoll).await,
            ClientMessage::React { room, seq, emoji, on } => self.react(&identity, &room, seq, emoji, on).await,
            ClientMessage::Edit { room, seq, text } => self.edit(&identity, &room, seq, text).await,
            ClientMessage::Delete { room, seq } => self.change(&identity, &room, seq, Edit::Delete).await,
            ClientMessage::Publish { room, points } => self.publish(&identity, &room, points),
            ClientMessage::Mute { room, nick } => self.moderate_member(&identity, &room, &nick, Sanction::Mute(true)),
            ClientMessage::Unmute { room, nick } => {
                self.moderate_member(&identity, &room, &nick, Sanction::Mute(false))
            }
            ClientMessage::Remove { room, nick } => {
                self.moderate_member(&identity, &room, &nick, Sanction::Remove(true))
            }
            ClientMessage::Readmit { room, nick } => {
                self.moderate_member(&identity, &room, &nick, Sanction::Remove(false))
            }
            ClientMessage::Pin { room, seq } => self.pin(&identity, &room, Some(seq)).await,
            ClientMessage::Unpin { room } => self.pin(&identity, &room, None).await,
            ClientMessage::Acknowledge { room, seq } => self.change(&identity, &room, seq, Edit::Acknowledge).await,
            ClientMessage::Search { room, query, before, limit } => {
                self.search(&identity, &room, query, before, limit).await
            }
            ClientMessage::Hello { .. } | ClientMessage::Ping { .. } | ClientMessage::Moderate { .. } => Ok(None),
        };
        match result {
            Ok(Some(event)) => self.reply(event),
            Ok(None) => {}
            Err(refusal) => self.refuse(refusal),
        }
    }

    async fn hello(
        &mut self,
        protocol: u32,
        nick: &str,
        client: Option<&str>,
        password: Option<&str>,
        auth: Option<&Auth>,
    ) {
        if protocol != PROTOCOL_VERSION {
            let message = format!("this server speaks protocol {PROTOCOL_VERSION}, not {protocol}; update the app");
            return self.refuse(error(ErrorCode::UnsupportedVersion, message));
        }
        if let Some(expected) = &self.shared.password {
            match password {
                None => {
                    let message = "this server needs a password; ask the host for it";
                    return self.refuse(error(ErrorCode::PasswordRequired, message));
                }
                Some(given) if !expected.matches(given) => {
                    tracing::info!(nick, "wrong server password");
                    return self.refuse(error(ErrorCode::WrongPassword, "that is not the server's password"));
                }
                Some(_) => {}
            }
        }
        if let Err(err) = names::validate_nick(nick) {
            return self.refuse(name_error(ErrorCode::InvalidNick, "the nickname", &err, nick));
        }
        let key = fold(nick);
        let Admitted { kind, issue_token, claim } = match self.shared.accounts.admit(&key, auth).await {
            Ok(admitted) => admitted,
            Err(refused) => return self.refuse(account_refusal(refused)),
        };
        let session_token = if issue_token {
            match self.shared.accounts.issue_token(&key).await {
                Ok(token) => Some(token),
                Err(err) => return self.refuse(account_refusal(err.into())),
            }
        } else {
            None
        };
        let greeting = Greeting { identity: kind, session_token: session_token.clone() };
        match self.shared.store.hello(self.handle.clone(), nick.to_owned(), key.clone(), greeting).await {
            Ok(Ok(())) => {
                if let Some(claim) = claim {
                    if let Err(err) = self.shared.accounts.claim(&key, claim).await {
                        tracing::error!(%err, nick, "could not record the device's claim on its nickname");
                    }
                }
                tracing::info!(nick, client = client.unwrap_or("unknown"), identity = ?kind, "greeted");
                self.identity = Some(Arc::new(Identity { nick: nick.to_owned(), key, kind, moderator: false }));
            }
            Ok(Err(_taken)) => {
                if let Some(token) = session_token {
                    let _ = self.shared.accounts.revoke(&key, &token).await;
                }
                let message = format!("the nickname {nick:?} is in use by someone online; choose another");
                self.refuse(error(ErrorCode::NickTaken, message));
            }
            Err(_) => self.refuse(error(ErrorCode::Unavailable, "the server is shutting down; try again soon")),
        }
    }

    async fn register(&mut self, identity: &Identity, password: Secret) -> Reply {
        if identity.kind == IdentityKind::Account {
            return Err(error(ErrorCode::AlreadyRegistered, "you are signed in to this account already"));
        }
        let token =
            self.shared.accounts.register(&identity.key, &identity.nick, password).await.map_err(account_refusal)?;
        tracing::info!(nick = %identity.nick, "registered");
        if let Some(held) = self.identity.as_mut().map(Arc::make_mut) {
            held.kind = IdentityKind::Account;
        }
        Ok(Some(ServerEvent::Registered { nick: identity.nick.clone(), token }))
    }

    async fn logout_everywhere(&self, identity: &Identity) -> Reply {
        if identity.kind != IdentityKind::Account {
            return Err(error(ErrorCode::NotSignedIn, "only a registered nickname has sign-ins to log out"));
        }
        let sessions =
            self.shared.accounts.logout_everywhere(&identity.key).await.map_err(|e| account_refusal(e.into()))?;
        tracing::info!(nick = %identity.nick, sessions, "logged out everywhere");
        Ok(Some(ServerEvent::LoggedOut { sessions }))
    }

    /// Hands an operation to the store, which answers the client itself once it is done.
    async fn submit(&self, op: Op) -> Reply {
        match self.shared.store.submit(op).await {
            Ok(()) => Ok(None),
            Err(_) => Err(error(ErrorCode::Unavailable, "the server is shutting down; try again soon")),
        }
    }

    fn require_member(&self, room: &str, field: &str) -> Result<(), ErrorEvent> {
        if self.shared.hub.is_member(room, self.handle.id()) {
            return Ok(());
        }
        Err(error(ErrorCode::NotInRoom, format!("join {field:?} first")).in_room(field))
    }

    async fn join(
        &self,
        identity: &Identity,
        room: &str,
        after: Option<u64>,
        after_rev: Option<u64>,
        password: Option<Secret>,
    ) -> Reply {
        let conversation = conversation(room)?;
        let admit = match &conversation {
            Conversation::Room(name) if !identity.moderator => {
                self.check_room_password(name, identity, password).await?
            }
            _ => false,
        };
        let handle = self.handle.clone();
        let (done, queued) = tokio::sync::oneshot::channel();
        let viewer = identity.key.clone();
        self.submit(Op::Join { handle, viewer, conversation, after, after_rev, admit, done }).await?;
        // Wait until the reply is queued, so the connection's read pause sees a large replay before the next request.
        let _ = queued.await;
        Ok(None)
    }

    fn leave(&self, field: &str) -> Reply {
        let Conversation::Room(room) = conversation(field)? else {
            return Err(error(ErrorCode::NotInRoom, "direct conversations cannot be left").in_room(field));
        };
        match self.shared.hub.leave(&room, self.handle.id()) {
            Ok(()) => Ok(Some(ServerEvent::Left { room })),
            Err(_) => Err(error(ErrorCode::NotInRoom, format!("you are not in {field:?}")).in_room(field)),
        }
    }

    fn check_topic(&self, topic: &str, room: &str) -> Result<(), ErrorEvent> {
        let max = self.shared.limits.max_topic_chars;
        if topic.chars().count() > max {
            return Err(error(ErrorCode::InvalidTopic, format!("a topic is at most {max} characters")).in_room(room));
        }
        if !topic.is_empty() && (!names::is_displayable_text(topic) || topic.contains(['\n', '\r'])) {
            let message = "a topic is one line of visible text without control characters";
            return Err(error(ErrorCode::InvalidTopic, message).in_room(room));
        }
        Ok(())
    }

    async fn create_room(&self, identity: &Identity, field: &str, topic: String, password: Option<Secret>) -> Reply {
        if let Err(err) = names::validate_room(field) {
            return Err(name_error(ErrorCode::InvalidRoom, "the room name", &err, field).in_room(field));
        }
        self.check_topic(&topic, field)?;
        let password_hash = self.hash_room_password(password, field).await?;
        let (handle, room, creator) = (self.handle.clone(), fold(field), identity.key.clone());
        self.submit(Op::CreateRoom { handle, room, topic, password_hash, creator }).await
    }

    async fn set_topic(&self, identity: &Identity, field: &str, topic: String) -> Reply {
        let Conversation::Room(room) = conversation(field)? else {
            return Err(error(ErrorCode::InvalidRoom, "direct conversations have no topic").in_room(field));
        };
        self.check_topic(&topic, field)?;
        let by = identity.nick.clone();
        self.submit(Op::SetTopic { handle: self.handle.clone(), by, room, topic }).await
    }

    fn who(&self, identity: &Identity, field: &str) -> Reply {
        let members = match conversation(field)? {
            Conversation::Room(room) if self.kept_out(identity, &room) => return Err(password_required(field)),
            Conversation::Room(room) => self
                .shared
                .hub
                .members(&room)
                .ok_or_else(|| error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field))?,
            Conversation::Direct(other) => self.shared.hub.online_of([&identity.key, &other]),
        };
        Ok(Some(ServerEvent::Members { room: field.to_lowercase(), members }))
    }

    async fn send(&self, identity: &Identity, field: &str, post: Post) -> Reply {
        let Post { text, client_id, poll, reply_to, announce } = post;
        let refusal = |code: ErrorCode, message: String| {
            let mut refusal = error(code, message).in_room(field);
            refusal.client_id = Some(client_id.clone());
            refusal
        };
        if !names::validate_client_id(&client_id) {
            let message = "client_id must be 1 to 64 printable ASCII characters (a UUID is ideal)".to_owned();
            return Err(refusal(ErrorCode::InvalidClientId, message));
        }
        let conversation = conversation(field).map_err(|e| refusal(e.code, e.message))?;
        self.check_text(&text).map_err(|(code, message)| refusal(code, message))?;
        if announce && !identity.moderator {
            let message = "only a moderator may send an announcement; send it as a message".to_owned();
            return Err(refusal(ErrorCode::NotModerator, message));
        }
        let poll = match poll {
            None => None,
            Some(spec) => match spec.validate() {
                Ok(()) => Some(spec.open()),
                Err(_) => {
                    let message = format!(
                        "a poll has {POLL_MIN_OPTIONS} to {POLL_MAX_OPTIONS} different options of one line, each at \
                         most {POLL_OPTION_MAX_CHARS} characters"
                    );
                    return Err(refusal(ErrorCode::InvalidPoll, message));
                }
            },
        };
        // A non-member is checked again by the store, in order with any `join` just before this request.
        let member_on_arrival = match &conversation {
            Conversation::Direct(_) => true,
            Conversation::Room(room) => {
                match self.shared.hub.admit_post(room, self.handle.id(), &identity.key, identity.moderator) {
                    Ok(member) => member,
                    Err(Refusal::Locked) => {
                        let message = format!("{room:?} is locked: only moderators may post until it is unlocked");
                        return Err(refusal(ErrorCode::RoomLocked, message));
                    }
                    Err(Refusal::SlowMode(wait)) => {
                        let message =
                            format!("slow mode in {room:?}: wait {} s before your next message", wait.as_secs() + 1);
                        let mut refused = refusal(ErrorCode::SlowMode, message);
                        refused.retry_after_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1));
                        return Err(refused);
                    }
                    Err(Refusal::Muted) => {
                        let message = format!("a moderator muted you in {room:?}: you can read, vote and react");
                        return Err(refusal(ErrorCode::Muted, message));
                    }
                }
            }
        };
        let append = Append {
            handle: self.handle.clone(),
            nick: identity.nick.clone(),
            key: identity.key.clone(),
            conversation,
            text,
            client_id: client_id.clone(),
            member_on_arrival,
            poll,
            reply_to,
            announce,
        };
        self.submit(Op::Append(append)).await.map_err(|e| refusal(e.code, e.message))
    }

    /// The rules every message text follows, in `send` and `edit`.
    fn check_text(&self, text: &str) -> Result<(), (ErrorCode, String)> {
        let max = self.shared.limits.max_text_chars;
        // A text of at most `max` bytes has at most `max` characters: count them only when it could matter.
        if text.len() > max && text.chars().count() > max {
            return Err((ErrorCode::TextTooLong, format!("a message is at most {max} characters")));
        }
        if !names::is_displayable_text(text) {
            let message = "a message needs visible text and no control or direction-override characters".to_owned();
            return Err((ErrorCode::InvalidText, message));
        }
        Ok(())
    }

    /// A moderator's change to a room's rules: the members are told by the hub, the moderator by the reply.
    fn change_rules(&self, identity: &Identity, field: &str, change: RuleChange) -> Reply {
        let room = self.moderated_room(identity, field)?;
        match self.shared.hub.change_rules(&room, change.clone(), &identity.nick, self.handle.id()) {
            Some(state) => {
                tracing::info!(room, moderator = %identity.nick, ?change, "room rules changed");
                Ok(Some(ServerEvent::RoomState(state)))
            }
            None => Err(error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field)),
        }
    }

    fn raise_hand(&self, field: &str, raised: bool) -> Reply {
        let Conversation::Room(room) = conversation(field)? else {
            return Err(error(ErrorCode::InvalidRoom, "hands are raised in rooms").in_room(field));
        };
        self.shared
            .hub
            .raise_hand(&room, self.handle.id(), raised)
            .map_err(|_| error(ErrorCode::NotInRoom, format!("join {field:?} first")).in_room(field))?;
        Ok(None)
    }

    fn call_on(&self, identity: &Identity, field: &str, nick: &str) -> Reply {
        let room = self.moderated_room(identity, field)?;
        if let Err(err) = names::validate_nick(nick) {
            return Err(name_error(ErrorCode::InvalidNick, "the nickname", &err, nick).in_room(field));
        }
        self.shared
            .hub
            .call_on(&room, &fold(nick), &identity.nick)
            .map_err(|_| error(ErrorCode::NotInRoom, format!("{nick:?} is not in {field:?}")).in_room(field))?;
        Ok(None)
    }

    fn clear_hands(&self, identity: &Identity, field: &str) -> Reply {
        let room = self.moderated_room(identity, field)?;
        if !self.shared.hub.clear_hands(&room) {
            return Err(error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field));
        }
        Ok(None)
    }

    /// The room a moderator request names, if the connection moderates.
    fn moderated_room(&self, identity: &Identity, field: &str) -> Result<String, ErrorEvent> {
        if !identity.moderator {
            let message = "only a moderator may do that; the host can make you one";
            return Err(error(ErrorCode::NotModerator, message).in_room(field));
        }
        match conversation(field)? {
            Conversation::Room(room) => Ok(room),
            Conversation::Direct(_) => {
                Err(error(ErrorCode::InvalidRoom, "direct conversations have no room rules").in_room(field))
            }
        }
    }

    fn typing(&self, field: &str, typing: bool) -> Reply {
        let conversation = conversation(field)?;
        if let Conversation::Room(room) = &conversation {
            self.require_member(room, field)?;
        }
        self.shared.hub.typing(self.handle.id(), &conversation, typing, self.shared.limits.typing_ttl);
        Ok(None)
    }

    /// The conversation `field` names, if `identity` may read its stored messages: a room that exists and whose
    /// password (if any) they gave, or their own direct conversation.
    fn readable(&self, identity: &Identity, field: &str) -> Result<Conversation, ErrorEvent> {
        let conversation = conversation(field)?;
        if let Conversation::Room(room) = &conversation {
            if !self.shared.hub.room_exists(room) {
                return Err(error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field));
            }
            if self.kept_out(identity, room) {
                return Err(password_required(field));
            }
        }
        Ok(conversation)
    }

    async fn search(
        &self,
        identity: &Identity,
        field: &str,
        query: String,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Reply {
        if query.chars().count() > MAX_QUERY_CHARS {
            let message = format!("a search is at most {MAX_QUERY_CHARS} characters");
            return Err(error(ErrorCode::InvalidQuery, message).in_room(field));
        }
        if limit == Some(0) {
            return Err(error(ErrorCode::InvalidRange, "limit must be at least 1").in_room(field));
        }
        let limit = limit.unwrap_or(DEFAULT_SEARCH_PAGE).min(self.shared.limits.history_page_max);
        let conversation = self.readable(identity, field)?;
        match self.shared.store.search(&conversation, &identity.key, &query, before, limit).await {
            Ok(Some((messages, has_more))) => {
                Ok(Some(ServerEvent::SearchResults { room: conversation.display(), query, messages, has_more }))
            }
            Ok(None) => Err(error(ErrorCode::InvalidQuery, "type a word to search for").in_room(field)),
            Err(err) => {
                tracing::error!(%err, "search failed");
                Err(error(ErrorCode::StorageFailed, "the server could not search; try again").in_room(field))
            }
        }
    }

    async fn history(
        &self,
        identity: &Identity,
        field: &str,
        before: Option<u64>,
        after: Option<u64>,
        limit: Option<u32>,
    ) -> Reply {
        let anchor = match (before, after) {
            (None, None) => Anchor::Latest,
            (Some(before), None) => Anchor::Before(before),
            (None, Some(after)) => Anchor::After(after),
            (Some(_), Some(_)) => {
                return Err(error(ErrorCode::InvalidRange, "give before or after, not both").in_room(field))
            }
        };
        if limit == Some(0) {
            return Err(error(ErrorCode::InvalidRange, "limit must be at least 1").in_room(field));
        }
        let limit = limit.unwrap_or(DEFAULT_PAGE).min(self.shared.limits.history_page_max);
        let conversation = self.readable(identity, field)?;
        match self.shared.store.history(&conversation, &identity.key, anchor, limit).await {
            Ok(page) => Ok(Some(ServerEvent::History(page))),
            Err(err) => {
                tracing::error!(%err, "history read failed");
                Err(error(ErrorCode::StorageFailed, "the server could not read the history; try again").in_room(field))
            }
        }
    }
}
