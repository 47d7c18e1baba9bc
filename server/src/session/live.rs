//! `publish`: live data points for a room's charts. Not stored, so nothing goes through the writer: the hub sends
//! them to the members and keeps the room's newest for those who join later.

use parlor_protocol::series::{validate_points, DataPoints, MAX_SERIES_PER_PUBLISH, SERIES_NAME_MAX_CHARS};
use parlor_protocol::{Conversation, ErrorCode, Points, ServerEvent};

use super::{conversation, error, Identity, Reply, Session};
use crate::rules::Refusal;
use crate::store::now_ms;

impl Session {
    pub(super) fn publish(&self, identity: &Identity, field: &str, points: Points) -> Reply {
        let Conversation::Room(room) = conversation(field)? else {
            return Err(
                error(ErrorCode::InvalidRoom, "live data goes to rooms, not direct conversations").in_room(field)
            );
        };
        if !validate_points(&points) {
            let message = format!(
                "publish 1 to {MAX_SERIES_PER_PUBLISH} series, each named by at most {SERIES_NAME_MAX_CHARS} \
                 characters of one line, with a number"
            );
            return Err(error(ErrorCode::InvalidData, message).in_room(field));
        }
        // A lock or a mute stops posting, and a chart is posting; slow mode is for people, and a ticker is not.
        match self.shared.hub.silenced(&room, &identity.key, identity.moderator) {
            Some(Refusal::Muted) => {
                let message = format!("a moderator muted you in {room:?}");
                return Err(error(ErrorCode::Muted, message).in_room(field));
            }
            Some(_) => {
                let message = format!("{room:?} is locked: only moderators may post until it is unlocked");
                return Err(error(ErrorCode::RoomLocked, message).in_room(field));
            }
            None => {}
        }
        let event =
            ServerEvent::Data(DataPoints { room: room.clone(), from: identity.nick.clone(), ts: now_ms(), points });
        self.shared
            .hub
            .publish(&room, Some(self.handle.id()), &event)
            .map_err(|_| error(ErrorCode::NotInRoom, format!("join {field:?} first")).in_room(field))?;
        Ok(None)
    }
}
