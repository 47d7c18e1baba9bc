//! The account database: accounts, their sessions, and device claims on unregistered nicknames.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::store::now_ms;

/// The account database's file name inside the data directory.
pub(crate) const ACCOUNTS_FILE: &str = "accounts.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    key           TEXT PRIMARY KEY,
    nick          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 BLOB PRIMARY KEY,
    account_key  TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account_key);
CREATE TABLE IF NOT EXISTS devices (
    nick_key      TEXT PRIMARY KEY,
    device_sha256 BLOB NOT NULL,
    created_ms    INTEGER NOT NULL,
    last_used_ms  INTEGER NOT NULL
);
";

/// Who holds a nickname.
#[derive(Debug)]
pub(super) enum Holder {
    /// A registered account with this argon2id PHC string.
    Account { password_hash: String },
    /// The device whose key has this SHA-256.
    Device { device_sha256: [u8; 32] },
    /// No one: a guest may use it.
    Nobody,
}

/// One connection to `accounts.sqlite3`, used from blocking tasks under a mutex.
#[derive(Debug)]
pub(super) struct AccountDb {
    conn: Connection,
}

impl AccountDb {
    /// Opens the file, restricting it to this user before anything is written to it.
    pub(super) fn open(path: &Path) -> rusqlite::Result<Self> {
        crate::private_file::create_private(path);
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    pub(super) fn holder(&self, key: &str) -> rusqlite::Result<Holder> {
        let account = self
            .conn
            .prepare_cached("SELECT password_hash FROM accounts WHERE key = ?1")?
            .query_row([key], |row| row.get::<_, String>(0))
            .optional()?;
        if let Some(password_hash) = account {
            return Ok(Holder::Account { password_hash });
        }
        let device = self
            .conn
            .prepare_cached("SELECT device_sha256 FROM devices WHERE nick_key = ?1")?
            .query_row([key], |row| row.get::<_, [u8; 32]>(0))
            .optional()?;
        Ok(device.map_or(Holder::Nobody, |device_sha256| Holder::Device { device_sha256 }))
    }

    /// Whether the token digest is a live session of account `key`; marks it used.
    pub(super) fn use_session(&self, key: &str, digest: &[u8; 32]) -> rusqlite::Result<bool> {
        let sql = "UPDATE sessions SET last_used_ms = ?3 WHERE token_sha256 = ?1 AND account_key = ?2";
        Ok(self.conn.prepare_cached(sql)?.execute((digest.as_slice(), key, now_ms()))? == 1)
    }

    /// The account (folded key, nickname as shown) whose live session has this token digest; marks it used.
    pub(super) fn account_of(&self, digest: &[u8; 32]) -> rusqlite::Result<Option<(String, String)>> {
        let sql =
            "SELECT a.key, a.nick FROM sessions s JOIN accounts a ON a.key = s.account_key WHERE s.token_sha256 = ?1";
        let found = self
            .conn
            .prepare_cached(sql)?
            .query_row([digest.as_slice()], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .optional()?;
        if found.is_some() {
            let touch = "UPDATE sessions SET last_used_ms = ?2 WHERE token_sha256 = ?1";
            self.conn.prepare_cached(touch)?.execute((digest.as_slice(), now_ms()))?;
        }
        Ok(found)
    }

    pub(super) fn add_session(&self, key: &str, digest: &[u8; 32]) -> rusqlite::Result<()> {
        let sql = "INSERT INTO sessions (token_sha256, account_key, created_ms, last_used_ms) VALUES (?1, ?2, ?3, ?3)";
        self.conn.prepare_cached(sql)?.execute((digest.as_slice(), key, now_ms()))?;
        Ok(())
    }

    pub(super) fn touch_device(&self, key: &str) -> rusqlite::Result<()> {
        let sql = "UPDATE devices SET last_used_ms = ?2 WHERE nick_key = ?1";
        self.conn.prepare_cached(sql)?.execute((key, now_ms()))?;
        Ok(())
    }

    /// Claims an unheld nickname for a device; a claim made meanwhile by another connection wins.
    pub(super) fn claim(&self, key: &str, digest: &[u8; 32]) -> rusqlite::Result<()> {
        let sql = "INSERT INTO devices (nick_key, device_sha256, created_ms, last_used_ms) VALUES (?1, ?2, ?3, ?3)
                   ON CONFLICT (nick_key) DO NOTHING";
        self.conn.prepare_cached(sql)?.execute((key, digest.as_slice(), now_ms()))?;
        Ok(())
    }

    /// Creates the account and its first session, dropping a device claim; `false` if it already exists.
    pub(super) fn register(&mut self, key: &str, nick: &str, hash: &str, digest: &[u8; 32]) -> rusqlite::Result<bool> {
        let tx = self.conn.transaction()?;
        let now = now_ms();
        let inserted = tx.execute(
            "INSERT INTO accounts (key, nick, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO NOTHING",
            (key, nick, hash, now),
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM devices WHERE nick_key = ?1", [key])?;
        tx.execute(
            "INSERT INTO sessions (token_sha256, account_key, created_ms, last_used_ms) VALUES (?1, ?2, ?3, ?3)",
            (digest.as_slice(), key, now),
        )?;
        tx.commit()?;
        Ok(true)
    }

    pub(super) fn revoke_one(&self, key: &str, digest: &[u8; 32]) -> rusqlite::Result<()> {
        let sql = "DELETE FROM sessions WHERE token_sha256 = ?1 AND account_key = ?2";
        self.conn.prepare_cached(sql)?.execute((digest.as_slice(), key))?;
        Ok(())
    }

    pub(super) fn revoke_all(&self, key: &str) -> rusqlite::Result<u64> {
        let removed = self.conn.prepare_cached("DELETE FROM sessions WHERE account_key = ?1")?.execute([key])?;
        Ok(u64::try_from(removed).unwrap_or(u64::MAX))
    }
}
