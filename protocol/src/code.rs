//! Stable, machine-readable codes. Clients branch on these strings and numbers, so they never change meaning within a
//! protocol version; the human sentence that travels beside them may.

use serde::{Deserialize, Serialize};

/// Why a request was refused. Sent inside an `error` event; the connection stays open unless a close follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    BadJson,
    /// The JSON has no `type`, or a `type` this server does not know.
    UnknownType,
    /// The `type` is known but a field is missing or has the wrong type.
    BadMessage,
    /// The JSON nests arrays or objects deeper than the server allows (no message needs more than a few levels).
    TooDeep,
    /// A binary frame arrived; the protocol uses text frames only.
    BinaryFrame,
    /// The frame is larger than `limits.max_frame_bytes`.
    FrameTooLarge,
    /// `hello` named a protocol version the server does not speak.
    UnsupportedVersion,
    /// A request other than `hello`/`ping` arrived before a successful `hello`.
    HelloRequired,
    /// `hello` was sent again on a connection that already has a nickname.
    AlreadyGreeted,
    /// The server has a password and `hello` gave none.
    PasswordRequired,
    /// The password in `hello` is not the server's.
    WrongPassword,
    /// The nickname is registered: `hello` must carry its password or a session token.
    SignInRequired,
    /// The account password or session token is wrong, or the token was revoked ("log out everywhere").
    WrongCredentials,
    /// An unregistered nickname kept by the device that first used it; this connection is another device.
    NickClaimed,
    /// `register` named a nickname that is already an account.
    AlreadyRegistered,
    /// `register` gave a password shorter than the minimum, or one with control characters.
    WeakPassword,
    /// The request needs a signed-in account (e.g. `logout_everywhere` from a guest).
    NotSignedIn,
    /// Another online user holds this nickname (compared case-insensitively).
    NickTaken,
    /// The nickname breaks the naming rules (see `names`).
    InvalidNick,
    /// The room name breaks the naming rules.
    InvalidRoom,
    /// No room has this name.
    NoSuchRoom,
    /// `create_room` named a room that already exists.
    RoomExists,
    /// The request needs membership of a room the connection has not joined.
    NotInRoom,
    /// A direct message names a nickname this server has never seen.
    NoSuchUser,
    /// The message text is empty or holds control characters.
    InvalidText,
    /// The message text is longer than `limits.max_text_chars`.
    TextTooLong,
    /// The topic is longer than `limits.max_topic_chars` or holds control characters.
    InvalidTopic,
    /// `client_id` is missing, empty, too long, or not printable ASCII.
    InvalidClientId,
    /// The history request is malformed (both `before` and `after`, or a zero limit).
    InvalidRange,
    /// The connection sends faster than `limits.rate_per_second`; the frame was dropped. Retry after `retry_after_ms`.
    RateLimited,
    /// A moderator request (`lock_room`, `unlock_room`, `slow_mode`) from a connection that is not a moderator, or
    /// `moderate` with a wrong token.
    NotModerator,
    /// The room is locked: only moderators may post until it is unlocked (`room_state` says until when).
    RoomLocked,
    /// Slow mode: this participant posted in the room less than `slow_mode_s` seconds ago. Retry after
    /// `retry_after_ms`.
    SlowMode,
    /// `vote`, `close_poll`, `react`, `edit`, `delete` or a `reply_to` named a message the conversation does not hold
    /// (never sent, pruned, or deleted).
    NoSuchMessage,
    /// A poll with fewer than 2 or more than 10 options, an empty or overlong option, or two the same.
    InvalidPoll,
    /// `vote` or `close_poll` named a message that is not a poll.
    NotAPoll,
    /// The poll is closed: its results are final.
    PollClosed,
    /// A vote for an option that does not exist, the same option twice, or several on a single-choice poll.
    InvalidVote,
    /// A reaction that is empty, too long or holds spaces, or a new one on a message that has 20 kinds already.
    InvalidReaction,
    /// A `publish` without series, with more than 8, or with a badly named one.
    InvalidData,
    /// The room has a password and `join` carried none (the first time this nickname enters it).
    RoomPasswordRequired,
    /// The room's password in `join` is wrong.
    WrongRoomPassword,
    /// A `search` with no words, or more than 200 characters.
    InvalidQuery,
    /// A moderator muted this participant in the room: they may read, vote and react, not post.
    Muted,
    /// A moderator removed this participant from the room; they may join again once readmitted.
    RemovedFromRoom,
    /// `acknowledge` named a message that is not an announcement.
    NotAnAnnouncement,
    /// Only the sender may edit a message; only the sender or a moderator may delete it or close its poll.
    NotYours,
    /// The server already holds as many rooms as it allows.
    TooManyRooms,
    /// The server could not store the message; nothing was sent to anyone. Retry later.
    StorageFailed,
    /// The server is shutting down or failed internally; retry after reconnecting.
    Unavailable,
    /// A code this version of the crate does not know (sent by a newer server): treat it as a refusal and show the
    /// message.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it appears on the wire, for logs and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadJson => "bad_json",
            Self::UnknownType => "unknown_type",
            Self::BadMessage => "bad_message",
            Self::TooDeep => "too_deep",
            Self::BinaryFrame => "binary_frame",
            Self::FrameTooLarge => "frame_too_large",
            Self::UnsupportedVersion => "unsupported_version",
            Self::HelloRequired => "hello_required",
            Self::AlreadyGreeted => "already_greeted",
            Self::PasswordRequired => "password_required",
            Self::WrongPassword => "wrong_password",
            Self::SignInRequired => "sign_in_required",
            Self::WrongCredentials => "wrong_credentials",
            Self::NickClaimed => "nick_claimed",
            Self::AlreadyRegistered => "already_registered",
            Self::WeakPassword => "weak_password",
            Self::NotSignedIn => "not_signed_in",
            Self::NickTaken => "nick_taken",
            Self::InvalidNick => "invalid_nick",
            Self::InvalidRoom => "invalid_room",
            Self::NoSuchRoom => "no_such_room",
            Self::RoomExists => "room_exists",
            Self::NotInRoom => "not_in_room",
            Self::NoSuchUser => "no_such_user",
            Self::InvalidText => "invalid_text",
            Self::TextTooLong => "text_too_long",
            Self::NoSuchMessage => "no_such_message",
            Self::InvalidPoll => "invalid_poll",
            Self::NotAPoll => "not_a_poll",
            Self::PollClosed => "poll_closed",
            Self::InvalidVote => "invalid_vote",
            Self::InvalidReaction => "invalid_reaction",
            Self::NotYours => "not_yours",
            Self::InvalidData => "invalid_data",
            Self::Muted => "muted",
            Self::InvalidQuery => "invalid_query",
            Self::RoomPasswordRequired => "room_password_required",
            Self::WrongRoomPassword => "wrong_room_password",
            Self::RemovedFromRoom => "removed_from_room",
            Self::NotAnAnnouncement => "not_an_announcement",
            Self::InvalidTopic => "invalid_topic",
            Self::InvalidClientId => "invalid_client_id",
            Self::InvalidRange => "invalid_range",
            Self::RateLimited => "rate_limited",
            Self::NotModerator => "not_moderator",
            Self::RoomLocked => "room_locked",
            Self::SlowMode => "slow_mode",
            Self::TooManyRooms => "too_many_rooms",
            Self::StorageFailed => "storage_failed",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the server closed a WebSocket. The standard codes keep their RFC 6455 meaning; 4000–4999 are Parlor's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000: the conversation ended normally.
    Normal,
    /// 1001: the server is shutting down; reconnect later.
    GoingAway,
    /// 1007: a text frame was not valid UTF-8.
    InvalidPayload,
    /// 1008: the client kept breaking the rules (e.g. ignored rate limits); do not retry at once.
    PolicyViolation,
    /// 1009: a frame exceeded the hard size limit, far above `max_frame_bytes`.
    MessageTooBig,
    /// 1011: the server failed internally.
    InternalError,
    /// 1013: the server holds its maximum number of connections; retry later.
    TryAgainLater,
    /// 4000: no successful `hello` arrived within the handshake timeout.
    HelloTimeout,
    /// 4001: the client stopped reading and its outbound queue overflowed.
    SlowConsumer,
    /// 4002: the client sent nothing (not even a pong) for the idle timeout.
    IdleTimeout,
    /// 4003: this address already holds as many connections as the server allows one address.
    TooManyFromAddress,
}

