//! Requests that change a stored message (`vote`, `close_poll`, `react`, `edit`, `delete`): the connection checks
//! their form and the name of the conversation; the writer checks them against the message itself
//! ([`crate::store::Change`]) and tells the conversation.

use parlor_protocol::extras::validate_reaction;
use parlor_protocol::{ErrorCode, ErrorEvent};

use super::{conversation, error, Identity, Reply, Session};
use crate::store::{Change, Edit, Op};

impl Session {
    /// Hands a change to the writer, which answers with `message_updated` to the conversation or an error to us.
    pub(super) async fn change(&self, identity: &Identity, field: &str, seq: u64, edit: Edit) -> Reply {
        let conversation = conversation(field)?;
        let change = Change {
            handle: self.handle.clone(),
            nick: identity.nick.clone(),
            key: identity.key.clone(),
            moderator: identity.moderator,
            conversation,
            seq,
            edit,
        };
        self.submit(Op::Change(change)).await
    }

    /// A reaction's form is checked before the message is looked up, so a bad one gets the same answer everywhere.
    pub(super) async fn react(&self, identity: &Identity, field: &str, seq: u64, emoji: String, on: bool) -> Reply {
        if validate_reaction(&emoji).is_err() {
            let message = "a reaction is one emoji: at most 10 characters, no spaces";
            return Err(error(ErrorCode::InvalidReaction, message).in_room(field));
        }
        self.change(identity, field, seq, Edit::React { emoji, on }).await
    }

    /// An edit's new text follows the rules of `send`.
    pub(super) async fn edit(&self, identity: &Identity, field: &str, seq: u64, text: String) -> Reply {
        self.check_text(&text).map_err(|(code, message)| -> ErrorEvent { error(code, message).in_room(field) })?;
        self.change(identity, field, seq, Edit::Text(text)).await
    }
}
