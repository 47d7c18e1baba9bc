//! What the server sends: replies to requests and events about rooms, each a JSON object tagged by `"type"`.

use serde::{Deserialize, Serialize};

use crate::code::ErrorCode;
use crate::extras::{Announcement, Poll, Quote, Reaction};
use crate::secret::Secret;
use crate::series::DataPoints;

/// One event from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The reply to a successful `hello`.
    Welcome(Welcome),
    /// A request was refused; see [`ErrorCode`].
    Error(ErrorEvent),
    /// A message the client sent is stored; it names both the client's id and the server's.
    Ack(Ack),
    /// A chat message in a room or direct conversation the client is in.
    Message(ChatMessage),
    /// A stored message changed (a vote, a reaction, an edit, a deletion, a poll closed): the whole message as it is
    /// now, to replace the copy with the same `room` and `seq`. `rev` orders the changes within a conversation.
    MessageUpdated(ChatMessage),
    /// The reply to `join`: the room's state, followed by any replayed messages.
    Joined(Joined),
    /// The reply to `leave`.
    Left {
        /// The room left.
        room: String,
    },
    /// Someone entered a room the client is in.
    MemberJoined {
        /// The room.
        room: String,
        /// Who came in.
        nick: String,
    },
    /// Someone left a room the client is in.
    MemberLeft {
        /// The room.
        room: String,
        /// Who went.
        nick: String,
        /// Whether they left or their connection ended.
        reason: LeaveReason,
    },
    /// Someone started or stopped typing. The server sends `typing: false` itself when a typist goes quiet.
    Typing {
        /// The room.
        room: String,
        /// Who is typing.
        nick: String,
        /// Whether they are typing now.
        typing: bool,
    },
    /// The reply to `list_rooms`.
    RoomList {
        /// Every room, sorted by name.
        rooms: Vec<RoomInfo>,
    },
    /// A new room exists; sent to everyone online.
    RoomCreated(RoomInfo),
    /// A room's topic changed.
    Topic {
        /// The room.
        room: String,
        /// The new topic (empty when cleared).
        topic: String,
        /// Who changed it.
        by: String,
    },
    /// The reply to `who`.
    Members {
        /// The room.
        room: String,
        /// Who is in it now, sorted.
        members: Vec<String>,
    },
    /// The reply to `history`.
    History(HistoryPage),
    /// The reply to `search`: matching messages, newest first.
    SearchResults {
        /// The room, or `"@nick"`.
        room: String,
        /// The query as asked.
        query: String,
        /// The matches as they are now, newest first.
        messages: Vec<ChatMessage>,
        /// Whether older matches exist (ask again with `before` = the last one's `seq`).
        has_more: bool,
    },
    /// The reply to `register`: the nickname is now an account, and this token signs in without the password.
    Registered {
        /// The nickname registered.
        nick: String,
        /// A session token for this device; keep it like a password (the desktop app keeps it in the OS keyring).
        token: Secret,
    },
    /// The reply to `logout_everywhere`: every session token of the account is revoked.
    LoggedOut {
        /// How many tokens were revoked.
        sessions: u64,
    },
    /// The reply to `moderate`: this connection may now use the moderator requests.
    Moderating,
    /// A room's moderation state: sent to its members when a moderator changes it (or a timed lock ends), and to a
    /// client joining while it is not the default (unlocked, no slow mode).
    RoomState(RoomState),
    /// The raised hands of a room, first raised first: sent to its members whenever the queue changes, and after
    /// `joined` when it is not empty.
    Hands {
        /// The room.
        room: String,
        /// Nicknames with a raised hand, in the order they raised it.
        raised: Vec<String>,
    },
    /// A moderator called on someone in a room.
    CalledOn {
        /// The room.
        room: String,
        /// Who may speak.
        nick: String,
        /// The moderator.
        by: String,
    },
    /// The room's pinned message changed (sent to its members), or is set (sent after `joined`).
    Pinned {
        /// The room.
        room: String,
        /// The pinned message as it is now; absent when nothing is pinned any more.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Box<ChatMessage>>,
        /// The moderator who pinned or unpinned it; absent after `joined` or when its message was deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// Live data points published to a room (also the room's recent ones, right after `joined`).
    Data(DataPoints),
    /// The reply to `ping`.
    Pong {
        /// The ping's nonce.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

/// Who may post in a room, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    /// The room.
    pub room: String,
    /// Only moderators may post.
    pub locked: bool,
    /// When a timed lock ends (Unix milliseconds), for a countdown; absent for a lock without end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until_ms: Option<i64>,
    /// Seconds between one participant's messages; `0`: no slow mode.
    pub slow_mode_s: u32,
    /// The moderator who made the last change; absent when a timed lock ended by itself or on `join`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Who may not post in the room (they still read, vote and react), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted: Vec<String>,
    /// Who may not join the room, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// The session's starting state, so a client can draw its window from one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The protocol version the server speaks.
    pub protocol: u32,
    /// The server's name and version, e.g. `"parlor-server/0.1.0"`.
    pub server: String,
    /// The nickname as the server holds it.
    pub nick: String,
    /// Limits the client should respect to avoid errors.
    pub limits: Limits,
    /// Every room on the server.
    pub rooms: Vec<RoomInfo>,
    /// The user's direct conversations with their latest sequence, so unread ones can be fetched.
    pub dms: Vec<DmInfo>,
    /// How the nickname is held: as a guest, by this device, or by a signed-in account.
    #[serde(default)]
    pub identity: IdentityKind,
    /// A new session token, after a sign-in with the account password; later connections use it instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<Secret>,
}

/// How a connection holds its nickname, so a client can show it and offer to register.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// No proof given: anyone may use the nickname while it is offline.
    #[default]
    Guest,
    /// Kept by this device's key: other devices cannot use the nickname.
    Device,
    /// A registered account, signed in with its password or a session token.
    Account,
}

