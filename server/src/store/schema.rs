//! Opening the database file: pragmas and the schema, migrated by `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// The schema version this build writes.
const VERSION: i64 = 6;

const SCHEMA_V1: &str = "
CREATE TABLE rooms (
    name       TEXT PRIMARY KEY,
    topic      TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL
);
CREATE TABLE users (
    key          TEXT PRIMARY KEY,
    nick         TEXT NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
-- The newest sequence per conversation, kept apart from messages so pruning never rewinds it.
CREATE TABLE convs (
    conv     TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    conv       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    sender_key TEXT NOT NULL,
    sender     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    text       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    UNIQUE (conv, seq),
    UNIQUE (sender_key, client_id)
);
";

/// Version 2: what changes after a message is stored (polls, reactions, quotes, edits, deletions) as one JSON
/// column, and a revision counter per conversation so a resuming client can ask what changed. The partial index
/// holds only changed messages: plain ones cost nothing.
const SCHEMA_V2: &str = "
ALTER TABLE messages ADD COLUMN extra TEXT;
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_changed ON messages (conv, rev) WHERE rev > 0;
ALTER TABLE convs ADD COLUMN last_rev INTEGER NOT NULL DEFAULT 0;
";

/// Version 3: the message a moderator pinned in each room.
const SCHEMA_V3: &str = "ALTER TABLE rooms ADD COLUMN pinned_seq INTEGER;";

/// Version 4: full-text search over message text (FTS5; the row id is the message's id). The writer fills it when it
/// is otherwise idle, so indexing never delays an ack.
const SCHEMA_V4: &str = "
CREATE VIRTUAL TABLE message_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
";

/// Version 5: room passwords (argon2id) and who has entered each room with its password.
const SCHEMA_V5: &str = "
ALTER TABLE rooms ADD COLUMN password_hash TEXT;
CREATE TABLE room_admissions (
    room TEXT NOT NULL,
    key  TEXT NOT NULL,
    PRIMARY KEY (room, key)
) WITHOUT ROWID;
";

/// Version 6: no UNIQUE index on (sender_key, client_id). The writer recognises resends from memory
/// (`writer/resends.rs`); the index put every insert on a random page, since client ids are random. SQLite cannot
/// drop a table constraint, so the table is rebuilt, keeping every message's id (the search index's row id).
const SCHEMA_V6: &str = "
CREATE TABLE messages_v6 (
    id         INTEGER PRIMARY KEY,
    conv       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    sender_key TEXT NOT NULL,
    sender     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    text       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    extra      TEXT,
    rev        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conv, seq)
);
INSERT INTO messages_v6 (id, conv, seq, sender_key, sender, client_id, text, ts, extra, rev)
    SELECT id, conv, seq, sender_key, sender, client_id, text, ts, extra, rev FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v6 RENAME TO messages;
CREATE INDEX messages_changed ON messages (conv, rev) WHERE rev > 0;
";

/// The room every server has, so a first client has somewhere to talk.
pub(crate) const DEFAULT_ROOM: &str = "lobby";

fn pragmas(conn: &Connection) -> rusqlite::Result<()> {
    // WAL lets readers page history while the writer commits; synchronous=NORMAL keeps every committed
    // transaction across a process crash (what `kill -9` tests), trading only the last commits on power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Opens (creating and migrating if needed) the connection the writer thread owns.
pub(crate) fn open_writer(path: &Path, now_ms: i64) -> rusqlite::Result<Connection> {
    crate::private_file::create_private(path);
    let mut conn = Connection::open(path)?;
    pragmas(&conn)?;
    // Checkpoints run on their own thread ([`super::checkpoint`]), keeping their fsync off the ack path.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_V1)?;
        tx.execute("INSERT INTO rooms (name, topic, created_ms) VALUES (?1, '', ?2)", (DEFAULT_ROOM, now_ms))?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    for (to, migration) in [(2, SCHEMA_V2), (3, SCHEMA_V3), (4, SCHEMA_V4), (5, SCHEMA_V5), (6, SCHEMA_V6)] {
        if version < to {
            let tx = conn.transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
        }
    }
    debug_assert_eq!(conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0)).ok(), Some(VERSION));
    Ok(conn)
}

/// Opens a read-only connection for history queries.
pub(crate) fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}
