//! Room passwords: a room may ask for a password the first time someone enters it (the join code's "optionally
//! with a room password"). Whoever entered it once is remembered — rejoining after a reconnect or a restart needs
//! nothing — and moderators never need it. Passwords are stored hashed with argon2id, like account passwords, and
//! checked on the accounts' bounded hashing pool, never on the writer thread.

use parlor_protocol::{Conversation, ErrorCode, ErrorEvent, Secret};

use super::{conversation, error, Identity, Reply, Session};
use crate::store::Op;

/// Longest room password, in characters.
const MAX_ROOM_PASSWORD_CHARS: usize = 128;

impl Session {
    /// Whether `identity` may enter `room`, and if so whether the store should remember them as admitted (they gave
    /// the right password just now).
    pub(super) async fn check_room_password(
        &self,
        room: &str,
        identity: &Identity,
        password: Option<Secret>,
    ) -> Result<bool, ErrorEvent> {
        let Some(hash) = self.shared.hub.password_to_enter(room, &identity.key) else { return Ok(false) };
        let Some(password) = password else {
            let message = "this room has a password; ask the host for it";
            return Err(error(ErrorCode::RoomPasswordRequired, message).in_room(room));
        };
        match self.shared.accounts.verify_secret(hash, password).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                tracing::info!(room, nick = %identity.nick, "wrong room password");
                Err(error(ErrorCode::WrongRoomPassword, "that is not this room's password").in_room(room))
            }
            Err(err) => {
                tracing::error!(%err, "room password check failed");
                Err(error(ErrorCode::StorageFailed, "the server could not check the password; try again").in_room(room))
            }
        }
    }

    /// Whether `identity` may not read `room` (history, search, who) because it has a password they never gave.
    pub(super) fn kept_out(&self, identity: &Identity, room: &str) -> bool {
        !identity.moderator && self.shared.hub.password_to_enter(room, &identity.key).is_some()
    }

    /// The stored form of a room password (none for an empty one).
    pub(super) async fn hash_room_password(
        &self,
        password: Option<Secret>,
        field: &str,
    ) -> Result<Option<String>, ErrorEvent> {
        let Some(password) = password.filter(|p| !p.expose().is_empty()) else { return Ok(None) };
        let chars = password.expose().chars().count();
        if chars > MAX_ROOM_PASSWORD_CHARS || password.expose().chars().any(char::is_control) {
            let message =
                format!("a room password is at most {MAX_ROOM_PASSWORD_CHARS} characters, without control characters");
            return Err(error(ErrorCode::WeakPassword, message).in_room(field));
        }
        self.shared.accounts.hash_secret(password).await.map(Some).map_err(|err| {
            tracing::error!(%err, "room password hashing failed");
            error(ErrorCode::StorageFailed, "the server could not store the password; try again").in_room(field)
        })
    }

    /// Moderators: gives a room a password, or removes it.
    pub(super) async fn set_room_password(&self, identity: &Identity, field: &str, password: Option<Secret>) -> Reply {
        let room = self.moderated_room(identity, field)?;
        if !matches!(conversation(field)?, Conversation::Room(_)) || !self.shared.hub.room_exists(&room) {
            return Err(error(ErrorCode::NoSuchRoom, "there is no room with that name").in_room(field));
        }
        let hash = self.hash_room_password(password, field).await?;
        tracing::info!(room, moderator = %identity.nick, set = hash.is_some(), "room password changed");
        // The store answers with the room list once the change is in effect.
        self.submit(Op::SetRoomPassword { handle: self.handle.clone(), room, hash }).await
    }
}