/// What the server enforces, stated up front so clients can check input before sending it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest frame accepted as a request, in bytes; larger frames get `frame_too_large`.
    pub max_frame_bytes: usize,
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Longest nickname, in characters.
    pub max_nick_chars: usize,
    /// Longest room name, in characters.
    pub max_room_chars: usize,
    /// Longest topic, in characters.
    pub max_topic_chars: usize,
    /// Sustained requests per second per connection.
    pub rate_per_second: u32,
    /// Requests that may arrive at once above the sustained rate.
    pub rate_burst: u32,
    /// Most messages in one `history` reply.
    pub history_page_max: u32,
    /// Most messages replayed by one `join` with `after`; older missed ones are reported as a gap.
    pub resume_max: u32,
    /// How long a `typing: true` lasts without being repeated, in milliseconds.
    pub typing_ttl_ms: u64,
}

/// A room as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// The room's name.
    pub room: String,
    /// Its topic (empty if none).
    pub topic: String,
    /// How many are in it now.
    pub members: u32,
    /// Entering it the first time needs its password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_password: bool,
}

/// A direct conversation the user has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmInfo {
    /// `"@nick"` of the other person.
    pub room: String,
    /// The newest message's sequence number.
    pub last_seq: u64,
}

/// A stored chat message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The room, or `"@nick"` of the other person in a direct conversation.
    pub room: String,
    /// The server's id, unique across the server.
    pub id: i64,
    /// The position in its room: 1, 2, 3… with no gaps, so a client can tell what it missed.
    pub seq: u64,
    /// The sender's nickname.
    pub from: String,
    /// The text as sent (render it as text, never as HTML).
    pub text: String,
    /// When the server stored it, in milliseconds since the Unix epoch (UTC).
    pub ts: i64,
    /// The sender's own id for it, so the sender can match its pending copy.
    pub client_id: String,
    /// A poll with its results so far; `text` is the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    /// An announcement from a moderator, with who has acknowledged it so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<Announcement>,
    /// Emoji reactions, first first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The message this one answers, as it read then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// When its sender last changed the text (Unix milliseconds); absent if never edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ms: Option<i64>,
    /// Deleted by its sender or a moderator: `text` is empty and nothing else remains but its place.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The conversation's revision at this message's last change; `0` if it never changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rev: u64,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Confirms a `send` is durably stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The client's id from the `send`.
    pub client_id: String,
    /// The room as the sender names it.
    pub room: String,
    /// The server's id for the message.
    pub id: i64,
    /// Its sequence number in the room.
    pub seq: u64,
    /// When it was stored.
    pub ts: i64,
    /// True when this `send` repeated an id already stored: nothing new was posted.
    pub duplicate: bool,
}

/// The reply to `join`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// The room, or `"@nick"`.
    pub room: String,
    /// Its topic.
    pub topic: String,
    /// Who is in it now (for a direct conversation: those of the two who are online), sorted.
    pub members: Vec<String>,
    /// The newest sequence number; replayed messages run up to it.
    pub last_seq: u64,
    /// Messages after `after` that will not be replayed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
    /// The conversation's newest revision (see `message_updated`); a resuming client sends it back as `after_rev`.
    #[serde(default)]
    pub last_rev: u64,
    /// More earlier messages changed since `after_rev` than are re-sent: reload the ones on screen with `history`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub updates_dropped: bool,
}

