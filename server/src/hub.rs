//! Who is online and where: nicknames, room membership, topics and typing. Shared by every connection.
//!
//! Everything here is in memory and ephemeral; what must survive a restart lives in [`crate::store`]. One
//! `std::sync::Mutex` guards it: no lock is held across an `.await`, and fan-out under the lock only pushes shared
//! frames into unbounded outboxes, which never blocks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use parlor_protocol::series::DATA_WINDOW;
use parlor_protocol::{Conversation, LeaveReason, RoomInfo, RoomState, ServerEvent};
use tokio::time::Instant;

use crate::outbox::{encode, Frame, PeerHandle, PeerId};
use crate::rules::{Refusal, RoomRules};

/// Shared presence state.
#[derive(Debug)]
pub(crate) struct Hub {
    state: Mutex<State>,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    peers: HashMap<PeerId, Peer>,
    /// Folded nickname → connection, so nicknames stay unique among those online.
    nicks: HashMap<String, PeerId>,
    rooms: BTreeMap<String, Room>,
    /// (typist, folded nickname of the other person) → when the typing lapses.
    dm_typing: HashMap<(PeerId, String), Instant>,
}

#[derive(Debug)]
struct Peer {
    nick: String,
    key: String,
    handle: PeerHandle,
    rooms: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Room {
    topic: String,
    members: BTreeSet<PeerId>,
    /// Typist → when the typing lapses.
    typing: HashMap<PeerId, Instant>,
    /// Who may post, and how often.
    rules: RoomRules,
    /// Raised hands, first raised first.
    hands: Vec<PeerId>,
    /// The newest live data events (at most [`DATA_WINDOW`]), encoded, for those who join later.
    recent_data: VecDeque<Frame>,
    /// The room's password (argon2id), if it has one, and who entered it already (folded nicknames).
    password_hash: Option<String>,
    admitted: HashSet<String>,
}

/// How a moderator changes a room's rules.
#[derive(Debug, Clone)]
pub(crate) enum RuleChange {
    /// Lock, for this long or until unlocked.
    Lock(Option<std::time::Duration>),
    Unlock,
    SlowMode(std::time::Duration),
    /// Mute (`true`) or unmute a participant: folded nickname, nickname as shown.
    Mute {
        key: String,
        nick: String,
        on: bool,
    },
    /// Remove (`true`, taking them out of the room now) or readmit a participant.
    Remove {
        key: String,
        nick: String,
        on: bool,
    },
}

/// The nickname is held by another connection.
#[derive(Debug)]
pub(crate) struct NickTaken;

/// The connection is not in the room it named.
#[derive(Debug)]
pub(crate) struct NotInRoom;

impl Hub {
    /// A hub knowing these rooms (name, topic), with nobody online.
    pub(crate) fn new(rooms: impl IntoIterator<Item = (String, String)>) -> Self {
        let rooms = rooms.into_iter().map(|(name, topic)| (name, Room { topic, ..Room::default() })).collect();
        Self { state: Mutex::new(State { rooms, ..State::default() }), next_id: AtomicU64::new(1) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that matters more than
        // stopping every connection would, so keep serving.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh connection id.
    pub(crate) fn next_peer_id(&self) -> PeerId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Puts a greeted connection online under `nick`, queueing its `welcome` (built from the room list) first.
    /// Both happen under the hub's lock, so nothing another connection sends to this one (a DM `typing`) can
    /// overtake the `welcome` that the protocol promises comes first.
    pub(crate) fn register(
        &self,
        handle: PeerHandle,
        nick: &str,
        key: &str,
        welcome: impl FnOnce(Vec<RoomInfo>) -> ServerEvent,
    ) -> Result<(), NickTaken> {
        let mut state = self.lock();
        if state.nicks.contains_key(key) {
            return Err(NickTaken);
        }
        handle.send_event(&welcome(state.room_infos()));
        state.nicks.insert(key.to_owned(), handle.id());
        let peer = Peer { nick: nick.to_owned(), key: key.to_owned(), handle, rooms: BTreeSet::new() };
        state.peers.insert(peer.handle.id(), peer);
        Ok(())
    }

    /// Takes a connection offline: it leaves every room and stops typing, and the others are told.
    pub(crate) fn unregister(&self, id: PeerId) {
        let mut state = self.lock();
        let Some(peer) = state.peers.get(&id) else { return };
        let rooms: Vec<String> = peer.rooms.iter().cloned().collect();
        for room in rooms {
            state.leave(&room, id, LeaveReason::Disconnected);
        }
        let lapsed: Vec<(PeerId, String)> = state.dm_typing.keys().filter(|(p, _)| *p == id).cloned().collect();
        for entry in lapsed {
            state.dm_typing.remove(&entry);
            state.send_dm_typing(id, &entry.1, false);
        }
        if let Some(peer) = state.peers.remove(&id) {
            state.nicks.remove(&peer.key);
        }
    }

    /// Sends one event to everyone online.
    pub(crate) fn send_to_all(&self, event: &ServerEvent) {
        let frame = encode(event);
        for peer in self.lock().peers.values() {
            peer.handle.send(&frame);
        }
    }

    /// The connection of the user with this folded nickname, if online.
    pub(crate) fn handle_of(&self, key: &str) -> Option<PeerHandle> {
        let state = self.lock();
        state.nicks.get(key).and_then(|id| state.peers.get(id)).map(|p| p.handle.clone())
    }

    /// Nicknames of the two sides of a direct conversation that are online, sorted.
    pub(crate) fn online_of(&self, keys: [&str; 2]) -> Vec<String> {
        let state = self.lock();
        let mut nicks: Vec<String> = keys
            .iter()
            .filter_map(|key| state.nicks.get(*key).and_then(|id| state.peers.get(id)))
            .map(|peer| peer.nick.clone())
            .collect();
        nicks.sort();
        nicks.dedup();
        nicks
    }

    /// Whether a room exists.
    pub(crate) fn room_exists(&self, room: &str) -> bool {
        self.lock().rooms.contains_key(room)
    }

    /// How many rooms exist.
    pub(crate) fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Adds a room created in the store and tells everyone online.
    pub(crate) fn add_room(&self, room: &str, topic: &str, password_hash: Option<String>, creator: &str) -> RoomInfo {
        let mut state = self.lock();
        let has_password = password_hash.is_some();
        let admitted = HashSet::from([creator.to_owned()]);
        state
            .rooms
            .insert(room.to_owned(), Room { topic: topic.to_owned(), password_hash, admitted, ..Room::default() });
        let info = RoomInfo { room: room.to_owned(), topic: topic.to_owned(), members: 0, has_password };
        let frame = encode(&ServerEvent::RoomCreated(info.clone()));
        for peer in state.peers.values() {
            peer.handle.send(&frame);
        }
        info
    }

    /// Records a stored topic change and tells the room.
    pub(crate) fn set_topic(&self, room: &str, topic: &str, by: &str) {
        let mut state = self.lock();
        if let Some(entry) = state.rooms.get_mut(room) {
            entry.topic = topic.to_owned();
        }
        let event = ServerEvent::Topic { room: room.to_owned(), topic: topic.to_owned(), by: by.to_owned() };
        state.broadcast(room, &encode(&event), None);
    }

    /// The room's topic, if the room exists.
    pub(crate) fn topic(&self, room: &str) -> Option<String> {
        self.lock().rooms.get(room).map(|r| r.topic.clone())
    }

    /// Every room with its member count, sorted by name.
    pub(crate) fn rooms(&self) -> Vec<RoomInfo> {
        self.lock().room_infos()
    }

    /// The sorted nicknames in a room, or `None` if there is no such room.
    pub(crate) fn members(&self, room: &str) -> Option<Vec<String>> {
        let state = self.lock();
        state.rooms.get(room).map(|r| state.nicks_of(&r.members))
    }

    /// The sorted nicknames a connection would see on joining: those in the room plus itself.
    pub(crate) fn members_with(&self, room: &str, id: PeerId) -> Vec<String> {
        let state = self.lock();
        let mut members = state.rooms.get(room).map(|r| r.members.clone()).unwrap_or_default();
        members.insert(id);
        state.nicks_of(&members)
    }

    /// Puts a connection in a room; the others are told if it was not there yet.
    pub(crate) fn join(&self, room: &str, id: PeerId) {
        let mut state = self.lock();
        let Some(nick) = state.peers.get(&id).map(|p| p.nick.clone()) else { return };
        let Some(entry) = state.rooms.get_mut(room) else { return };
        if entry.members.insert(id) {
            if let Some(peer) = state.peers.get_mut(&id) {
                peer.rooms.insert(room.to_owned());
            }
            let event = ServerEvent::MemberJoined { room: room.to_owned(), nick };
            state.broadcast(room, &encode(&event), Some(id));
        }
    }

    /// Takes a connection out of a room, telling the others.
    pub(crate) fn leave(&self, room: &str, id: PeerId) -> Result<(), NotInRoom> {
        if self.lock().leave(room, id, LeaveReason::Left) {
            Ok(())
        } else {
            Err(NotInRoom)
        }
    }

    /// Whether a connection is in a room.
    pub(crate) fn is_member(&self, room: &str, id: PeerId) -> bool {
        self.lock().rooms.get(room).is_some_and(|r| r.members.contains(&id))
    }

    /// Sends a frame to everyone in a room.
    pub(crate) fn broadcast(&self, room: &str, frame: &Frame) {
        self.lock().broadcast(room, frame, None);
    }

    /// Starts, refreshes or stops a connection's typing state, telling the others only when it changes.
    pub(crate) fn typing(&self, id: PeerId, conversation: &Conversation, on: bool, ttl: std::time::Duration) {
        let deadline = Instant::now() + ttl;
        let mut state = self.lock();
        match conversation {
            Conversation::Room(room) => {
                let Some(entry) = state.rooms.get_mut(room) else { return };
                if !entry.members.contains(&id) {
                    return;
                }
                let changed =
                    if on { entry.typing.insert(id, deadline).is_none() } else { entry.typing.remove(&id).is_some() };
                if changed {
                    state.send_room_typing(room, id, on);
                }
            }
            Conversation::Direct(other) => {
                let key = (id, other.clone());
                let changed = if on {
                    state.dm_typing.insert(key, deadline).is_none()
                } else {
                    state.dm_typing.remove(&key).is_some()
                };
                if changed {
                    state.send_dm_typing(id, other, on);
                }
            }
        }
    }

    /// Applies a moderator's change to a room's rules and tells its members. `None` if there is no such room.
    pub(crate) fn change_rules(&self, room: &str, change: RuleChange, by: &str, from: PeerId) -> Option<RoomState> {
        let mut state = self.lock();
        let entry = state.rooms.get_mut(room)?;
        match &change {
            RuleChange::Lock(None) => entry.rules.lock(None),
            &RuleChange::Lock(Some(duration)) => {
                let until_ms =
                    crate::store::now_ms().saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX));
                entry.rules.lock(Some((Instant::now() + duration, until_ms)));
            }
            RuleChange::Unlock => entry.rules.unlock(),
            RuleChange::SlowMode(every) => entry.rules.set_slow_mode(*every),
            RuleChange::Mute { key, nick, on } => entry.rules.set_muted(key, nick, *on),
            RuleChange::Remove { key, nick, on } => entry.rules.set_removed(key, nick, *on),
        }
        let room_state = room_state(room, &entry.rules, Some(by));
        if let RuleChange::Remove { key, on: true, .. } = &change {
            if let Some(id) = state.nicks.get(key).copied() {
                if state.leave(room, id, LeaveReason::Removed) {
                    if let Some(peer) = state.peers.get(&id) {
                        // The removed connection learns why it is out, then that it is.
                        peer.handle.send_event(&ServerEvent::RoomState(room_state.clone()));
                        peer.handle.send_event(&ServerEvent::Left { room: room.to_owned() });
                    }
                }
            }
        }
        state.broadcast(room, &encode(&ServerEvent::RoomState(room_state.clone())), Some(from));
        Some(room_state)
    }

