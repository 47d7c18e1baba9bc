//! How rooms and direct conversations are keyed in the database, and named for each reader.

use parlor_protocol::Conversation;

/// A conversation as stored: a room, or a direct conversation between two folded nicknames (sorted, so both sides
/// share one key and one sequence).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ConvKey {
    /// A room by its folded name.
    Room(String),
    /// A direct conversation; `.0 <= .1`.
    Direct(String, String),
}

impl ConvKey {
    /// The key of `conversation` as seen by the user `viewer`.
    pub(crate) fn new(conversation: &Conversation, viewer: &str) -> Self {
        match conversation {
            Conversation::Room(room) => Self::Room(room.clone()),
            Conversation::Direct(other) => Self::direct(viewer, other),
        }
    }

    /// The direct conversation between two users, whichever side asks.
    pub(crate) fn direct(a: &str, b: &str) -> Self {
        if a <= b {
            Self::Direct(a.to_owned(), b.to_owned())
        } else {
            Self::Direct(b.to_owned(), a.to_owned())
        }
    }

    /// The text stored in the `conv` column. Nicknames and room names cannot hold `:`, so keys never collide.
    pub(crate) fn db(&self) -> String {
        match self {
            Self::Room(room) => format!("r:{room}"),
            Self::Direct(a, b) => format!("d:{a}:{b}"),
        }
    }

    /// Reads a `conv` column back.
    pub(crate) fn parse(db: &str) -> Option<Self> {
        if let Some(room) = db.strip_prefix("r:") {
            return Some(Self::Room(room.to_owned()));
        }
        let (a, b) = db.strip_prefix("d:")?.split_once(':')?;
        Some(Self::Direct(a.to_owned(), b.to_owned()))
    }

    /// The `room` field as `viewer` sees it: the room's name, or `@` and the other person's nickname.
    pub(crate) fn display_for(&self, viewer: &str) -> String {
        match self {
            Self::Room(room) => room.clone(),
            Self::Direct(a, b) => format!("@{}", if a == viewer { b } else { a }),
        }
    }

    /// The two people of a direct conversation.
    pub(crate) fn participants(&self) -> Option<[&str; 2]> {
        match self {
            Self::Room(_) => None,
            Self::Direct(a, b) => Some([a, b]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_a_direct_conversation_share_a_key_but_see_the_other_name() {
        let ana = ConvKey::new(&Conversation::Direct("bo".into()), "ana");
        let bo = ConvKey::new(&Conversation::Direct("ana".into()), "bo");
        assert_eq!(ana, bo);
        assert_eq!(ana.db(), "d:ana:bo");
        assert_eq!(ana.display_for("ana"), "@bo");
        assert_eq!(ana.display_for("bo"), "@ana");
        assert_eq!(ConvKey::parse(&ana.db()), Some(ana));
    }

    #[test]
    fn rooms_round_trip() {
        let lobby = ConvKey::Room("lobby".into());
        assert_eq!(ConvKey::parse("r:lobby"), Some(lobby.clone()));
        assert_eq!(lobby.display_for("anyone"), "lobby");
        assert_eq!(ConvKey::parse("x:y"), None);
    }
}
