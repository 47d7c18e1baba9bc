//! Recognising a resend, so a message whose ack was lost is stored once however often its client sends it again.
//!
//! The writer keeps, for every stored message, a 64-bit hash of (sender, `client_id`) → the message's id, in memory,
//! filled by one scan at start. Until schema version 6 a UNIQUE index on disk did this, but clients pick random UUIDs
//! as ids, so every insert landed on a random page of that index: each group commit rewrote dozens of scattered pages
//! into the WAL, and the index cost more than the messages themselves (the persistence benchmark stored 35k
//! messages/s with it). The map costs about 20–40 bytes a stored message.
//!
//! A hash can collide, so a hit is checked against the stored row; when it is not the same message (or the row is
//! gone), the table is scanned for the exact pair. That scan has no index, but runs only on a collision, which for a
//! million stored messages has odds of about one in thirty million.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use rusqlite::{Connection, OptionalExtension};

/// Where a message was stored the first time: what its resend is acked with.
#[derive(Debug)]
pub(super) struct Original {
    pub(super) id: i64,
    pub(super) conv: String,
    pub(super) seq: u64,
    pub(super) ts: i64,
}

/// A (sender, client id) as the map keys it: a SipHash keyed per process, so nobody can choose client ids that
/// collide on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Fingerprint(u64);

/// The map's keys are SipHash outputs already: hashing them again would only cost time.
#[derive(Debug, Default)]
struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (a `Fingerprint`); fold anything else in so the hasher stays correct.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The hashes of every stored message's (sender, client id).
#[derive(Debug)]
pub(super) struct Resends {
    hasher: RandomState,
    ids: HashMap<Fingerprint, i64, BuildHasherDefault<Passthrough>>,
    /// Entries added by the group commit in progress, taken back if it rolls back.
    uncommitted: Vec<(Fingerprint, i64)>,
}

impl Resends {
    /// Reads every stored message's sender and client id.
    pub(super) fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let mut resends = Self { hasher: RandomState::new(), ids: HashMap::default(), uncommitted: Vec::new() };
        let mut stmt = conn.prepare("SELECT id, sender_key, client_id FROM messages")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let print = resends.fingerprint(row.get_ref(1)?.as_str()?, row.get_ref(2)?.as_str()?);
            resends.ids.entry(print).or_insert(row.get(0)?);
        }
        Ok(resends)
    }

    /// What `find`, `remember` and `forget` take for `key`'s `client_id`: computed once per message.
    pub(super) fn fingerprint(&self, key: &str, client_id: &str) -> Fingerprint {
        Fingerprint(self.hasher.hash_one((key, client_id)))
    }

    /// The message `key` already stored under `client_id`, if any (`conn` sees the open transaction).
    pub(super) fn find(
        &self,
        conn: &Connection,
        print: Fingerprint,
        key: &str,
        client_id: &str,
    ) -> rusqlite::Result<Option<Original>> {
        let Some(&id) = self.ids.get(&print) else { return Ok(None) };
        let read = |row: &rusqlite::Row<'_>| {
            Ok((Original { id: row.get(0)?, conv: row.get(1)?, seq: row.get(2)?, ts: row.get(3)? }, row.get(4)?))
        };
        let by_id = "SELECT id, conv, seq, ts, sender_key = ?2 AND client_id = ?3 FROM messages WHERE id = ?1";
        match conn.prepare_cached(by_id)?.query_row((id, key, client_id), read).optional()? {
            Some((original, true)) => Ok(Some(original)),
            // A collision (or a row pruned meanwhile): look for the exact pair the slow way.
            _ => {
                let scan = "SELECT id, conv, seq, ts, 1 FROM messages WHERE sender_key = ?1 AND client_id = ?2";
                let found = conn.prepare_cached(scan)?.query_row((key, client_id), read).optional()?;
                Ok(found.map(|(original, _)| original))
            }
        }
    }

    /// Notes a message stored in the open transaction. A colliding hash keeps its first message: [`Self::find`]
    /// falls back to the scan for the second.
    pub(super) fn remember(&mut self, print: Fingerprint, id: i64) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.ids.entry(print) {
            slot.insert(id);
            self.uncommitted.push((print, id));
        }
    }

    /// Forgets a message pruned from history.
    pub(super) fn forget(&mut self, print: Fingerprint, id: i64) {
        if self.ids.get(&print) == Some(&id) {
            self.ids.remove(&print);
        }
    }

    /// The open transaction committed: its entries stay.
    pub(super) fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// The open transaction rolled back: its messages were never stored.
    pub(super) fn rolled_back(&mut self) {
        for (print, id) in self.uncommitted.drain(..) {
            if self.ids.get(&print) == Some(&id) {
                self.ids.remove(&print);
            }
        }
    }

    /// Messages remembered, for the start-up log.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, conv TEXT, seq INTEGER, sender_key TEXT, client_id TEXT,
                                    ts INTEGER);
             INSERT INTO messages VALUES (1, 'r:lobby', 1, 'ana', 'a-1', 10), (2, 'r:lobby', 2, 'bo', 'a-1', 11);",
        )
        .expect("a table of two messages");
        conn
    }

    #[test]
    fn finds_what_was_stored_before_start_by_sender_and_id() {
        let conn = table();
        let resends = Resends::load(&conn).expect("load");
        assert_eq!(resends.len(), 2);
        let find = |key: &str, id: &str| resends.find(&conn, resends.fingerprint(key, id), key, id).expect("find");
        let found = find("bo", "a-1").expect("bo's a-1 is stored");
        assert_eq!((found.id, found.conv.as_str(), found.seq, found.ts), (2, "r:lobby", 2, 11));
        assert!(find("cy", "a-1").is_none(), "the same id from someone else is new");
    }

    #[test]
    fn a_colliding_hash_still_finds_the_exact_message() {
        let conn = table();
        let mut resends = Resends::load(&conn).expect("load");
        // Make bo's message collide with ana's: ana's hash now points at bo's row.
        let ana = resends.fingerprint("ana", "a-1");
        resends.ids.insert(ana, 2);
        let found = resends.find(&conn, ana, "ana", "a-1").expect("find").expect("ana's a-1 is stored");
        assert_eq!(found.id, 1, "the scan found the exact pair, not the colliding row");
    }

    #[test]
    fn a_rolled_back_commit_is_forgotten_and_a_committed_one_kept() {
        let conn = table();
        let mut resends = Resends::load(&conn).expect("load");
        conn.execute("INSERT INTO messages VALUES (3, 'r:lobby', 3, 'cy', 'c-1', 12)", []).expect("insert");
        let cy = resends.fingerprint("cy", "c-1");
        resends.remember(cy, 3);
        resends.rolled_back();
        assert_eq!(resends.len(), 2);
        resends.remember(cy, 3);
        resends.committed();
        resends.rolled_back();
        assert_eq!(resends.find(&conn, cy, "cy", "c-1").expect("find").map(|o| o.id), Some(3));
        resends.forget(cy, 3);
        assert_eq!(resends.len(), 2);
    }
}
