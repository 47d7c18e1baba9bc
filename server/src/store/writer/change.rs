//! Changing a stored message — a vote, a poll closed, a reaction, an edit, a deletion — on the writer thread, so a
//! change is ordered with the messages and joins around it: a `join` sees either the message before the change (and
//! then the `message_updated`) or after it, never neither.
//!
//! Each change bumps the conversation's revision; the message keeps the revision of its last change, which is what
//! a resuming client asks about (`join.after_rev`).

use parlor_protocol::extras::{toggle_reaction, validate_reaction};
use parlor_protocol::{ChatMessage, Conversation, ErrorCode, ErrorEvent, ServerEvent};
use rusqlite::OptionalExtension;

use super::Writer;
use crate::outbox::{encode, PeerHandle};
use crate::store::conv::ConvKey;
use crate::store::extras::Extras;
use crate::store::now_ms;

/// A request to change a message, checked for form by the connection; the writer checks it against the message.
#[derive(Debug)]
pub(crate) struct Change {
    /// Who asks, for the refusal.
    pub(crate) handle: PeerHandle,
    /// Their nickname as shown (votes and reactions list it).
    pub(crate) nick: String,
    /// Their folded nickname.
    pub(crate) key: String,
    /// Whether they moderate (may delete anyone's message and close anyone's poll).
    pub(crate) moderator: bool,
    /// Where the message is.
    pub(crate) conversation: Conversation,
    /// Which message.
    pub(crate) seq: u64,
    /// What to do to it.
    pub(crate) edit: Edit,
}

/// What a [`Change`] does.
#[derive(Debug)]
pub(crate) enum Edit {
    /// Replace the voter's choices in the poll.
    Vote(Vec<u32>),
    /// End the poll.
    ClosePoll,
    /// Add or take back a reaction.
    React { emoji: String, on: bool },
    /// Replace the text (validated already).
    Text(String),
    /// Blank the message, keeping its place.
    Delete,
    /// Say "I've read it" to an announcement.
    Acknowledge,
}

/// A stored message as the writer reads it to change it.
pub(super) struct Stored {
    id: i64,
    sender_key: String,
    message: ChatMessage,
    extras: Extras,
}

impl Stored {
    /// The message as a client sees it, named for a room.
    pub(super) fn into_message(self, room: &str) -> ChatMessage {
        let Self { id, mut message, extras, .. } = self;
        message.room = room.to_owned();
        message.id = id;
        extras.apply(&mut message);
        message
    }

    pub(super) fn is_deleted(&self) -> bool {
        self.extras.deleted
    }
}

type Refused = (ErrorCode, String);

impl Writer {
    pub(super) fn change(&mut self, change: Change) {
        let room_name = change.conversation.display();
        let refuse = |(code, message): Refused| {
            let error = ErrorEvent::new(code, message).in_room(room_name.clone());
            change.handle.reply(&ServerEvent::Error(error));
        };
        if let Conversation::Room(room) = &change.conversation {
            if !self.hub.is_member(room, change.handle.id()) {
                return refuse((ErrorCode::NotInRoom, format!("join {room:?} first")));
            }
        }
        let conv = ConvKey::new(&change.conversation, &change.key);
        let stored = match self.load(&conv, change.seq) {
            Ok(Some(stored)) if !stored.extras.deleted => stored,
            Ok(_) => {
                let message = format!("there is no message {} here (it may have been deleted)", change.seq);
                return refuse((ErrorCode::NoSuchMessage, message));
            }
            Err(err) => {
                tracing::error!(%err, "failed to read a message to change");
                return refuse((ErrorCode::StorageFailed, "the server could not read that message".into()));
            }
        };
        let Stored { id, sender_key, mut message, mut extras } = stored;
        if let Err(refused) = apply(&change, &sender_key, &mut message.text, &mut extras) {
            return refuse(refused);
        }
        let rev = self.last_rev.get(&conv).copied().unwrap_or(0) + 1;
        if let Err(err) = self.save(&conv, id, &message.text, &extras, rev) {
            tracing::error!(%err, "failed to store a change to a message");
            return refuse((ErrorCode::StorageFailed, "the server could not store that; try again later".into()));
        }
        self.last_rev.insert(conv.clone(), rev);
        message.id = id;
        message.rev = rev;
        let deleted = extras.deleted;
        extras.apply(&mut message);
        self.tell(&conv, message);
        if let (true, ConvKey::Room(room)) = (deleted, &conv) {
            if self.pinned.get(room) == Some(&change.seq) {
                if let Err(err) = self.set_pin(room, None, None) {
                    tracing::error!(%err, "failed to unpin a deleted message");
                }
            }
        }
    }

