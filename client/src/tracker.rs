//! What the user is in and how far they have read: the rooms (and direct conversations) to rejoin after a
//! reconnect, and the highest `seq` held for each, which both asks the server for exactly what was missed
//! (`join` with `after`) and drops any `message` seen before.
//!
//! Memory only: after a restart the application reloads rooms with `history`, so there is nothing to resume from.

use std::collections::HashMap;

use parlor_protocol::DmInfo;

/// Joined rooms and the last sequence number held per room or conversation.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Rooms and `@nick` conversations the user joined, in the order they were joined, rejoined in that order.
    rooms: Vec<String>,
    /// The highest `seq` delivered to the application, per room or `@nick` (folded names).
    seqs: HashMap<String, u64>,
    /// The newest revision seen per room (`joined.last_rev`, `message_updated.rev`): a rejoin asks for changes after
    /// it. Taken from `joined` even before the changes it announces arrive: they follow at once, before anything
    /// live, and a connection lost in between costs at most those changes, which a history reload shows.
    revs: HashMap<String, u64>,
}

impl Tracker {
    /// Records that the user wants to be in `room`, and says what `join` should carry as `after`: nothing for a
    /// room newly joined (the application loads its history), the last `seq` held when it was already joined.
    pub(crate) fn join(&mut self, room: &str) -> Option<u64> {
        if self.wants(room) {
            return self.held(room);
        }
        self.rooms.push(room.to_owned());
        // Anything remembered from an earlier stay is stale: the application starts the room afresh.
        self.seqs.remove(room);
        self.revs.remove(room);
        None
    }

    /// Forgets `room`: it is not rejoined and its messages are no longer tracked.
    pub(crate) fn leave(&mut self, room: &str) {
        self.rooms.retain(|r| r != room);
        self.seqs.remove(room);
        self.revs.remove(room);
    }

    /// The newest revision seen in `room`, if any.
    pub(crate) fn rev(&self, room: &str) -> Option<u64> {
        self.revs.get(room).copied()
    }

    /// Records a revision seen in `room`; revisions only grow.
    pub(crate) fn changed(&mut self, room: &str, rev: u64) {
        let held = self.revs.entry(room.to_owned()).or_default();
        *held = (*held).max(rev);
    }

    /// Whether the user joined `room`.
    pub(crate) fn wants(&self, room: &str) -> bool {
        self.rooms.iter().any(|r| r == room)
    }

    /// Every room and conversation joined, oldest first.
    pub(crate) fn rooms(&self) -> &[String] {
        &self.rooms
    }

    /// The highest `seq` held for `room`, if any.
    pub(crate) fn held(&self, room: &str) -> Option<u64> {
        self.seqs.get(room).copied()
    }

    /// Takes in a `joined` for a `join` that carried `after`. With `after`, the replay that follows raises the held
    /// `seq` message by message; without, nothing is replayed and the room's newest `seq` is where live messages
    /// continue. If the server is behind what was held, its data was reset: follow it, or every new message would
    /// look like one already seen.
    pub(crate) fn joined(&mut self, room: &str, after: Option<u64>, last_seq: u64) {
        let held = self.seqs.get(room).copied();
        let seq = match after {
            Some(after) if after > last_seq => {
                tracing::warn!(
                    room,
                    after,
                    last_seq,
                    "the server has fewer messages than this client saw; following it"
                );
                last_seq
            }
            Some(after) => held.unwrap_or(0).max(after),
            None => held.unwrap_or(0).max(last_seq),
        };
        self.seqs.insert(room.to_owned(), seq);
    }

    /// Whether a `message` with this `seq` is new (and if so, records it). A `seq` at or below the one held was
    /// already delivered: by a replay that overlapped live delivery, or before a reconnect.
    pub(crate) fn accept(&mut self, room: &str, seq: u64) -> bool {
        match self.seqs.get_mut(room) {
            Some(held) if seq <= *held => false,
            Some(held) => {
                *held = seq;
                true
            }
            None => {
                self.seqs.insert(room.to_owned(), seq);
                true
            }
        }
    }

