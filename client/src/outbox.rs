//! The outbox: messages the user sent that the server has not acknowledged yet, in one SQLite file.
//!
//! A message is written here (and synced) before `send` returns, and deleted only when an `ack` (or a refusal that
//! resending cannot fix) arrives. So neither a lost connection nor a crash nor a restart can lose it, and resending
//! with its original `client_id` can never post it twice. Rows are keyed by server URL and folded nickname, so one
//! data directory can serve several profiles without a message going to the wrong server or under the wrong name.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use parlor_protocol::PollSpec;

use crate::error::ClientError;

/// The database file inside the data directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";

/// `AUTOINCREMENT` keeps ids growing even after every row was deleted, so id order is always sending order.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS outbox (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        server    TEXT NOT NULL,
        nick      TEXT NOT NULL,
        client_id TEXT NOT NULL,
        room      TEXT NOT NULL,
        text      TEXT NOT NULL,
        queued_ms INTEGER NOT NULL,
        UNIQUE (server, nick, client_id)
    );
";

/// Version 2: a poll, the answered message's `seq` or the announcement mark, as JSON ([`Extra`]); NULL for a
/// plain message.
const SCHEMA_V2: &str = "ALTER TABLE outbox ADD COLUMN extra TEXT;";

/// What a pending message carries besides its text, as stored in the `extra` column.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poll: Option<PollSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    announce: bool,
}

/// A message waiting for its `ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMessage {
    /// The id it is (re)sent with.
    pub client_id: String,
    /// The room or `@nick`, folded.
    pub room: String,
    /// The text (a poll's question).
    pub text: String,
    /// Makes the message a poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollSpec>,
    /// The `seq` of the message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// An announcement (moderators) that participants acknowledge.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub announce: bool,
}

/// One profile's view of the outbox file.
#[derive(Debug)]
pub(crate) struct Outbox {
    conn: Connection,
    server: String,
    nick: String,
}

impl Outbox {
    /// Opens (creating if needed) the outbox in `dir` for messages to `server` from `nick`.
    pub(crate) fn open(dir: &Path, server: &str, nick: &str) -> Result<Self, ClientError> {
        std::fs::create_dir_all(dir).map_err(|source| ClientError::DataDir { path: dir.to_path_buf(), source })?;
        let path = dir.join(OUTBOX_FILE);
        create_private(&path);
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a message the user saw as "queued" must survive a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version < 2 {
            conn.execute_batch(&format!("BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"))?;
        }
        Ok(Self { conn, server: server.to_owned(), nick: parlor_protocol::names::fold(nick) })
    }

    /// Stores a message durably, after every message already queued.
    pub(crate) fn push(&self, message: &PendingMessage) -> Result<(), ClientError> {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (server, nick, client_id, room, text, queued_ms, extra)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute((
                &self.server,
                &self.nick,
                &message.client_id,
                &message.room,
                &message.text,
                i64::try_from(now_ms).unwrap_or(i64::MAX),
                extra_column(message),
            ))?;
        Ok(())
    }

    /// Deletes a message once the server acknowledged or finally refused it; says whether it was still there.
    pub(crate) fn remove(&self, client_id: &str) -> Result<bool, ClientError> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM outbox WHERE server = ?1 AND nick = ?2 AND client_id = ?3")?
            .execute((&self.server, &self.nick, client_id))?;
        Ok(deleted > 0)
    }

    /// The oldest message waiting: the only one the client may send next if order is to be kept.
    pub(crate) fn oldest(&self) -> Result<Option<PendingMessage>, ClientError> {
        let message = self
            .conn
            .prepare_cached(
                "SELECT client_id, room, text, extra FROM outbox WHERE server = ?1 AND nick = ?2 ORDER BY id LIMIT 1",
            )?
            .query_row((&self.server, &self.nick), row_to_message)
            .optional()?;
        Ok(message)
    }

    /// Every message waiting, oldest first.
    pub(crate) fn all(&self) -> Result<Vec<PendingMessage>, ClientError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT client_id, room, text, extra FROM outbox WHERE server = ?1 AND nick = ?2 ORDER BY id",
        )?;
        let rows = statement.query_map((&self.server, &self.nick), row_to_message)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<PendingMessage> {
    let extra: Extra = match row.get::<_, Option<String>>(3)? {
        None => Extra::default(),
        Some(json) => serde_json::from_str(&json)
            .map_err(|err| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(err)))?,
    };
    Ok(PendingMessage {
        client_id: row.get(0)?,
        room: row.get(1)?,
        text: row.get(2)?,
        poll: extra.poll,
        reply_to: extra.reply_to,
        announce: extra.announce,
    })
}

