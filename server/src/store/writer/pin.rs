//! The pinned message of each room: one at a time, stored with the room (`rooms.pinned_seq`), shown to everyone in
//! the room and to each who joins. A pinned message that is deleted is unpinned.

use parlor_protocol::{ErrorCode, ErrorEvent, ServerEvent};

use super::Writer;
use crate::outbox::{encode, PeerHandle};
use crate::store::conv::ConvKey;

impl Writer {
    /// Pins `seq` in `room` (or unpins, with `None`) for the moderator `by`.
    pub(super) fn pin(&mut self, handle: &PeerHandle, by: &str, room: &str, seq: Option<u64>) {
        let refuse = |code: ErrorCode, message: &str| {
            handle.reply(&ServerEvent::Error(ErrorEvent::new(code, message).in_room(room)));
        };
        if !self.hub.room_exists(room) {
            return refuse(ErrorCode::NoSuchRoom, "there is no room with that name");
        }
        if let Some(seq) = seq {
            match self.load(&ConvKey::Room(room.to_owned()), seq) {
                Ok(Some(stored)) if !stored.is_deleted() => {}
                Ok(_) => return refuse(ErrorCode::NoSuchMessage, "there is no such message here to pin"),
                Err(err) => {
                    tracing::error!(%err, "failed to read a message to pin");
                    return refuse(ErrorCode::StorageFailed, "the server could not read that message");
                }
            }
        }
        if let Err(err) = self.set_pin(room, seq, Some(by)) {
            tracing::error!(%err, "failed to store a pin");
            refuse(ErrorCode::StorageFailed, "the server could not store the pin; try again");
        }
    }

    /// Stores the pin and tells the room, with the message as it is now.
    pub(super) fn set_pin(&mut self, room: &str, seq: Option<u64>, by: Option<&str>) -> rusqlite::Result<()> {
        self.conn.execute("UPDATE rooms SET pinned_seq = ?2 WHERE name = ?1", (room, seq))?;
        match seq {
            Some(seq) => self.pinned.insert(room.to_owned(), seq),
            None => self.pinned.remove(room),
        };
        let event = match self.pinned_message(room) {
            Some(ServerEvent::Pinned { room, message, .. }) => {
                ServerEvent::Pinned { room, message, by: by.map(str::to_owned) }
            }
            _ => ServerEvent::Pinned { room: room.to_owned(), message: None, by: by.map(str::to_owned) },
        };
        self.hub.broadcast(room, &encode(&event));
        Ok(())
    }

    /// The `pinned` event for a room with a pinned message, as sent after `joined`.
    pub(super) fn pinned_message(&self, room: &str) -> Option<ServerEvent> {
        let seq = *self.pinned.get(room)?;
        match self.load(&ConvKey::Room(room.to_owned()), seq) {
            Ok(Some(stored)) => {
                let message = stored.into_message(room);
                Some(ServerEvent::Pinned { room: room.to_owned(), message: Some(Box::new(message)), by: None })
            }
            Ok(None) => None,
            Err(err) => {
                tracing::error!(%err, "failed to read a pinned message");
                None
            }
        }
    }
}