    /// The direct conversations in `welcome.dms` with messages this client has not seen, with the `after` to
    /// replay them from. Conversations the user joined are left out: they are rejoined like rooms.
    pub(crate) fn unread_dms(&self, dms: &[DmInfo]) -> Vec<(String, u64)> {
        dms.iter()
            .filter(|dm| !self.wants(&dm.room))
            .map(|dm| (dm.room.clone(), self.held(&dm.room).unwrap_or(0), dm.last_seq))
            .filter(|(_, held, last)| last > held)
            .map(|(room, held, _)| (room, held))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_messages_are_delivered_once() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.join("lobby"), None);
        tracker.joined("lobby", None, 4);
        assert!(!tracker.accept("lobby", 4), "already in the room's history");
        assert!(tracker.accept("lobby", 5));
        assert!(!tracker.accept("lobby", 5));
        assert!(!tracker.accept("lobby", 3));
        assert!(tracker.accept("lobby", 6));
        assert_eq!(tracker.held("lobby"), Some(6));
    }

    #[test]
    fn a_rejoin_replays_exactly_what_was_missed() {
        let mut tracker = Tracker::default();
        tracker.join("lobby");
        tracker.joined("lobby", None, 2);
        assert!(tracker.accept("lobby", 3));
        // Reconnect: join again with after = 3; the server has 7 and replays 4..=7.
        assert_eq!(tracker.join("lobby"), Some(3));
        tracker.joined("lobby", Some(3), 7);
        for seq in 4..=7 {
            assert!(tracker.accept("lobby", seq), "{seq}");
        }
        // A live copy overlapping the replay is dropped.
        assert!(!tracker.accept("lobby", 7));
        assert!(tracker.accept("lobby", 8));
    }

    #[test]
    fn revisions_only_grow_and_are_forgotten_with_the_room() {
        let mut tracker = Tracker::default();
        tracker.join("lobby");
        assert_eq!(tracker.rev("lobby"), None);
        tracker.changed("lobby", 4);
        tracker.changed("lobby", 2);
        assert_eq!(tracker.rev("lobby"), Some(4));
        tracker.leave("lobby");
        assert_eq!(tracker.rev("lobby"), None);
    }

    #[test]
    fn a_reset_server_is_followed() {
        let mut tracker = Tracker::default();
        tracker.join("lobby");
        tracker.joined("lobby", None, 40);
        tracker.joined("lobby", Some(40), 2);
        assert!(tracker.accept("lobby", 3));
    }

    #[test]
    fn leaving_forgets_and_a_new_join_starts_afresh() {
        let mut tracker = Tracker::default();
        tracker.join("lobby");
        tracker.join("maths");
        tracker.joined("lobby", None, 5);
        assert_eq!(tracker.rooms(), ["lobby", "maths"]);
        tracker.leave("lobby");
        assert_eq!(tracker.rooms(), ["maths"]);
        assert_eq!(tracker.held("lobby"), None);
        assert_eq!(tracker.join("lobby"), None);
    }

    #[test]
    fn unread_direct_conversations_are_caught_up_from_what_is_held() {
        let mut tracker = Tracker::default();
        assert!(tracker.accept("@bob", 3));
        tracker.join("@cy");
        let dms = [
            DmInfo { room: "@bob".into(), last_seq: 5 },
            DmInfo { room: "@dee".into(), last_seq: 2 },
            DmInfo { room: "@eve".into(), last_seq: 0 },
            DmInfo { room: "@cy".into(), last_seq: 9 },
        ];
        assert_eq!(tracker.unread_dms(&dms), [("@bob".to_owned(), 3), ("@dee".to_owned(), 0)]);
        assert!(tracker.accept("@bob", 5));
        assert_eq!(tracker.unread_dms(&dms), [("@dee".to_owned(), 0)]);
    }
}