    /// The password hash `key` must match to enter `room`: `None` when the room has no password, or they entered it
    /// before.
    pub(crate) fn password_to_enter(&self, room: &str, key: &str) -> Option<String> {
        let state = self.lock();
        let entry = state.rooms.get(room)?;
        entry.password_hash.clone().filter(|_| !entry.admitted.contains(key))
    }

    /// Sets or clears a room's password. Whoever is in the room now is admitted (they are in already); returns
    /// their folded nicknames, for the store to remember.
    pub(crate) fn set_password(&self, room: &str, hash: Option<String>) -> Vec<String> {
        let mut state = self.lock();
        let State { rooms, peers, .. } = &mut *state;
        let Some(entry) = rooms.get_mut(room) else { return Vec::new() };
        entry.password_hash = hash;
        let present: Vec<String> =
            entry.members.iter().filter_map(|id| peers.get(id)).map(|peer| peer.key.clone()).collect();
        entry.admitted.extend(present.iter().cloned());
        present
    }

    /// Remembers that `key` entered `room` with its password.
    pub(crate) fn admit(&self, room: &str, key: &str) {
        if let Some(entry) = self.lock().rooms.get_mut(room) {
            entry.admitted.insert(key.to_owned());
        }
    }

    /// Whether the user `key` was removed from `room` (and so may not join it).
    pub(crate) fn is_removed(&self, room: &str, key: &str) -> bool {
        self.lock().rooms.get(room).is_some_and(|entry| entry.rules.is_removed(key))
    }