impl CloseCode {
    /// The number sent in the WebSocket close frame.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::Normal => 1000,
            Self::GoingAway => 1001,
            Self::InvalidPayload => 1007,
            Self::PolicyViolation => 1008,
            Self::MessageTooBig => 1009,
            Self::InternalError => 1011,
            Self::TryAgainLater => 1013,
            Self::HelloTimeout => 4000,
            Self::SlowConsumer => 4001,
            Self::IdleTimeout => 4002,
            Self::TooManyFromAddress => 4003,
        }
    }

    /// The code for a number, if it is one Parlor uses.
    pub fn from_u16(code: u16) -> Option<Self> {
        [
            Self::Normal,
            Self::GoingAway,
            Self::InvalidPayload,
            Self::PolicyViolation,
            Self::MessageTooBig,
            Self::InternalError,
            Self::TryAgainLater,
            Self::HelloTimeout,
            Self::SlowConsumer,
            Self::IdleTimeout,
            Self::TooManyFromAddress,
        ]
        .into_iter()
        .find(|c| c.as_u16() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialise_as_their_wire_names() {
        for code in [ErrorCode::BadJson, ErrorCode::NickTaken, ErrorCode::RateLimited, ErrorCode::StorageFailed] {
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, code);
        }
    }

    #[test]
    fn a_code_from_a_newer_server_still_parses() {
        let code: ErrorCode = serde_json::from_str("\"brand_new_code\"").expect("deserialise");
        assert_eq!(code, ErrorCode::Unknown);
    }

    #[test]
    fn close_codes_round_trip_through_numbers() {
        assert_eq!(CloseCode::from_u16(4001), Some(CloseCode::SlowConsumer));
        assert_eq!(CloseCode::GoingAway.as_u16(), 1001);
        assert_eq!(CloseCode::from_u16(1234), None);
    }
}
