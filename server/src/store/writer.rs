//! The single writer: one thread that owns the write connection, numbers messages, and commits them in groups.
//!
//! Every request that changes stored state or depends on its order comes through here as an [`Op`]. Appends that
//! arrive together share one transaction (group commit); only after it commits are senders acked and rooms told, so
//! nobody ever sees a message that a crash could take back. Because broadcasts of stored messages happen only on
//! this thread, a `join` handled here sees exactly the messages before it and none after: replay and the live stream
//! meet with no gap and no duplicate.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

mod change;
mod index;
mod pin;
mod resends;

use parlor_protocol::extras::excerpt;
use parlor_protocol::{
    Ack, Announcement, ChatMessage, Conversation, DmInfo, ErrorCode, ErrorEvent, Gap, GapReason, IdentityKind, Joined,
    Poll, Quote, Secret, ServerEvent, Welcome, PROTOCOL_VERSION,
};
use rusqlite::{Connection, OptionalExtension, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::conv::ConvKey;
use super::extras::Extras;
use super::{now_ms, query};
use crate::config::ServerLimits;
use crate::hub::{Hub, NickTaken};
use crate::outbox::{encode, PeerHandle};
pub(crate) use change::{Change, Edit};
use resends::{Fingerprint, Resends};

/// Most operations taken into one group commit.
const MAX_BATCH: usize = 1024;

/// The server's name and version, as sent in `welcome`.
pub(crate) const SERVER_NAME: &str = concat!("parlor-server/", env!("CARGO_PKG_VERSION"));

/// What `welcome` says about how the nickname is held, decided by the account check before the hello.
#[derive(Debug)]
pub(crate) struct Greeting {
    /// Guest, device, or account.
    pub(crate) identity: IdentityKind,
    /// A token just issued by a password sign-in.
    pub(crate) session_token: Option<Secret>,
}

/// A request to the writer.
#[derive(Debug)]
pub(crate) enum Op {
    /// Put a connection online and send it `welcome`.
    Hello {
        handle: PeerHandle,
        nick: String,
        key: String,
        greeting: Greeting,
        reply: oneshot::Sender<Result<(), NickTaken>>,
    },
    /// Store a message.
    Append(Append),
    /// Enter a room or open a direct conversation, replaying what the client missed.
    /// `done` fires once the reply (and any replay) is queued, so the connection reads nothing more meanwhile.
    Join {
        handle: PeerHandle,
        viewer: String,
        conversation: Conversation,
        after: Option<u64>,
        after_rev: Option<u64>,
        /// The joiner gave the room's password just now: remember them.
        admit: bool,
        done: oneshot::Sender<()>,
    },
    /// Vote, react, edit, delete: change a stored message and tell its conversation.
    Change(Change),
    /// Index up to `rows` stored messages for search; `done` hears whether the index has caught up.
    Index { rows: i64, done: Option<oneshot::Sender<bool>> },
    /// Pin a message of a room (or, with `None`, unpin).
    Pin { handle: PeerHandle, by: String, room: String, seq: Option<u64> },
    /// Create a room (with a password hash, and its creator already admitted).
    CreateRoom { handle: PeerHandle, room: String, topic: String, password_hash: Option<String>, creator: String },
    /// Give a room a password (hash), or remove it.
    SetRoomPassword { handle: PeerHandle, room: String, hash: Option<String> },
    /// Change a room's topic.
    SetTopic { handle: PeerHandle, by: String, room: String, topic: String },
    /// Commit, checkpoint and stop.
    Shutdown { reply: oneshot::Sender<()> },
}

/// A message to store.
#[derive(Debug)]
pub(crate) struct Append {
    /// The sender's connection, for the ack.
    pub(crate) handle: PeerHandle,
    /// The sender's nickname as shown.
    pub(crate) nick: String,
    /// The sender's folded nickname.
    pub(crate) key: String,
    /// Where it goes.
    pub(crate) conversation: Conversation,
    /// What it says.
    pub(crate) text: String,
    /// The sender's id for it.
    pub(crate) client_id: String,
    /// Whether the sender was in the room when the request arrived. If not, the writer checks again in order with
    /// the joins before it, so a `send` right behind a `join` is accepted.
    pub(crate) member_on_arrival: bool,
    /// A poll (already validated), making `text` its question.
    pub(crate) poll: Option<Poll>,
    /// The sequence number of the message this one answers.
    pub(crate) reply_to: Option<u64>,
    /// An announcement to acknowledge (the sender is a moderator; checked already).
    pub(crate) announce: bool,
}

/// A message dropped from history (beyond its conversation's limit) in a batch: the resend check forgets it once
/// the batch is committed.
type Pruned = (Fingerprint, i64);

/// What became of one [`Append`] in a batch; acted on only once the batch is committed.
enum Outcome {
    Stored { conv: ConvKey, id: i64, seq: u64, ts: i64, quote: Option<Quote> },
    Duplicate(Ack),
    Refused(ErrorEvent),
}

/// The writer thread's state.
pub(crate) struct Writer {
    conn: Connection,
    hub: Arc<Hub>,
    limits: ServerLimits,
    /// Newest sequence per conversation (`convs` table), cached.
    last_seq: HashMap<ConvKey, u64>,
    /// Newest revision per conversation (`convs.last_rev`): how many changes to stored messages it has seen.
    last_rev: HashMap<ConvKey, u64>,
    /// Every nickname ever greeted (folded → shown), so direct messages go only to people who exist.
    users: HashMap<String, String>,
    /// Room → the `seq` of its pinned message (`rooms.pinned_seq`).
    pinned: HashMap<String, u64>,
    /// The newest message id in the search index, and the newest stored: the index is behind when they differ.
    indexed: i64,
    newest_id: i64,
    /// User → their direct conversations, for `welcome`.
    dms: HashMap<String, BTreeSet<ConvKey>>,
    /// Every stored message by sender and client id, to recognise a resend.
    resends: Resends,
}

impl Writer {
    /// Loads the cached state from the database.
    pub(crate) fn new(conn: Connection, hub: Arc<Hub>, limits: ServerLimits) -> rusqlite::Result<Self> {
        let mut last_seq = HashMap::new();
        let mut last_rev = HashMap::new();
        let mut dms: HashMap<String, BTreeSet<ConvKey>> = HashMap::new();
        {
            let mut stmt = conn.prepare("SELECT conv, last_seq, last_rev FROM convs")?;
            let rows =
                stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?, row.get::<_, u64>(2)?)))?;
            for row in rows {
                let (conv, seq, rev) = row?;
                let Some(conv) = ConvKey::parse(&conv) else { continue };
                if let Some(people) = conv.participants() {
                    for person in people {
                        dms.entry(person.to_owned()).or_default().insert(conv.clone());
                    }
                }
                if rev > 0 {
                    last_rev.insert(conv.clone(), rev);
                }
                last_seq.insert(conv, seq);
            }
        }
        let users = {
            let mut stmt = conn.prepare("SELECT key, nick FROM users")?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<String, String>>>()?
        };
        let pinned = {
            let mut stmt = conn.prepare("SELECT name, pinned_seq FROM rooms WHERE pinned_seq IS NOT NULL")?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<String, u64>>>()?
        };
        let (indexed, newest_id) = index::indexed_up_to(&conn)?;
        let started = std::time::Instant::now();
        let resends = Resends::load(&conn)?;
        tracing::debug!(messages = resends.len(), elapsed = ?started.elapsed(), "read the stored messages' client ids");
        Ok(Self { conn, hub, limits, last_seq, last_rev, users, dms, pinned, indexed, newest_id, resends })
    }

    /// Serves operations until `Shutdown` or until every sender is gone.
    pub(crate) fn run(mut self, mut ops: mpsc::Receiver<Op>) {
        let mut appends = Vec::new();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while ops.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
            for op in batch.drain(..) {
                match op {
                    Op::Append(append) => appends.push(append),
                    Op::Shutdown { reply } => {
                        self.commit_appends(&mut appends);
                        self.checkpoint();
                        let _ = reply.send(());
                        return;
                    }
                    other => {
                        self.commit_appends(&mut appends);
                        self.handle(other);
                    }
                }
            }
            self.commit_appends(&mut appends);
        }
        self.checkpoint();
    }

    fn checkpoint(&self) {
        if let Err(err) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::warn!(%err, "WAL checkpoint at shutdown failed; the WAL file will be replayed on next start");
        }
    }

    fn handle(&mut self, op: Op) {
        match op {
            Op::Hello { handle, nick, key, greeting, reply } => self.hello(handle, nick, key, greeting, reply),
            Op::Join { handle, viewer, conversation, after, after_rev, admit, done } => {
                if let (true, Conversation::Room(room)) = (admit, &conversation) {
                    self.admit(room, &viewer);
                }
                self.join(&handle, &viewer, &conversation, after, after_rev);
                let _ = done.send(());
            }
            Op::Change(change) => self.change(change),
            Op::Pin { handle, by, room, seq } => self.pin(&handle, &by, &room, seq),
            Op::Index { rows, done } => {
                let caught_up = self.index_step(rows);
                if let Some(done) = done {
                    let _ = done.send(caught_up);
                }
            }
            Op::CreateRoom { handle, room, topic, password_hash, creator } => {
                self.create_room(&handle, &room, &topic, password_hash, &creator)
            }
            Op::SetRoomPassword { handle, room, hash } => self.set_room_password(&handle, &room, hash),
            Op::SetTopic { handle, by, room, topic } => self.set_topic(&handle, &by, &room, &topic),
            Op::Append(_) | Op::Shutdown { .. } => {}
        }
    }

    fn hello(
        &mut self,
        handle: PeerHandle,
        nick: String,
        key: String,
        greeting: Greeting,
        reply: oneshot::Sender<Result<(), NickTaken>>,
    ) {
        let dms = self
            .dms
            .get(&key)
            .into_iter()
            .flatten()
            .map(|conv| DmInfo {
                room: conv.display_for(&key),
                last_seq: self.last_seq.get(conv).copied().unwrap_or(0),
            })
            .collect();
        let limits = self.limits.to_wire();
        let welcome = |rooms| {
            ServerEvent::Welcome(Welcome {
                protocol: PROTOCOL_VERSION,
                server: SERVER_NAME.to_owned(),
                nick: nick.clone(),
                limits,
                rooms,
                dms,
                identity: greeting.identity,
                session_token: greeting.session_token,
            })
        };
        if let Err(taken) = self.hub.register(handle, &nick, &key, welcome) {
            let _ = reply.send(Err(taken));
            return;
        }
        let upsert = "INSERT INTO users (key, nick, last_seen_ms) VALUES (?1, ?2, ?3)
                      ON CONFLICT (key) DO UPDATE SET nick = excluded.nick, last_seen_ms = excluded.last_seen_ms";
        if let Err(err) = self.conn.prepare_cached(upsert).and_then(|mut s| s.execute((&key, &nick, now_ms()))) {
            // The user can still chat; only direct messages to them would be refused until they greet again.
            tracing::error!(%err, "failed to record a user");
        } else {
            self.users.insert(key, nick);
        }
        let _ = reply.send(Ok(()));
    }

    fn commit_appends(&mut self, appends: &mut Vec<Append>) {
        if appends.is_empty() {
            return;
        }
        let result = (|| -> rusqlite::Result<(Vec<Outcome>, Vec<Pruned>)> {
            let tx = self.conn.transaction()?;
            let mut outcomes = Vec::with_capacity(appends.len());
            let mut touched = BTreeSet::new();
            let mut pruned = Vec::new();
            // The appends stay in place until the commit succeeds: on failure every sender must hear of it.
            for append in appends.iter() {
                let outcome = insert(&tx, &mut self.last_seq, &mut self.resends, &self.users, &self.hub, append)?;
                if let Outcome::Stored { conv, .. } = &outcome {
                    if !touched.contains(conv) {
                        touched.insert(conv.clone());
                    }
                }
                outcomes.push(outcome);
            }
            for key in touched {
                let conv = key.db();
                let last = self.last_seq.get(&key).copied().unwrap_or(0);
                tx.prepare_cached(
                    "INSERT INTO convs (conv, last_seq) VALUES (?1, ?2)
                     ON CONFLICT (conv) DO UPDATE SET last_seq = excluded.last_seq",
                )?
                .execute((&conv, last))?;
                if last > self.limits.history_limit {
                    let prune =
                        "DELETE FROM messages WHERE conv = ?1 AND seq <= ?2 RETURNING id, sender_key, client_id";
                    let mut prune = tx.prepare_cached(prune)?;
                    let mut rows = prune.query((&conv, last - self.limits.history_limit))?;
                    while let Some(row) = rows.next()? {
                        let print = self.resends.fingerprint(row.get_ref(1)?.as_str()?, row.get_ref(2)?.as_str()?);
                        pruned.push((print, row.get(0)?));
                    }
                }
            }
            tx.commit()?;
            Ok((outcomes, pruned))
        })();
        match result {
            Ok((outcomes, pruned)) => {
                self.resends.committed();
                for (print, id) in pruned {
                    self.resends.forget(print, id);
                }
                for (append, outcome) in appends.drain(..).zip(outcomes) {
                    if let Outcome::Stored { conv, id, .. } = &outcome {
                        self.newest_id = self.newest_id.max(*id);
                        for person in conv.participants().into_iter().flatten() {
                            self.dms.entry(person.to_owned()).or_default().insert(conv.clone());
                        }
                    }
                    self.dispatch(append, outcome);
                }
            }
            Err(err) => {
                tracing::error!(%err, count = appends.len(), "failed to store messages");
                // Only these conversations' counters moved: read them back from the rolled-back database.
                let batch_convs: BTreeSet<ConvKey> =
                    appends.iter().map(|a| ConvKey::new(&a.conversation, &a.key)).collect();
                self.restore_counters(&batch_convs);
                self.resends.rolled_back();
                for append in appends.drain(..) {
                    let mut error = ErrorEvent::new(
                        ErrorCode::StorageFailed,
                        "the server could not store your message; nothing was posted, try again later",
                    );
                    error.client_id = Some(append.client_id.clone());
                    append.handle.send_event(&ServerEvent::Error(error));
                }
            }
        }
    }

    /// Re-reads the sequence counters of `convs` after a rolled-back batch, so numbering stays gap-free.
    fn restore_counters(&mut self, convs: &BTreeSet<ConvKey>) {
        for conv in convs {
            let stored = self
                .conn
                .query_row("SELECT last_seq FROM convs WHERE conv = ?1", [conv.db()], |row| row.get::<_, u64>(0))
                .optional();
            match stored {
                Ok(Some(seq)) => {
                    self.last_seq.insert(conv.clone(), seq);
                }
                Ok(None) => {
                    self.last_seq.remove(conv);
                }
                Err(err) => tracing::error!(%err, "cannot re-read a sequence counter after a failed commit"),
            }
        }
    }

    fn dispatch(&self, append: Append, outcome: Outcome) {
        match outcome {
            Outcome::Refused(error) => {
                append.handle.send_event(&ServerEvent::Error(error));
            }
            Outcome::Duplicate(ack) => {
                append.handle.send_event(&ServerEvent::Ack(ack));
            }
            Outcome::Stored { conv, id, seq, ts, quote } => {
                let Append { handle, nick, key, conversation, text, client_id, poll, announce, .. } = append;
                handle.send_event(&ServerEvent::Ack(Ack {
                    client_id: client_id.clone(),
                    room: conv.display_for(&key),
                    id,
                    seq,
                    ts,
                    duplicate: false,
                }));
                let mut message = ChatMessage {
                    room: conv.display_for(&key),
                    id,
                    seq,
                    from: nick,
                    text,
                    ts,
                    client_id,
                    poll,
                    reply_to: quote,
                    announcement: announce.then(Announcement::default),
                    ..ChatMessage::default()
                };
                match &conv {
                    ConvKey::Room(room) => self.hub.broadcast(room, &encode(&ServerEvent::Message(message))),
                    ConvKey::Direct(..) => {
                        handle.send_event(&ServerEvent::Message(message.clone()));
                        if let Conversation::Direct(other) = &conversation {
                            if *other != key {
                                if let Some(target) = self.hub.handle_of(other) {
                                    message.room = conv.display_for(other);
                                    target.send_event(&ServerEvent::Message(message));
                                }
                            }
                        }
                    }
                }
                self.hub.typing(handle.id(), &conversation, false, std::time::Duration::ZERO);
            }
        }
    }

    fn join(
        &mut self,
        handle: &PeerHandle,
        viewer: &str,
        conversation: &Conversation,
        after: Option<u64>,
        after_rev: Option<u64>,
    ) {
        let room_name = conversation.display();
        let refuse = |code: ErrorCode, message: &str| {
            handle.reply(&ServerEvent::Error(ErrorEvent::new(code, message).in_room(room_name.clone())));
        };
        let conv = ConvKey::new(conversation, viewer);
        if let Conversation::Room(room) = conversation {
            if self.hub.is_removed(room, viewer) {
                let message = "a moderator removed you from this room; ask them to readmit you";
                return refuse(ErrorCode::RemovedFromRoom, message);
            }
        }
        let (topic, members) = match conversation {
            Conversation::Room(room) => match self.hub.topic(room) {
                Some(topic) => (topic, self.hub.members_with(room, handle.id())),
                None => return refuse(ErrorCode::NoSuchRoom, "there is no room with that name; create it first"),
            },
            Conversation::Direct(other) => {
                if !self.users.contains_key(other) {
                    return refuse(ErrorCode::NoSuchUser, "nobody with that nickname has ever been here");
                }
                (String::new(), self.hub.online_of([viewer, other]))
            }
        };
        let last_seq = self.last_seq.get(&conv).copied().unwrap_or(0);
        let (gap, replay) = match after.filter(|after| *after < last_seq) {
            None => (None, Vec::new()),
            Some(after) => match self.missed(&conv, viewer, after, last_seq) {
                Ok(found) => found,
                Err(err) => {
                    tracing::error!(%err, "failed to read messages to replay");
                    return refuse(ErrorCode::StorageFailed, "the server could not read the room's history");
                }
            },
        };
        let last_rev = self.last_rev.get(&conv).copied().unwrap_or(0);
        let replay_bytes: usize = replay.iter().map(query::wire_len).sum();
        let (changed, updates_dropped) = match (after, after_rev) {
            (Some(after), Some(after_rev)) if after_rev < last_rev => {
                let budget = self.limits.reply_budget().saturating_sub(replay_bytes);
                match self.changed_since(&conv, viewer, after.min(last_seq), after_rev, budget) {
                    Ok(found) => found,
                    Err(err) => {
                        tracing::error!(%err, "failed to read changed messages to replay");
                        return refuse(ErrorCode::StorageFailed, "the server could not read the room's history");
                    }
                }
            }
            _ => (Vec::new(), false),
        };
        let room = conv.display_for(viewer);
        handle.reply(&ServerEvent::Joined(Joined { room, topic, members, last_seq, gap, last_rev, updates_dropped }));
        if let Conversation::Room(room) = conversation {
            if let Some(rules) = self.hub.rules_if_set(room) {
                handle.reply(&ServerEvent::RoomState(rules));
            }
            if let Some(hands) = self.hub.hands_if_raised(room) {
                handle.reply(&hands);
            }
            for data in self.hub.recent_data(room) {
                handle.reply_frame(data);
            }
            if let Some(pinned) = self.pinned_message(room) {
                handle.reply(&pinned);
            }
        }
        for message in replay {
            handle.reply(&ServerEvent::Message(message));
        }
        for message in changed {
            handle.reply(&ServerEvent::MessageUpdated(message));
        }
        if let Conversation::Room(room) = conversation {
            self.hub.join(room, handle.id());
        }
    }

    /// What a client that saw up to `after` missed, up to `last`: the gap it cannot get back, and the messages.
    fn missed(
        &self,
        conv: &ConvKey,
        viewer: &str,
        after: u64,
        last: u64,
    ) -> rusqlite::Result<(Option<Gap>, Vec<ChatMessage>)> {
        let first_kept = query::first_kept(&self.conn, conv)?.unwrap_or(last + 1);
        let mut start = after + 1;
        let mut reason = None;
        if start < first_kept {
            start = first_kept;
            reason = Some(GapReason::Pruned);
        }
        let resume_max = u64::from(self.limits.resume_max);
        if last >= start && last - start + 1 > resume_max {
            start = last + 1 - resume_max;
            reason = reason.or(Some(GapReason::TooMany));
        }
        let mut replay = if start <= last { query::range(&self.conn, conv, viewer, start, last)? } else { Vec::new() };
        // Long messages: replay the newest that fit in one reply; the client pages back for the rest.
        replay.reverse();
        let fit = query::fitting(&replay, self.limits.reply_budget());
        replay.truncate(fit);
        replay.reverse();
        if let Some(first) = replay.first().filter(|first| first.seq > start) {
            start = first.seq;
            reason = reason.or(Some(GapReason::TooMany));
        }
        let gap = reason.map(|reason| Gap { from: after + 1, to: start - 1, reason });
        Ok((gap, replay))
    }

    /// The messages up to `through` changed after `after_rev` that fit `budget` bytes, and whether some did not.
    fn changed_since(
        &self,
        conv: &ConvKey,
        viewer: &str,
        through: u64,
        after_rev: u64,
        budget: usize,
    ) -> rusqlite::Result<(Vec<ChatMessage>, bool)> {
        let most = self.limits.resume_max;
        let mut changed = query::changed(&self.conn, conv, viewer, through, after_rev, most.saturating_add(1))?;
        let mut dropped = changed.len() > most as usize;
        changed.truncate(most as usize);
        let mut used = 0;
        let fit = changed.iter().take_while(|m| {
            used += query::wire_len(m);
            used <= budget
        });
        let fit = fit.count();
        dropped |= fit < changed.len();
        changed.truncate(fit);
        Ok((changed, dropped))
    }

    fn create_room(
        &mut self,
        handle: &PeerHandle,
        room: &str,
        topic: &str,
        password_hash: Option<String>,
        creator: &str,
    ) {
        let refuse = |code: ErrorCode, message: &str| {
            handle.reply(&ServerEvent::Error(ErrorEvent::new(code, message).in_room(room)));
        };
        if self.hub.room_exists(room) {
            return refuse(ErrorCode::RoomExists, "a room with that name already exists; join it instead");
        }
        if self.hub.room_count() >= self.limits.max_rooms {
            return refuse(ErrorCode::TooManyRooms, "this server holds as many rooms as it allows");
        }
        let created = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            let insert = "INSERT INTO rooms (name, topic, created_ms, password_hash) VALUES (?1, ?2, ?3, ?4)";
            tx.execute(insert, (room, topic, now_ms(), &password_hash))?;
            tx.execute("INSERT OR IGNORE INTO room_admissions (room, key) VALUES (?1, ?2)", (room, creator))?;
            tx.commit()
        })();
        match created {
            Ok(()) => {
                self.hub.add_room(room, topic, password_hash, creator);
            }
            Err(err) => {
                tracing::error!(%err, "failed to create a room");
                refuse(ErrorCode::StorageFailed, "the server could not store the new room; try again later");
            }
        }
    }

    fn set_room_password(&mut self, handle: &PeerHandle, room: &str, hash: Option<String>) {
        match self.conn.execute("UPDATE rooms SET password_hash = ?2 WHERE name = ?1", (room, &hash)) {
            Ok(_) => {
                for key in self.hub.set_password(room, hash) {
                    self.admit(room, &key);
                }
                // Everyone online learns whether the room asks for a password now (the lock beside its name).
                self.hub.send_to_all(&ServerEvent::RoomList { rooms: self.hub.rooms() });
            }
            Err(err) => {
                tracing::error!(%err, "failed to store a room password");
                let error = ErrorEvent::new(ErrorCode::StorageFailed, "the server could not store the password");
                handle.reply(&ServerEvent::Error(error.in_room(room)));
            }
        }
    }

    /// Remembers that `key` entered `room` with its password (in memory even if storing fails: they did).
    fn admit(&mut self, room: &str, key: &str) {
        self.hub.admit(room, key);
        let insert = "INSERT OR IGNORE INTO room_admissions (room, key) VALUES (?1, ?2)";
        if let Err(err) = self.conn.execute(insert, (room, key)) {
            tracing::error!(%err, "failed to remember a room admission");
        }
    }

    fn set_topic(&mut self, handle: &PeerHandle, by: &str, room: &str, topic: &str) {
        if !self.hub.is_member(room, handle.id()) {
            let error = ErrorEvent::new(ErrorCode::NotInRoom, format!("join {room:?} first")).in_room(room);
            handle.reply(&ServerEvent::Error(error));
            return;
        }
        match self.conn.execute("UPDATE rooms SET topic = ?2 WHERE name = ?1", (room, topic)) {
            Ok(_) => self.hub.set_topic(room, topic, by),
            Err(err) => {
                tracing::error!(%err, "failed to store a topic");
                let error = ErrorEvent::new(ErrorCode::StorageFailed, "the server could not store the topic");
                handle.reply(&ServerEvent::Error(error.in_room(room)));
            }
        }
    }
}

