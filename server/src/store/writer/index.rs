//! The search index (`message_search`, FTS5), kept off the ack path: a stored message is acked first and indexed
//! later — a step at a time, once a second ([`crate::store::Store::index_some`]), and all of what is missing just
//! before a search ([`crate::store::Store::search`]). Under a flood, indexing costs the writer one small step a
//! second; a search may then wait while the index catches up. Edits and deletions of messages already indexed update
//! the index in their own transaction.

use rusqlite::Connection;

use super::Writer;

/// How far the index has got, read at start.
pub(super) fn indexed_up_to(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let indexed = conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM message_search", [], |row| row.get(0))?;
    let newest = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |row| row.get(0))?;
    Ok((indexed, newest))
}

impl Writer {
    /// Indexes up to `rows` more stored messages; true once nothing is left to index. A failure is logged and
    /// reported as caught up, so a broken index costs search its newest messages, never the chat.
    pub(super) fn index_step(&mut self, rows: i64) -> bool {
        if self.indexed >= self.newest_id {
            return true;
        }
        let to = self.newest_id.min(self.indexed.saturating_add(rows.max(1)));
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
            Ok(()) => {
                self.indexed = to;
                self.indexed >= self.newest_id
            }
            Err(err) => {
                tracing::error!(%err, "failed to index messages for search; will retry");
                true
            }
        }
    }

    /// Brings the index entry of an indexed message up to date with its new text (empty: deleted).
    pub(super) fn reindex(tx: &rusqlite::Transaction<'_>, indexed: i64, id: i64, text: &str) -> rusqlite::Result<()> {
        if id > indexed {
            return Ok(()); // Not indexed yet: a later step reads the new text.
        }
        tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?.execute([id])?;
        if !text.is_empty() {
            tx.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)")?.execute((id, text))?;
        }
        Ok(())
    }
}