/// A run of sequence numbers a resuming client missed and will not get by replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// First missing sequence number.
    pub from: u64,
    /// Last missing sequence number.
    pub to: u64,
    /// Why they are not replayed.
    pub reason: GapReason,
}

/// Why part of what a client missed is not replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The server no longer keeps those messages (its history limit dropped them).
    Pruned,
    /// More were missed than `limits.resume_max`; the newest are replayed and the rest can be paged with `history`.
    TooMany,
    /// A reason added by a newer server.
    #[serde(other)]
    Unknown,
}

/// Why someone left a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// They sent `leave`.
    Left,
    /// Their connection ended.
    Disconnected,
    /// A moderator removed them from the room.
    Removed,
    /// A reason added by a newer server.
    #[serde(other)]
    Unknown,
}

/// A page of stored messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The room, or `"@nick"`.
    pub room: String,
    /// The messages, in ascending sequence order.
    pub messages: Vec<ChatMessage>,
    /// Whether more exist beyond this page in the direction asked.
    pub has_more: bool,
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// The room the request named, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The `client_id` of the refused `send`, when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// With `rate_limited`: when to try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorEvent {
    /// An error with only a code and a sentence.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), room: None, client_id: None, retry_after_ms: None }
    }

    /// The same error, naming the room it concerns.
    pub fn in_room(mut self, room: impl Into<String>) -> Self {
        self.room = Some(room.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_message() -> ChatMessage {
        ChatMessage {
            room: "lobby".into(),
            id: 7,
            seq: 3,
            from: "ana".into(),
            text: "<b>hi</b>".into(),
            ts: 1_700_000_000_000,
            client_id: "c-1".into(),
            ..ChatMessage::default()
        }
    }

    #[test]
    fn events_round_trip() {
        let events = vec![
            ServerEvent::Message(sample_message()),
            ServerEvent::Ack(Ack {
                client_id: "c-1".into(),
                room: "lobby".into(),
                id: 7,
                seq: 3,
                ts: 1,
                duplicate: true,
            }),
            ServerEvent::Joined(Joined {
                room: "lobby".into(),
                topic: String::new(),
                members: vec!["ana".into()],
                last_seq: 9,
                gap: Some(Gap { from: 1, to: 4, reason: GapReason::Pruned }),
                last_rev: 3,
                updates_dropped: false,
            }),
            ServerEvent::MessageUpdated(ChatMessage {
                poll: Some(crate::extras::PollSpec { options: vec!["a".into(), "b".into()], multiple: false }.open()),
                reactions: vec![Reaction { emoji: "👍".into(), by: vec!["bo".into()] }],
                reply_to: Some(Quote { seq: 1, from: "bo".into(), text: "hm".into() }),
                edited_ms: Some(5),
                deleted: true,
                rev: 4,
                ..sample_message()
            }),
            ServerEvent::MemberLeft { room: "lobby".into(), nick: "bo".into(), reason: LeaveReason::Disconnected },
            ServerEvent::Error(ErrorEvent::new(ErrorCode::NotInRoom, "join first").in_room("maths")),
            ServerEvent::History(HistoryPage { room: "@bo".into(), messages: vec![sample_message()], has_more: false }),
            ServerEvent::RoomList {
                rooms: vec![RoomInfo { room: "lobby".into(), topic: "t".into(), members: 2, has_password: false }],
            },
            ServerEvent::Pong { nonce: Some("n".into()) },
        ];
        for event in events {
            let json = serde_json::to_string(&event).expect("serialise");
            let back: ServerEvent = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, event, "{json}");
        }
    }

    #[test]
    fn wire_shape_is_flat_and_tagged() {
        let json = serde_json::to_value(ServerEvent::Message(sample_message())).expect("serialise");
        assert_eq!(json["type"], "message");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["text"], "<b>hi</b>");
        let plain = json.as_object().expect("object");
        for absent in ["poll", "reactions", "reply_to", "edited_ms", "deleted", "rev"] {
            assert!(!plain.contains_key(absent), "a plain message carries no {absent}");
        }
        let err = serde_json::to_value(ServerEvent::Error(ErrorEvent::new(ErrorCode::RateLimited, "slow down")))
            .expect("serialise");
        assert_eq!(err, serde_json::json!({"type": "error", "code": "rate_limited", "message": "slow down"}));
    }
}