    /// Why `key` may not publish live data in `room` now (a lock or a mute), if they may not.
    pub(crate) fn silenced(&self, room: &str, key: &str, moderator: bool) -> Option<Refusal> {
        self.lock().rooms.get(room).and_then(|entry| entry.rules.silenced(key, moderator))
    }

    /// A room's rules as a client sees them, unless they are a fresh room's.
    pub(crate) fn rules_if_set(&self, room: &str) -> Option<RoomState> {
        let state = self.lock();
        let entry = state.rooms.get(room).filter(|entry| !entry.rules.is_default())?;
        Some(room_state(room, &entry.rules, None))
    }

    /// Whether the user `key` on connection `id` may post in `room` now (recording the post for slow mode), and if
    /// so whether the connection is a member already: one look at the room per message. Rooms that do not exist
    /// are left to the store to refuse.
    pub(crate) fn admit_post(&self, room: &str, id: PeerId, key: &str, moderator: bool) -> Result<bool, Refusal> {
        let mut state = self.lock();
        match state.rooms.get_mut(room) {
            Some(entry) => entry.rules.admit_post(key, moderator, Instant::now()).map(|()| entry.members.contains(&id)),
            None => Ok(false),
        }
    }

    /// Raises or lowers a member's hand; the members see the new queue when it changed.
    pub(crate) fn raise_hand(&self, room: &str, id: PeerId, raised: bool) -> Result<(), NotInRoom> {
        let mut state = self.lock();
        let entry = state.rooms.get_mut(room).filter(|entry| entry.members.contains(&id)).ok_or(NotInRoom)?;
        let had = entry.hands.contains(&id);
        if raised && !had {
            entry.hands.push(id);
        } else if !raised && had {
            entry.hands.retain(|hand| *hand != id);
        } else {
            return Ok(());
        }
        state.send_hands(room);
        Ok(())
    }