    pub(super) fn load(&self, conv: &ConvKey, seq: u64) -> rusqlite::Result<Option<Stored>> {
        let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
        self.conn
            .prepare_cached(
                "SELECT id, seq, sender_key, sender, client_id, text, ts, extra, rev FROM messages
                 WHERE conv = ?1 AND seq = ?2",
            )?
            .query_row((conv.db(), seq), |row| {
                Ok(Stored {
                    id: row.get(0)?,
                    sender_key: row.get(2)?,
                    message: ChatMessage {
                        seq: row.get(1)?,
                        from: row.get(3)?,
                        client_id: row.get(4)?,
                        text: row.get(5)?,
                        ts: row.get(6)?,
                        rev: row.get(8)?,
                        ..ChatMessage::default()
                    },
                    extras: Extras::from_column(row.get(7)?, 7)?,
                })
            })
            .optional()
    }

    fn save(&mut self, conv: &ConvKey, id: i64, text: &str, extras: &Extras, rev: u64) -> rusqlite::Result<()> {
        let indexed = self.indexed;
        let tx = self.conn.transaction()?;
        Self::reindex(&tx, indexed, id, text)?;
        tx.prepare_cached("UPDATE messages SET text = ?2, extra = ?3, rev = ?4 WHERE id = ?1")?.execute((
            id,
            text,
            extras.to_column(),
            rev,
        ))?;
        tx.prepare_cached("UPDATE convs SET last_rev = ?2 WHERE conv = ?1")?.execute((conv.db(), rev))?;
        tx.commit()
    }

    /// Sends the changed message to its conversation: a room's members, or both people of a direct one.
    fn tell(&self, conv: &ConvKey, mut message: ChatMessage) {
        match conv {
            ConvKey::Room(room) => {
                message.room = room.clone();
                self.hub.broadcast(room, &encode(&ServerEvent::MessageUpdated(message)));
            }
            ConvKey::Direct(..) => {
                for person in conv.participants().into_iter().flatten() {
                    if let Some(target) = self.hub.handle_of(person) {
                        message.room = conv.display_for(person);
                        target.send_event(&ServerEvent::MessageUpdated(message.clone()));
                    }
                }
            }
        }
    }
}

/// Applies `change` to a message's text and extras, or says why it may not.
fn apply(change: &Change, sender_key: &str, text: &mut String, extras: &mut Extras) -> Result<(), Refused> {
    let own = sender_key == change.key;
    match &change.edit {
        Edit::Vote(choices) => {
            let poll = extras.poll.as_mut().ok_or_else(not_a_poll)?;
            if poll.closed {
                return Err((ErrorCode::PollClosed, "this poll is closed; its results are final".into()));
            }
            poll.vote(&change.nick, choices).map_err(|_| {
                let message =
                    "choose options of this poll by number from 0, each once (one only unless it allows several)";
                (ErrorCode::InvalidVote, message.to_owned())
            })?;
        }
        Edit::ClosePoll => {
            let poll = extras.poll.as_mut().ok_or_else(not_a_poll)?;
            if !own && !change.moderator {
                return Err(not_yours("close this poll"));
            }
            poll.closed = true;
        }
        Edit::React { emoji, on } => {
            let refused = || {
                let message = "a reaction is one emoji (at most 10 characters, no spaces), and a message holds at \
                               most 20 different ones";
                (ErrorCode::InvalidReaction, message.to_owned())
            };
            validate_reaction(emoji).map_err(|_| refused())?;
            if !toggle_reaction(&mut extras.reactions, emoji, &change.nick, *on) {
                return Err(refused());
            }
        }
        Edit::Text(new) => {
            if !own {
                return Err((ErrorCode::NotYours, "only its sender may edit a message".into()));
            }
            new.clone_into(text);
            extras.edited_ms = Some(now_ms());
        }
        Edit::Delete => {
            if !own && !change.moderator {
                return Err(not_yours("delete this message"));
            }
            text.clear();
            *extras = Extras { deleted: true, ..Extras::default() };
        }
        Edit::Acknowledge => {
            let announcement = extras.announcement.as_mut().ok_or_else(|| {
                (ErrorCode::NotAnAnnouncement, "that message is not an announcement to acknowledge".to_owned())
            })?;
            announcement.acknowledge(&change.nick);
        }
    }
    Ok(())
}

fn not_a_poll() -> Refused {
    (ErrorCode::NotAPoll, "that message is not a poll".into())
}

fn not_yours(what: &str) -> Refused {
    (ErrorCode::NotYours, format!("only its sender or a moderator may {what}"))
}
