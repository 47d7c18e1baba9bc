//! Moderator requests about people and pins: mute and unmute, remove and readmit, pin and unpin. Mutes and
//! removals are room rules kept by the hub (memory only, like a lock); a pin is stored with the room, so it goes
//! through the writer.

use parlor_protocol::names::{self, fold};
use parlor_protocol::{ErrorCode, ServerEvent};

use super::{error, name_error, Identity, Reply, Session};
use crate::hub::RuleChange;
use crate::store::Op;

/// What a moderator does to a participant.
#[derive(Debug, Clone, Copy)]
pub(super) enum Sanction {
    /// Mute (`true`) or unmute.
    Mute(bool),
    /// Remove (`true`) or readmit.
    Remove(bool),
}

impl Session {
    pub(super) fn moderate_member(&self, identity: &Identity, field: &str, nick: &str, sanction: Sanction) -> Reply {
        let room = self.moderated_room(identity, field)?;
        if let Err(err) = names::validate_nick(nick) {
            return Err(name_error(ErrorCode::InvalidNick, "the nickname", &err, nick).in_room(field));
        }
        let (key, nick) = (fold(nick), nick.to_owned());
        if key == identity.key && matches!(sanction, Sanction::Mute(true) | Sanction::Remove(true)) {
            return Err(error(ErrorCode::InvalidNick, "a moderator cannot mute or remove themselves").in_room(field));
        }
        let change = match sanction {
            Sanction::Mute(on) => RuleChange::Mute { key, nick, on },
            Sanction::Remove(on) => RuleChange::Remove { key, nick, on },
        };
        match self.shared.hub.change_rules(&room, change.clone(), &identity.nick, self.handle.id()) {
            Some(state) => {
                tracing::info!(room, moderator = %identity.nick, ?change, "a participant's rights changed");
                Ok(Some(ServerEvent::RoomState(state)))
            }
            None => Err(error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field)),
        }
    }

    /// Pins message `seq` (or, with `None`, unpins): the writer checks the message and tells the room.
    pub(super) async fn pin(&self, identity: &Identity, field: &str, seq: Option<u64>) -> Reply {
        let room = self.moderated_room(identity, field)?;
        let (handle, by) = (self.handle.clone(), identity.nick.clone());
        self.submit(Op::Pin { handle, by, room, seq }).await
    }
}