    /// A moderator calls on a member (`key`: their folded nickname): everyone is told, and their hand goes down.
    pub(crate) fn call_on(&self, room: &str, key: &str, by: &str) -> Result<(), NotInRoom> {
        let mut state = self.lock();
        let id = *state.nicks.get(key).ok_or(NotInRoom)?;
        let nick = state.peers.get(&id).map(|peer| peer.nick.clone()).ok_or(NotInRoom)?;
        let entry = state.rooms.get_mut(room).filter(|entry| entry.members.contains(&id)).ok_or(NotInRoom)?;
        let had = entry.hands.contains(&id);
        entry.hands.retain(|hand| *hand != id);
        let event = ServerEvent::CalledOn { room: room.to_owned(), nick, by: by.to_owned() };
        state.broadcast(room, &encode(&event), None);
        if had {
            state.send_hands(room);
        }
        Ok(())
    }

    /// A moderator lowers every hand. `false` if there is no such room.
    pub(crate) fn clear_hands(&self, room: &str) -> bool {
        let mut state = self.lock();
        let Some(entry) = state.rooms.get_mut(room) else { return false };
        if !entry.hands.is_empty() {
            entry.hands.clear();
            state.send_hands(room);
        }
        true
    }

    /// The raised hands of a room, for someone joining it, if any are up.
    /// Sends a live data event to a room's members and keeps it among the room's recent data. `from` must be a
    /// member; `None` is a publisher that is not a connection (the HTTP API), for which the room must exist.
    pub(crate) fn publish(&self, room: &str, from: Option<PeerId>, event: &ServerEvent) -> Result<(), NotInRoom> {
        let mut state = self.lock();
        let entry = state.rooms.get_mut(room).ok_or(NotInRoom)?;
        if from.is_some_and(|id| !entry.members.contains(&id)) {
            return Err(NotInRoom);
        }
        let frame = encode(event);
        if entry.recent_data.len() == DATA_WINDOW {
            entry.recent_data.pop_front();
        }
        entry.recent_data.push_back(frame.clone());
        state.broadcast(room, &frame, None);
        Ok(())
    }