fn extra_column(message: &PendingMessage) -> Option<String> {
    if message.poll.is_none() && message.reply_to.is_none() && !message.announce {
        return None;
    }
    let extra = Extra { poll: message.poll.clone(), reply_to: message.reply_to, announce: message.announce };
    serde_json::to_string(&extra).ok()
}

/// Creates the outbox file with mode 0600 (on Unix) before SQLite opens it; its WAL inherits the mode. Messages
/// waiting to be sent are nobody else's business on a shared computer.
fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "ws://127.0.0.1:7878/ws";

    fn message(n: u32) -> PendingMessage {
        PendingMessage {
            client_id: format!("c-{n}"),
            room: "lobby".into(),
            text: format!("text {n}"),
            poll: None,
            reply_to: None,
            announce: false,
        }
    }

    #[test]
    fn polls_and_replies_wait_with_what_they_carry() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let poll = PendingMessage {
            poll: Some(PollSpec { options: vec!["yes".into(), "no".into()], multiple: true }),
            ..message(1)
        };
        let reply = PendingMessage { reply_to: Some(7), announce: true, ..message(2) };
        {
            let outbox = Outbox::open(dir.path(), SERVER, "ana").expect("open");
            outbox.push(&poll).expect("push");
            outbox.push(&reply).expect("push");
        }
        let outbox = Outbox::open(dir.path(), SERVER, "ana").expect("reopen");
        assert_eq!(outbox.all().expect("read"), [poll, reply]);
    }

    #[test]
    fn an_outbox_of_the_first_version_is_migrated_with_its_messages() {
        let dir = tempfile::tempdir().expect("temporary directory");
        {
            let conn = Connection::open(dir.path().join(OUTBOX_FILE)).expect("open");
            conn.execute_batch(SCHEMA).expect("version 1");
            conn.execute_batch("PRAGMA user_version = 1;").expect("version 1");
            conn.execute(
                "INSERT INTO outbox (server, nick, client_id, room, text, queued_ms) VALUES (?1, 'ana', 'c-1', 'lobby', 'text 1', 0)",
                [SERVER],
            )
            .expect("a message from before");
        }
        let outbox = Outbox::open(dir.path(), SERVER, "ana").expect("migrate");
        assert_eq!(outbox.all().expect("read"), [message(1)]);
    }

    #[test]
    fn messages_survive_reopening_in_order() {
        let dir = tempfile::tempdir().expect("temporary directory");
        {
            let outbox = Outbox::open(dir.path(), SERVER, "Ana").expect("open");
            for n in 1..=3 {
                outbox.push(&message(n)).expect("push");
            }
        }
        let outbox = Outbox::open(dir.path(), SERVER, "ana").expect("reopen");
        assert_eq!(outbox.all().expect("read"), [message(1), message(2), message(3)]);
        assert_eq!(outbox.oldest().expect("read"), Some(message(1)));
        assert!(outbox.remove("c-1").expect("remove"));
        assert!(!outbox.remove("c-1").expect("remove again"), "a second ack finds nothing");
        assert_eq!(outbox.oldest().expect("read"), Some(message(2)));
    }

    #[test]
    fn order_holds_after_the_outbox_was_emptied() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let outbox = Outbox::open(dir.path(), SERVER, "ana").expect("open");
        outbox.push(&message(1)).expect("push");
        outbox.push(&message(2)).expect("push");
        outbox.remove("c-1").expect("remove");
        outbox.remove("c-2").expect("remove");
        outbox.push(&message(3)).expect("push");
        outbox.push(&message(4)).expect("push");
        assert_eq!(outbox.all().expect("read"), [message(3), message(4)]);
    }

    #[test]
    fn profiles_do_not_see_each_other() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let ana = Outbox::open(dir.path(), SERVER, "ana").expect("open");
        let bob = Outbox::open(dir.path(), SERVER, "bob").expect("open");
        let elsewhere = Outbox::open(dir.path(), "ws://10.0.0.2:7878/ws", "ana").expect("open");
        ana.push(&message(1)).expect("push");
        assert_eq!(bob.oldest().expect("read"), None);
        assert_eq!(elsewhere.oldest().expect("read"), None);
        assert!(!bob.remove("c-1").expect("remove"));
        assert_eq!(ana.all().expect("read").len(), 1);
        // The same client id from another profile is a different message.
        bob.push(&message(1)).expect("push");
        assert_eq!(bob.all().expect("read"), [message(1)]);
    }
}
