//! The search index (`message_search`, FTS5), kept by the writer in its idle time: a stored message is acked first
//! and indexed when no request is waiting, so search never slows chat down, and under a burst it catches up right
//! after. Edits and deletions of messages already indexed update the index in their own transaction.

use rusqlite::Connection;

use super::Writer;

/// Messages indexed per idle step: small enough that a request arriving meanwhile waits only a few milliseconds.
const STEP: i64 = 2_000;

/// How far the index has got, read at start.
pub(super) fn indexed_up_to(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let indexed = conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM message_search", [], |row| row.get(0))?;
    let newest = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |row| row.get(0))?;
    Ok((indexed, newest))
}

impl Writer {
    /// Whether stored messages wait to be indexed.
    pub(super) fn index_behind(&self) -> bool {
        self.indexed < self.newest_id
    }

    /// Indexes the next step of messages. A failure is logged and the index tries again later; search then misses
    /// only the newest messages, and chat goes on.
    pub(super) fn index_step(&mut self) {
        let to = self.newest_id.min(self.indexed.saturating_add(STEP));
        let indexed = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            tx.prepare_cached(
                "INSERT INTO message_search (rowid, text)
                 SELECT id, text FROM messages WHERE id > ?1 AND id <= ?2 AND text != ''",
            )?
            .execute((self.indexed, to))?;
            tx.commit()
        })();
        match indexed {
            Ok(()) => self.indexed = to,
            Err(err) => {
                tracing::error!(%err, "failed to index messages for search; will retry");
                // Do not spin on a broken index: give up until the next message arrives.
                self.newest_id = self.indexed;
            }
        }
    }

    /// Brings the index entry of an indexed message up to date with its new text (empty: deleted).
    pub(super) fn reindex(tx: &rusqlite::Transaction<'_>, indexed: i64, id: i64, text: &str) -> rusqlite::Result<()> {
        if id > indexed {
            return Ok(()); // Not indexed yet: the idle step will read the new text.
        }
        tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?.execute([id])?;
        if !text.is_empty() {
            tx.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)")?.execute((id, text))?;
        }
        Ok(())
    }
}