    /// The room's recent live data events, oldest first, for a client that just joined.
    pub(crate) fn recent_data(&self, room: &str) -> Vec<Frame> {
        let state = self.lock();
        state.rooms.get(room).map(|entry| entry.recent_data.iter().cloned().collect()).unwrap_or_default()
    }

    pub(crate) fn hands_if_raised(&self, room: &str) -> Option<ServerEvent> {
        let state = self.lock();
        state.rooms.get(room).filter(|entry| !entry.hands.is_empty()).map(|_| state.hands_event(room))
    }

    /// Ends timed locks whose time is up, telling the members.
    pub(crate) fn expire_locks(&self, now: Instant) {
        let mut state = self.lock();
        let mut ended = Vec::new();
        for (name, room) in &mut state.rooms {
            if room.rules.expire(now) {
                ended.push(room_state(name, &room.rules, None));
            }
        }
        for room_state in ended {
            let room = room_state.room.clone();
            state.broadcast(&room, &encode(&ServerEvent::RoomState(room_state)), None);
        }
    }

    /// Ends every typing state whose time is up, telling the others `typing: false`.
    pub(crate) fn expire_typing(&self, now: Instant) {
        let mut state = self.lock();
        let mut lapsed_rooms = Vec::new();
        for (name, room) in &mut state.rooms {
            room.typing.retain(|id, deadline| {
                let keep = *deadline > now;
                if !keep {
                    lapsed_rooms.push((name.clone(), *id));
                }
                keep
            });
        }
        for (room, id) in lapsed_rooms {
            state.send_room_typing(&room, id, false);
        }
        let lapsed_dms: Vec<(PeerId, String)> =
            state.dm_typing.iter().filter(|(_, deadline)| **deadline <= now).map(|(k, _)| k.clone()).collect();
        for (id, other) in lapsed_dms {
            state.dm_typing.remove(&(id, other.clone()));
            state.send_dm_typing(id, &other, false);
        }
    }
}

fn room_state(room: &str, rules: &RoomRules, by: Option<&str>) -> RoomState {
    RoomState {
        room: room.to_owned(),
        locked: rules.locked(),
        locked_until_ms: rules.locked_until_ms(),
        slow_mode_s: u32::try_from(rules.slow_mode().as_secs()).unwrap_or(u32::MAX),
        by: by.map(str::to_owned),
        muted: rules.muted(),
        removed: rules.removed(),
    }
}

impl State {
    fn room_infos(&self) -> Vec<RoomInfo> {
        self.rooms
            .iter()
            .map(|(name, room)| RoomInfo {
                room: name.clone(),
                topic: room.topic.clone(),
                members: u32::try_from(room.members.len()).unwrap_or(u32::MAX),
                has_password: room.password_hash.is_some(),
            })
            .collect()
    }

