//! The part of a stored message that can change after it is stored — its poll, reactions, quote, edit and deletion
//! marks — kept as one JSON column beside the text, so a plain message (the common case, and the hot path) stores
//! and reads nothing extra.

use parlor_protocol::{Announcement, ChatMessage, Poll, Quote, Reaction};
use rusqlite::types::Type;
use serde::{Deserialize, Serialize};

/// The `extra` column of `messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) poll: Option<Poll>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) announcement: Option<Announcement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) reactions: Vec<Reaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply_to: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) edited_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleted: bool,
}

impl Extras {
    /// Reads the column; NULL is a plain message. `column` is its index, for the error.
    pub(crate) fn from_column(value: Option<String>, column: usize) -> rusqlite::Result<Self> {
        match value {
            None => Ok(Self::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|err| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(err))),
        }
    }

    /// The column's value: NULL when there is nothing beyond the text.
    pub(crate) fn to_column(&self) -> Option<String> {
        if *self == Self::default() {
            return None;
        }
        // Plain data (strings, numbers, vectors) always serialises.
        serde_json::to_string(self).ok()
    }

    /// Puts these extras on a message read or built from its other columns.
    pub(crate) fn apply(self, message: &mut ChatMessage) {
        message.poll = self.poll;
        message.announcement = self.announcement;
        message.reactions = self.reactions;
        message.reply_to = self.reply_to;
        message.edited_ms = self.edited_ms;
        message.deleted = self.deleted;
    }
}

#[cfg(test)]
mod tests {
    use parlor_protocol::PollSpec;

    use super::*;

    #[test]
    fn a_plain_message_stores_null_and_reads_back_plain() {
        assert_eq!(Extras::default().to_column(), None);
        assert_eq!(Extras::from_column(None, 0).expect("null"), Extras::default());
    }

    #[test]
    fn extras_round_trip_through_the_column() {
        let extras = Extras {
            poll: Some(PollSpec { options: vec!["a".into(), "b".into()], multiple: false }.open()),
            reactions: vec![Reaction { emoji: "🎉".into(), by: vec!["ana".into()] }],
            reply_to: Some(Quote { seq: 2, from: "bo".into(), text: "hm".into() }),
            announcement: Some(Announcement { acks: vec!["cy".into()] }),
            edited_ms: Some(9),
            deleted: false,
        };
        let column = extras.to_column();
        assert_eq!(Extras::from_column(column, 0).expect("parse"), extras);
        assert!(Extras::from_column(Some("{".into()), 6).is_err(), "a damaged column is an error, not a blank");
    }
}