/// Stores one message in the open transaction, or finds the copy a resend repeats.
///
/// A sender who was not yet in the room when the request arrived is checked again here, where a `join` queued just
/// before is always in effect: a client may send right after joining without waiting for `joined`. (One who was a
/// member on arrival is not checked again, so a message sent just before the connection dropped is still stored.)
fn insert(
    tx: &Transaction<'_>,
    last_seq: &mut HashMap<ConvKey, u64>,
    resends: &mut Resends,
    users: &HashMap<String, String>,
    hub: &Hub,
    append: &Append,
) -> rusqlite::Result<Outcome> {
    let refusal = match &append.conversation {
        Conversation::Direct(other) if !users.contains_key(other) => {
            Some((ErrorCode::NoSuchUser, "nobody with that nickname has ever been here".to_owned()))
        }
        Conversation::Room(room) if !append.member_on_arrival && !hub.is_member(room, append.handle.id()) => {
            Some((ErrorCode::NotInRoom, format!("join {room:?} first")))
        }
        _ => None,
    };
    if let Some((code, message)) = refusal {
        let mut error = ErrorEvent::new(code, message).in_room(append.conversation.display());
        error.client_id = Some(append.client_id.clone());
        return Ok(Outcome::Refused(error));
    }
    let print = resends.fingerprint(&append.key, &append.client_id);
    if let Some(original) = resends.find(tx, print, &append.key, &append.client_id)? {
        let room = ConvKey::parse(&original.conv).map_or(original.conv, |c| c.display_for(&append.key));
        let ack = Ack {
            client_id: append.client_id.clone(),
            room,
            id: original.id,
            seq: original.seq,
            ts: original.ts,
            duplicate: true,
        };
        return Ok(Outcome::Duplicate(ack));
    }
    let conv = ConvKey::new(&append.conversation, &append.key);
    let quote = match append.reply_to {
        None => None,
        Some(answered) => match quote(tx, &conv, answered)? {
            Some(quote) => Some(quote),
            None => {
                let message = format!("there is no message {answered} to reply to here (it may have been deleted)");
                let mut error =
                    ErrorEvent::new(ErrorCode::NoSuchMessage, message).in_room(append.conversation.display());
                error.client_id = Some(append.client_id.clone());
                return Ok(Outcome::Refused(error));
            }
        },
    };
    let extras = Extras {
        poll: append.poll.clone(),
        reply_to: quote.clone(),
        announcement: append.announce.then(Announcement::default),
        ..Extras::default()
    };
    let counter = match last_seq.get_mut(&conv) {
        Some(counter) => counter,
        None => last_seq.entry(conv.clone()).or_insert(0),
    };
    let seq = *counter + 1;
    let ts = now_ms();
    tx.prepare_cached(
        "INSERT INTO messages (conv, seq, sender_key, sender, client_id, text, ts, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute((
        conv.db(),
        seq,
        &append.key,
        &append.nick,
        &append.client_id,
        &append.text,
        ts,
        extras.to_column(),
    ))?;
    let id = tx.last_insert_rowid();
    resends.remember(print, id);
    *counter = seq;
    Ok(Outcome::Stored { conv, id, seq, ts, quote })
}

/// The quote a reply to `seq` carries, if that message is stored and not deleted.
fn quote(tx: &Transaction<'_>, conv: &ConvKey, seq: u64) -> rusqlite::Result<Option<Quote>> {
    let Ok(seq_db) = i64::try_from(seq) else { return Ok(None) };
    let row = tx
        .prepare_cached("SELECT sender, text, extra FROM messages WHERE conv = ?1 AND seq = ?2")?
        .query_row((conv.db(), seq_db), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<String>>(2)?))
        })
        .optional()?;
    let Some((from, text, extra)) = row else { return Ok(None) };
    if Extras::from_column(extra, 2)?.deleted {
        return Ok(None);
    }
    Ok(Some(Quote { seq, from, text: excerpt(&text) }))
}