    fn nicks_of(&self, ids: &BTreeSet<PeerId>) -> Vec<String> {
        let mut nicks: Vec<String> = ids.iter().filter_map(|id| self.peers.get(id)).map(|p| p.nick.clone()).collect();
        nicks.sort();
        nicks
    }

    fn broadcast(&self, room: &str, frame: &Frame, except: Option<PeerId>) {
        let Some(entry) = self.rooms.get(room) else { return };
        for id in entry.members.iter().filter(|id| Some(**id) != except) {
            if let Some(peer) = self.peers.get(id) {
                peer.handle.send(frame);
            }
        }
    }

    fn leave(&mut self, room: &str, id: PeerId, reason: LeaveReason) -> bool {
        let Some(entry) = self.rooms.get_mut(room) else { return false };
        if !entry.members.remove(&id) {
            return false;
        }
        let was_typing = entry.typing.remove(&id).is_some();
        let had_hand = entry.hands.contains(&id);
        entry.hands.retain(|hand| *hand != id);
        let Some(peer) = self.peers.get_mut(&id) else { return true };
        peer.rooms.remove(room);
        let nick = peer.nick.clone();
        if was_typing {
            let event = ServerEvent::Typing { room: room.to_owned(), nick: nick.clone(), typing: false };
            self.broadcast(room, &encode(&event), None);
        }
        self.broadcast(room, &encode(&ServerEvent::MemberLeft { room: room.to_owned(), nick, reason }), None);
        if had_hand {
            self.send_hands(room);
        }
        true
    }

    fn hands_event(&self, room: &str) -> ServerEvent {
        let hands = self.rooms.get(room).map(|entry| entry.hands.as_slice()).unwrap_or_default();
        let raised = hands.iter().filter_map(|id| self.peers.get(id)).map(|peer| peer.nick.clone()).collect();
        ServerEvent::Hands { room: room.to_owned(), raised }
    }

    fn send_hands(&self, room: &str) {
        self.broadcast(room, &encode(&self.hands_event(room)), None);
    }

    fn send_room_typing(&self, room: &str, id: PeerId, typing: bool) {
        let Some(nick) = self.peers.get(&id).map(|p| p.nick.clone()) else { return };
        let event = ServerEvent::Typing { room: room.to_owned(), nick, typing };
        self.broadcast(room, &encode(&event), Some(id));
    }

    fn send_dm_typing(&self, id: PeerId, other: &str, typing: bool) {
        let Some(typist) = self.peers.get(&id) else { return };
        let Some(target) = self.nicks.get(other).and_then(|t| self.peers.get(t)) else { return };
        if target.handle.id() == id {
            return;
        }
        let room = Conversation::Direct(typist.key.clone()).display();
        target.handle.send_event(&ServerEvent::Typing { room, nick: typist.nick.clone(), typing });
    }
}
