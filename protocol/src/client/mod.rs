//! What a client sends. Every frame is one JSON object whose `"type"` picks the variant; unknown extra fields are
//! ignored so that a newer client can talk to an older server within the same protocol version.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::code::ErrorCode;
use crate::depth::{nests_deeper_than, DEFAULT_MAX_JSON_DEPTH};
use crate::extras::PollSpec;
use crate::secret::Secret;
use crate::series::Points;

mod send_frame;

/// One request from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message on a connection: which protocol the client speaks and who it is.
    Hello {
        /// Must equal [`crate::PROTOCOL_VERSION`].
        protocol: u32,
        /// The nickname to use; unique among online users.
        nick: String,
        /// The client's name and version, for the server's logs (e.g. `"parlor-desktop/0.1.0"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
        /// The server password, when the host set one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
        /// Proof that the nickname is the user's: an account password or token, or this device's key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth: Option<Auth>,
    },
    /// Enter a room (or open a direct conversation `"@nick"`) and, with `after`, receive what was missed since then.
    Join {
        /// Room name, or `"@nick"` for a direct conversation.
        room: String,
        /// The last sequence number the client holds for this room; the server replays every later message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        /// With `after`: the last revision (`joined.last_rev`, `message_updated.rev`) the client holds; the server
        /// also sends every message up to `after` that changed since (votes, reactions, edits, deletions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_rev: Option<u64>,
        /// The room's password, for a room that has one and that this nickname has not entered before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
    },
    /// Leave a room; the others see the client go.
    Leave {
        /// The room to leave.
        room: String,
    },
    /// Create a room that anyone can then join.
    CreateRoom {
        /// The new room's name.
        room: String,
        /// An optional topic shown to everyone in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// A password people need to enter the room the first time (moderators never do).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
    },
    /// Change the topic of a room the client has joined.
    SetTopic {
        /// The room.
        room: String,
        /// The new topic; empty clears it.
        topic: String,
    },
    /// Ask for every room with its topic and how many are in it.
    ListRooms,
    /// Ask who is in a room right now.
    Who {
        /// The room.
        room: String,
    },
    /// Post a message to a room or a direct conversation.
    Send {
        /// Room name, or `"@nick"` for a direct message.
        room: String,
        /// The message text.
        text: String,
        /// The client's own id for this message; a resend with the same id is never stored twice.
        client_id: String,
        /// Makes the message a poll whose question is `text`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll: Option<PollSpec>,
        /// The sequence number of the message this one answers; the stored message quotes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<u64>,
        /// Moderators: an announcement that each participant acknowledges ("I've read it").
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        announce: bool,
    },
    /// Say that the user started (`true`) or stopped (`false`) typing in a room.
    Typing {
        /// The room.
        room: String,
        /// Whether the user is typing.
        typing: bool,
    },
    /// Ask for a page of stored messages before or after a sequence number (the newest page if neither is given).
    History {
        /// Room name, or `"@nick"`.
        room: String,
        /// Return messages with a smaller sequence number, newest first in selection but sent oldest first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        /// Return messages with a larger sequence number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        /// How many at most; the server caps it at `limits.history_page_max`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Register the connection's nickname as an account with a password; from then on only a sign-in (password
    /// or session token) can use it.
    Register {
        /// The account password, at least [`MIN_ACCOUNT_PASSWORD_CHARS`] characters.
        password: Secret,
    },
    /// Revoke every session token of the signed-in account (including this connection's): "log out everywhere".
    LogoutEverywhere,
    /// Become a moderator on this connection with the server's moderator token (the host has it): moderators may
    /// lock rooms and set slow mode.
    Moderate {
        /// The moderator token from the server's data directory (`moderator-token`).
        token: Secret,
    },
    /// Moderators: only moderators may post in the room until it is unlocked, or for `seconds` if given.
    LockRoom {
        /// The room.
        room: String,
        /// Unlock by itself after this many seconds (a countdown clients show); without it, until `unlock_room`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<u32>,
    },
    /// Moderators: everyone may post in the room again.
    UnlockRoom {
        /// The room.
        room: String,
    },
    /// Moderators: each participant may post one message per `seconds` in the room; `0` turns slow mode off.
    SlowMode {
        /// The room.
        room: String,
        /// Seconds between one participant's messages.
        seconds: u32,
    },
    /// Raise (`true`) or lower a hand in a room, to ask to speak; the members see the queue in order.
    RaiseHand {
        /// The room.
        room: String,
        /// Whether the hand is up.
        raised: bool,
    },
    /// Moderators: call on someone in a room (their hand, if raised, goes down).
    CallOn {
        /// The room.
        room: String,
        /// Who is called on.
        nick: String,
    },
    /// Moderators: lower every hand in a room.
    ClearHands {
        /// The room.
        room: String,
    },
    /// Moderators: stop someone posting in a room (they still read, vote and react) until `unmute`.
    Mute {
        /// The room.
        room: String,
        /// Who, any case.
        nick: String,
    },
    /// Moderators: let a muted participant post again.
    Unmute {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Moderators: take someone out of a room; they cannot rejoin it until `readmit`.
    Remove {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Moderators: let a removed participant join the room again.
    Readmit {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Moderators: give a room a password (or, with none, remove it). Who has entered keeps entering freely.
    SetRoomPassword {
        /// The room.
        room: String,
        /// The new password; absent or `null` removes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
    },
    /// Moderators: pin a message at the top of the room for everyone (replacing any pinned one).
    Pin {
        /// The room.
        room: String,
        /// The message.
        seq: u64,
    },
    /// Moderators: take the pinned message down.
    Unpin {
        /// The room.
        room: String,
    },
    /// Say "I've read it" to an announcement; its sender sees who has.
    Acknowledge {
        /// The room.
        room: String,
        /// The announcement.
        seq: u64,
    },
    /// Vote in a poll, replacing one's earlier vote; no choices withdraws it.
    Vote {
        /// The room.
        room: String,
        /// The poll's message.
        seq: u64,
        /// Option numbers, from 0; one at most unless the poll allows several.
        choices: Vec<u32>,
    },
    /// End a poll (its creator or a moderator): the results become final.
    ClosePoll {
        /// The room.
        room: String,
        /// The poll's message.
        seq: u64,
    },
    /// Add (`on`) or take back one's emoji reaction to a message.
    React {
        /// The room.
        room: String,
        /// The message.
        seq: u64,
        /// The emoji.
        emoji: String,
        /// Whether the reaction is on.
        on: bool,
    },
    /// Change the text of one's own message; everyone sees it marked as edited.
    Edit {
        /// The room.
        room: String,
        /// The message.
        seq: u64,
        /// The new text.
        text: String,
    },
    /// Delete one's own message (moderators: anyone's); everyone sees that a message was deleted, not what it said.
    Delete {
        /// The room.
        room: String,
        /// The message.
        seq: u64,
    },
    /// Publish live data points into a room (not stored; see `series`): members draw them as line charts.
    Publish {
        /// The room.
        room: String,
        /// Values by series name.
        points: Points,
    },
    /// Search a room's (or a direct conversation's) stored messages for words; the reply is `search_results`.
    Search {
        /// The room, or `"@nick"`.
        room: String,
        /// Words to find (all of them; the last may be the start of a word).
        query: String,
        /// Only messages older than this sequence number (the next page of results).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        /// How many at most (default 20, at most `limits.history_page_max`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// An application-level ping for clients (such as browsers) that cannot send WebSocket pings.
    Ping {
        /// Echoed back in the `pong`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

impl ClientMessage {
    /// The message's `type` as on the wire: for logs, which must never hold the frame itself (a `hello` carries
    /// passwords).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Join { .. } => "join",
            Self::Leave { .. } => "leave",
            Self::CreateRoom { .. } => "create_room",
            Self::SetTopic { .. } => "set_topic",
            Self::ListRooms => "list_rooms",
            Self::Who { .. } => "who",
            Self::Send { .. } => "send",
            Self::Typing { .. } => "typing",
            Self::History { .. } => "history",
            Self::Register { .. } => "register",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::Moderate { .. } => "moderate",
            Self::LockRoom { .. } => "lock_room",
            Self::UnlockRoom { .. } => "unlock_room",
            Self::SlowMode { .. } => "slow_mode",
            Self::RaiseHand { .. } => "raise_hand",
            Self::CallOn { .. } => "call_on",
            Self::ClearHands { .. } => "clear_hands",
            Self::Mute { .. } => "mute",
            Self::Unmute { .. } => "unmute",
            Self::Remove { .. } => "remove",
            Self::Readmit { .. } => "readmit",
            Self::SetRoomPassword { .. } => "set_room_password",
            Self::Pin { .. } => "pin",
            Self::Unpin { .. } => "unpin",
            Self::Acknowledge { .. } => "acknowledge",
            Self::Search { .. } => "search",
            Self::Vote { .. } => "vote",
            Self::ClosePoll { .. } => "close_poll",
            Self::React { .. } => "react",
            Self::Edit { .. } => "edit",
            Self::Delete { .. } => "delete",
            Self::Publish { .. } => "publish",
            Self::Ping { .. } => "ping",
        }
    }
}

/// Every `type` a client may send, so a decoder can tell an unknown type from a malformed known one.
pub const CLIENT_TYPES: &[&str] = &[
    "hello",
    "join",
    "leave",
    "create_room",
    "set_topic",
    "list_rooms",
    "who",
    "send",
    "typing",
    "history",
    "register",
    "logout_everywhere",
    "moderate",
    "lock_room",
    "unlock_room",
    "slow_mode",
    "raise_hand",
    "call_on",
    "clear_hands",
    "vote",
    "close_poll",
    "react",
    "edit",
    "delete",
    "publish",
    "mute",
    "unmute",
    "remove",
    "readmit",
    "set_room_password",
    "pin",
    "unpin",
    "acknowledge",
    "search",
    "ping",
];

/// Shortest account password the server accepts.
pub const MIN_ACCOUNT_PASSWORD_CHARS: usize = 8;

/// How a user proves that a nickname is theirs. Every part is optional: a guest sends none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// The password of a registered nickname; a successful sign-in gets a session token in `welcome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A session token from an earlier sign-in, so the password need not be kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// A random key this device keeps: an unregistered nickname first used with it stays this device's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Secret>,
}

/// A frame that is not a valid [`ClientMessage`], with the code to send back and a sentence saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code}: {detail}")]
pub struct DecodeError {
    /// The code for the `error` event.
    pub code: ErrorCode,
    /// What was wrong, for a person reading the error.
    pub detail: String,
}

#[derive(Deserialize)]
struct TypeProbe {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Decodes one text frame, classifying failures as `too_deep`, `bad_json`, `unknown_type` or `bad_message`;
/// nesting is limited to [`DEFAULT_MAX_JSON_DEPTH`].
pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
    decode_with_depth(text, DEFAULT_MAX_JSON_DEPTH)
}

/// [`decode`] with the nesting limit a server was configured with.
pub fn decode_with_depth(text: &str, max_depth: usize) -> Result<ClientMessage, DecodeError> {
    if nests_deeper_than(text, max_depth) {
        let detail = format!("the JSON nests deeper than {max_depth} levels; no message needs that");
        return Err(DecodeError { code: ErrorCode::TooDeep, detail });
    }
    if !text.trim_start().starts_with('{') {
        // serde would read `["leave","lobby"]` as a tagged sequence; the protocol only has objects.
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => DecodeError {
                code: ErrorCode::UnknownType,
                detail: "expected a JSON object with a string \"type\" field".into(),
            },
            Err(err) => DecodeError { code: ErrorCode::BadJson, detail: format!("not valid JSON: {err}") },
        });
    }
    if let Some(send) = send_frame::decode(text) {
        return Ok(send);
    }
    let err = match serde_json::from_str::<ClientMessage>(text) {
        Ok(message) => return Ok(message),
        Err(err) => err,
    };
    if err.is_syntax() || err.is_eof() {
        return Err(DecodeError { code: ErrorCode::BadJson, detail: format!("not valid JSON: {err}") });
    }
    // A wrong field stops the typed parse before it sees that the rest of the text is not JSON at all.
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(DecodeError { code: ErrorCode::BadJson, detail: format!("not valid JSON: {err}") });
    }
    let kind = serde_json::from_str::<TypeProbe>(text).ok().and_then(|p| p.kind);
    Err(match kind {
        Some(kind) if CLIENT_TYPES.contains(&kind.as_str()) => {
            DecodeError { code: ErrorCode::BadMessage, detail: format!("malformed {kind:?} message: {err}") }
        }
        Some(kind) => DecodeError { code: ErrorCode::UnknownType, detail: format!("unknown message type {kind:?}") },
        None => DecodeError {
            code: ErrorCode::UnknownType,
            detail: "expected a JSON object with a string \"type\" field".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips() {
        let all = vec![
            ClientMessage::Hello {
                protocol: 1,
                nick: "ana".into(),
                client: Some("test/1".into()),
                password: Some("door".into()),
                auth: Some(Auth { password: None, token: Some("t0k".into()), device: Some("dev".into()) }),
            },
            ClientMessage::Join { room: "lobby".into(), after: Some(4), after_rev: Some(2), password: None },
            ClientMessage::Leave { room: "lobby".into() },
            ClientMessage::CreateRoom { room: "maths".into(), topic: None, password: None },
            ClientMessage::SetTopic { room: "maths".into(), topic: "fractions".into() },
            ClientMessage::ListRooms,
            ClientMessage::Who { room: "lobby".into() },
            ClientMessage::Send {
                room: "@bob".into(),
                text: "hi".into(),
                client_id: "c1".into(),
                poll: None,
                reply_to: Some(3),
                announce: false,
            },
            ClientMessage::Send {
                room: "maths".into(),
                text: "Best shape?".into(),
                client_id: "c2".into(),
                poll: Some(PollSpec { options: vec!["circle".into(), "square".into()], multiple: true }),
                reply_to: None,
                announce: false,
            },
            ClientMessage::Vote { room: "maths".into(), seq: 4, choices: vec![0, 1] },
            ClientMessage::ClosePoll { room: "maths".into(), seq: 4 },
            ClientMessage::React { room: "maths".into(), seq: 4, emoji: "👍".into(), on: true },
            ClientMessage::Edit { room: "maths".into(), seq: 4, text: "fixed".into() },
            ClientMessage::Delete { room: "maths".into(), seq: 4 },
            ClientMessage::Publish {
                room: "lab".into(),
                points: [("random".to_owned(), serde_json::Number::from(7))].into_iter().collect(),
            },
            ClientMessage::Typing { room: "lobby".into(), typing: true },
            ClientMessage::History { room: "lobby".into(), before: Some(10), after: None, limit: Some(50) },
            ClientMessage::Register { password: "correct horse".into() },
            ClientMessage::LogoutEverywhere,
            ClientMessage::Moderate { token: "m0d".into() },
            ClientMessage::LockRoom { room: "maths".into(), seconds: Some(300) },
            ClientMessage::UnlockRoom { room: "maths".into() },
            ClientMessage::SlowMode { room: "maths".into(), seconds: 10 },
            ClientMessage::RaiseHand { room: "maths".into(), raised: true },
            ClientMessage::CallOn { room: "maths".into(), nick: "ana".into() },
            ClientMessage::ClearHands { room: "maths".into() },
            ClientMessage::Mute { room: "maths".into(), nick: "bo".into() },
            ClientMessage::Unmute { room: "maths".into(), nick: "bo".into() },
            ClientMessage::Remove { room: "maths".into(), nick: "bo".into() },
            ClientMessage::Readmit { room: "maths".into(), nick: "bo".into() },
            ClientMessage::SetRoomPassword { room: "maths".into(), password: Some("blue whale".into()) },
            ClientMessage::Join {
                room: "maths".into(),
                after: None,
                after_rev: None,
                password: Some("blue whale".into()),
            },
            ClientMessage::Pin { room: "maths".into(), seq: 3 },
            ClientMessage::Unpin { room: "maths".into() },
            ClientMessage::Acknowledge { room: "maths".into(), seq: 3 },
            ClientMessage::Search {
                room: "maths".into(),
                query: "fractions hom".into(),
                before: Some(90),
                limit: None,
            },
            ClientMessage::Send {
                room: "maths".into(),
                text: "Test on Friday".into(),
                client_id: "c9".into(),
                poll: None,
                reply_to: None,
                announce: true,
            },
            ClientMessage::Ping { nonce: None },
        ];
        let kinds: std::collections::BTreeSet<&str> = all.iter().map(ClientMessage::kind).collect();
        assert_eq!(kinds.len(), CLIENT_TYPES.len(), "every type is tried");
        for message in all {
            let json = serde_json::to_string(&message).expect("serialise");
            assert!(json.contains(&format!("\"type\":\"{}\"", message.kind())), "{json}");
            assert_eq!(decode(&json), Ok(message), "{json}");
        }
    }

    #[test]
    fn documented_examples_decode() {
        let hello = decode(r#"{"type":"hello","protocol":1,"nick":"ana"}"#);
        assert_eq!(
            hello,
            Ok(ClientMessage::Hello { protocol: 1, nick: "ana".into(), client: None, password: None, auth: None })
        );
        assert_eq!(decode(r#"{"type":"list_rooms"}"#), Ok(ClientMessage::ListRooms));
        let extra = decode(r#"{"type":"leave","room":"lobby","future_field":true}"#);
        assert_eq!(extra, Ok(ClientMessage::Leave { room: "lobby".into() }));
    }

    #[test]
    fn failures_are_classified() {
        let code = |text: &str| decode(text).map_err(|e| e.code).err();
        assert_eq!(code("{not json"), Some(ErrorCode::BadJson));
        assert_eq!(code(""), Some(ErrorCode::BadJson));
        assert_eq!(code(r#"{"type":"dance"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(code(r#"{"no_type":1}"#), Some(ErrorCode::UnknownType));
        assert_eq!(code("[1,2]"), Some(ErrorCode::UnknownType));
        assert_eq!(code(r#"["leave","lobby"]"#), Some(ErrorCode::UnknownType));
        assert_eq!(code("42"), Some(ErrorCode::UnknownType));
        assert_eq!(code("[1,"), Some(ErrorCode::BadJson));
        assert_eq!(code(r#"{"type":"send","room":"lobby"}"#), Some(ErrorCode::BadMessage));
        assert_eq!(code(r#"{"type":"join","room":5}"#), Some(ErrorCode::BadMessage));
        assert_eq!(code(r#"{"type":"leave","room":5} x"#), Some(ErrorCode::BadJson));
        assert_eq!(code(r#"{"type":0"#), Some(ErrorCode::BadJson));
        let deep = format!(r#"{{"type":"send","room":"lobby","text":"x","client_id":"c","extra":{}}}"#, "[".repeat(17));
        assert_eq!(code(&deep), Some(ErrorCode::TooDeep));
        assert_eq!(code(&"[".repeat(1_000_000)), Some(ErrorCode::TooDeep));
    }
}
