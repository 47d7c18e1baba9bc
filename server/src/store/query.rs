//! Reading stored messages, shared by the writer (replay on resume) and the readers (history pages).

use parlor_protocol::{ChatMessage, HistoryPage};
use rusqlite::{Connection, OptionalExtension};

use super::conv::ConvKey;
use super::extras::Extras;

const COLUMNS: &str = "id, seq, sender, text, ts, client_id, extra, rev";

/// About how many bytes a message takes as a `message` event on the wire.
pub(crate) fn wire_len(message: &ChatMessage) -> usize {
    // `{"type":"message",` around the fields; a message always serialises.
    serde_json::to_vec(message).map_or(0, |json| json.len()) + 20
}

/// How many of `messages`, taken in order, fit in `budget` bytes on the wire: at least one, so a client always
/// makes progress.
pub(crate) fn fitting(messages: &[ChatMessage], budget: usize) -> usize {
    let mut used = 0;
    let count = messages
        .iter()
        .take_while(|message| {
            used += wire_len(message);
            used <= budget
        })
        .count();
    count.max(1).min(messages.len())
}

fn read_rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    room: &str,
) -> rusqlite::Result<Vec<ChatMessage>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| {
        let mut message = ChatMessage {
            room: room.to_owned(),
            id: row.get(0)?,
            seq: row.get(1)?,
            from: row.get(2)?,
            text: row.get(3)?,
            ts: row.get(4)?,
            client_id: row.get(5)?,
            rev: row.get(7)?,
            ..ChatMessage::default()
        };
        Extras::from_column(row.get(6)?, 6)?.apply(&mut message);
        Ok(message)
    })?;
    rows.collect()
}

/// Messages up to `through` that changed after revision `after_rev`, in the order they changed, at most `limit`.
pub(crate) fn changed(
    conn: &Connection,
    conv: &ConvKey,
    viewer: &str,
    through: u64,
    after_rev: u64,
    limit: u32,
) -> rusqlite::Result<Vec<ChatMessage>> {
    let sql =
        format!("SELECT {COLUMNS} FROM messages WHERE conv = ?1 AND rev > ?2 AND seq <= ?3 ORDER BY rev LIMIT ?4");
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    read_rows(conn, &sql, (conv.db(), clamp(after_rev), clamp(through), limit), &conv.display_for(viewer))
}

/// Messages with `from <= seq <= to`, ascending, named for `viewer`.
pub(crate) fn range(
    conn: &Connection,
    conv: &ConvKey,
    viewer: &str,
    from: u64,
    to: u64,
) -> rusqlite::Result<Vec<ChatMessage>> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE conv = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq");
    read_rows(conn, &sql, (conv.db(), from, to), &conv.display_for(viewer))
}

/// The oldest sequence still stored, if any.
pub(crate) fn first_kept(conn: &Connection, conv: &ConvKey) -> rusqlite::Result<Option<u64>> {
    conn.prepare_cached("SELECT MIN(seq) FROM messages WHERE conv = ?1")?
        .query_row([conv.db()], |row| row.get::<_, Option<u64>>(0))
        .optional()
        .map(Option::flatten)
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Anchor {
    /// The newest messages.
    Latest,
    /// Messages older than this sequence.
    Before(u64),
    /// Messages newer than this sequence.
    After(u64),
}

/// One page of history, ascending, with whether more lie beyond it in the direction asked.
pub(crate) fn page(
    conn: &Connection,
    conv: &ConvKey,
    viewer: &str,
    anchor: Anchor,
    limit: u32,
    budget: usize,
) -> rusqlite::Result<HistoryPage> {
    let room = conv.display_for(viewer);
    let fetch = i64::from(limit) + 1;
    // SQLite integers are signed: a sequence beyond i64::MAX (no stored one is) means "beyond every message".
    let clamp = |seq: u64| i64::try_from(seq).unwrap_or(i64::MAX);
    let mut messages = match anchor {
        Anchor::Latest => {
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE conv = ?1 ORDER BY seq DESC LIMIT ?2");
            read_rows(conn, &sql, (conv.db(), fetch), &room)?
        }
        Anchor::Before(seq) => {
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE conv = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3");
            read_rows(conn, &sql, (conv.db(), clamp(seq), fetch), &room)?
        }
        Anchor::After(seq) => {
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE conv = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
            read_rows(conn, &sql, (conv.db(), clamp(seq), fetch), &room)?
        }
    };
    // Fetched nearest the anchor first, so cutting the end keeps the page contiguous with where the client is.
    let fit = fitting(&messages, budget).min(limit as usize);
    let has_more = messages.len() > fit;
    messages.truncate(fit);
    if !matches!(anchor, Anchor::After(_)) {
        messages.reverse();
    }
    Ok(HistoryPage { room, messages, has_more })
}

/// The FTS5 query for what a user typed: every word must appear (each quoted, so no word is read as an operator),
/// the last one as the start of a word, since people search while typing. `None` when nothing is left to find.
pub(crate) fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        // Quotes would end the quoted word; control characters (a NUL ends the string for SQLite) are never text.
        .map(|word| word.chars().filter(|c| *c != '"' && !c.is_control()).collect::<String>())
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .take(MAX_QUERY_WORDS)
        .map(|word| format!("\"{word}\""))
        .collect();
    let (last, rest) = words.split_last()?;
    Some(rest.iter().cloned().chain(std::iter::once(format!("{last}*"))).collect::<Vec<_>>().join(" "))
}

/// Most words a search uses; more would only slow it down.
const MAX_QUERY_WORDS: usize = 10;

/// Matches of `expression` in one conversation, newest first, before `before` if given: at most `limit`, and
/// whether more exist.
pub(crate) fn search(
    conn: &Connection,
    conv: &ConvKey,
    viewer: &str,
    expression: &str,
    before: Option<u64>,
    limit: u32,
) -> rusqlite::Result<(Vec<ChatMessage>, bool)> {
    let columns = COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {columns} FROM message_search s JOIN messages m ON m.id = s.rowid
         WHERE message_search MATCH ?1 AND m.conv = ?2 AND m.seq < ?3 ORDER BY m.seq DESC LIMIT ?4"
    );
    let before = before.map_or(i64::MAX, |seq| i64::try_from(seq).unwrap_or(i64::MAX));
    let mut found =
        read_rows(conn, &sql, (expression, conv.db(), before, i64::from(limit) + 1), &conv.display_for(viewer))?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok((found, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_quoted_prefix_query() {
        assert_eq!(match_expression("fractions hom").as_deref(), Some("\"fractions\" \"hom\"*"));
        assert_eq!(match_expression("  OR \"NEAR( a").as_deref(), Some("\"OR\" \"NEAR(\" \"a\"*"));
        assert_eq!(match_expression("* ( ) \" -"), None);
        assert_eq!(match_expression(""), None);
        assert_eq!(match_expression("nul\0 tab\u{7}").as_deref(), Some("\"nul\" \"tab\"*"));
    }
}
