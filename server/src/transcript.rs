//! A room's transcript for the host to keep: every stored message with its poll results, reactions, replies and
//! edit marks, as Markdown (to read or paste), HTML (to open in any browser or print) or JSON (for programs).
//! `parlor-server export` writes one from the data directory; the desktop app's host does the same.
//!
//! Everything users wrote is escaped for the format: a message can never become markup in the transcript.

use std::fmt::Write as _;
use std::path::Path;

use parlor_protocol::{ChatMessage, Conversation};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::DATABASE_FILE;
use crate::store::{query, ConvKey};

/// The formats a transcript is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.md`
    Markdown,
    /// `.html`: one self-contained page, no script.
    Html,
    /// `.json`: `{room, topic, exported_at, messages}` with messages as in the protocol.
    Json,
}

impl Format {
    /// Reads `md`, `markdown`, `html` or `json`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Json => "json",
        }
    }
}

/// Why a transcript could not be made.
#[derive(Debug, Error)]
pub enum TranscriptError {
    /// The name is not a room's.
    #[error("{0:?} is not a room name")]
    InvalidRoom(String),
    /// No room has this name.
    #[error("there is no room {0:?} in this server's history")]
    NoSuchRoom(String),
    /// The database could not be read.
    #[error("cannot read the history database: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Milliseconds since the Unix epoch: the moment a transcript is exported, for its header and file name.
pub fn now_ms() -> i64 {
    crate::store::now_ms()
}

/// A room's transcript, read from the database in `data_dir` (read-only; the server may be running).
pub fn export(data_dir: &Path, room: &str, format: Format) -> Result<String, TranscriptError> {
    let Ok(Conversation::Room(room)) = Conversation::parse(room) else {
        return Err(TranscriptError::InvalidRoom(room.to_owned()));
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(data_dir.join(DATABASE_FILE), flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let topic: Option<String> =
        conn.query_row("SELECT topic FROM rooms WHERE name = ?1", [&room], |row| row.get(0)).optional()?;
    let Some(topic) = topic else { return Err(TranscriptError::NoSuchRoom(room)) };
    let messages = query::range(&conn, &ConvKey::Room(room.clone()), "", 1, i64::MAX as u64)?;
    Ok(render(&room, &topic, &messages, format, now_ms()))
}

/// A file name for a room's transcript: only letters, digits, `-`, `_` and `.` survive, so no name (of a room or
/// anything else) can reach another directory or a device name.
pub fn file_name(room: &str, format: Format, exported_ms: i64) -> String {
    let safe: String = room
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '-' })
        .take(64)
        .collect();
    let safe = safe.trim_matches('-');
    let safe = if safe.is_empty() { "room" } else { safe };
    let date = timestamp(exported_ms).get(..10).unwrap_or("undated").to_owned();
    format!("parlor-{safe}-{date}.{}", format.extension())
}

/// Renders a transcript of `messages` (ascending) of `room`.
pub fn render(room: &str, topic: &str, messages: &[ChatMessage], format: Format, exported_ms: i64) -> String {
    match format {
        Format::Markdown => markdown(room, topic, messages, exported_ms),
        Format::Html => html(room, topic, messages, exported_ms),
        Format::Json => json(room, topic, messages, exported_ms),
    }
}

fn timestamp(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// One line of a poll's results: `11: 2 votes (67%) — ana, bo`.
fn poll_lines(message: &ChatMessage) -> Vec<(String, usize, usize, Vec<String>)> {
    let Some(poll) = &message.poll else { return Vec::new() };
    let total: usize = poll.options.iter().map(|o| o.voters.len()).sum();
    poll.options
        .iter()
        .map(|o| {
            let percent = (o.voters.len() * 100).checked_div(total).unwrap_or(0);
            (o.text.clone(), o.voters.len(), percent, o.voters.clone())
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Escapes Markdown's punctuation so text reads as written.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]()#+-.!|<>~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    // Line breaks inside a message stay inside its list item.
    out.replace('\n', "  \n  ")
}

fn markdown(room: &str, topic: &str, messages: &[ChatMessage], exported_ms: i64) -> String {
    let mut out = format!("# Transcript of \\#{}\n\n", md(room));
    if !topic.is_empty() {
        let _ = writeln!(out, "Topic: {}\n", md(topic));
    }
    let _ = writeln!(out, "Exported {} · {}\n", timestamp(exported_ms), plural(messages.len(), "message", "messages"));
    for m in messages {
        let _ = write!(out, "- **{}** · {} · \\#{}", md(&m.from), timestamp(m.ts), m.seq);
        if m.deleted {
            out.push_str(" · *message deleted*\n");
            continue;
        }
        if m.edited_ms.is_some() {
            out.push_str(" · *edited*");
        }
        if m.announcement.is_some() {
            out.push_str(" · **announcement**");
        }
        out.push('\n');
        if let Some(quote) = &m.reply_to {
            let _ = writeln!(out, "  > {} wrote: {}", md(&quote.from), md(&quote.text));
        }
        let _ = writeln!(out, "  {}", md(&m.text));
        if let Some(poll) = &m.poll {
            let state = if poll.closed { "final results" } else { "results so far" };
            let _ = writeln!(out, "  Poll ({state}):");
            for (text, votes, percent, voters) in poll_lines(m) {
                let who = if voters.is_empty() { String::new() } else { format!(" — {}", md(&voters.join(", "))) };
                let _ = writeln!(out, "  - {}: {} ({percent}%){who}", md(&text), plural(votes, "vote", "votes"));
            }
        }
        if let Some(announcement) = &m.announcement {
            let _ = writeln!(out, "  Read by: {}", md(&announcement.acks.join(", ")));
        }
        if !m.reactions.is_empty() {
            let reactions: Vec<String> =
                m.reactions.iter().map(|r| format!("{} {}", md(&r.emoji), r.by.len())).collect();
            let _ = writeln!(out, "  Reactions: {}", reactions.join(" · "));
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
fn h(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(room: &str, topic: &str, messages: &[ChatMessage], exported_ms: i64) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Transcript of #{room}</title>\n<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:52rem;\
         margin:2rem auto;padding:0 1rem}}li{{margin:.6rem 0;list-style:none}}.meta{{color:#666;font-size:.85em}}\
         .text{{white-space:pre-wrap}}blockquote{{margin:.2rem 0;padding-left:.6rem;border-left:3px solid #ccc;\
         color:#555}}.bar{{display:inline-block;height:.7em;background:#4a7bd0;vertical-align:middle}}\
         .deleted{{color:#888;font-style:italic}}</style></head><body>\n<h1>Transcript of #{room}</h1>\n",
        room = h(room)
    );
    if !topic.is_empty() {
        let _ = writeln!(out, "<p>Topic: {}</p>", h(topic));
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Exported {} · {}</p>\n<ol>",
        timestamp(exported_ms),
        plural(messages.len(), "message", "messages")
    );
    for m in messages {
        let _ = write!(
            out,
            "<li id=\"m{}\"><div class=\"meta\"><b>{}</b> · {} · #{}",
            m.seq,
            h(&m.from),
            timestamp(m.ts),
            m.seq
        );
        if m.deleted {
            out.push_str("</div><div class=\"deleted\">message deleted</div></li>\n");
            continue;
        }
        if m.edited_ms.is_some() {
            out.push_str(" · edited");
        }
        if m.announcement.is_some() {
            out.push_str(" · <b>announcement</b>");
        }
        out.push_str("</div>");
        if let Some(quote) = &m.reply_to {
            let _ = write!(out, "<blockquote>{} wrote: {}</blockquote>", h(&quote.from), h(&quote.text));
        }
        let _ = write!(out, "<div class=\"text\">{}</div>", h(&m.text));
        if let Some(poll) = &m.poll {
            let state = if poll.closed { "Final results" } else { "Results so far" };
            let _ = write!(out, "<p>{state}:</p><ul>");
            for (text, votes, percent, voters) in poll_lines(m) {
                let _ = write!(
                    out,
                    "<li><span class=\"bar\" style=\"width:{}px\"></span> {}: {} ({percent}%) <span class=\"meta\">{}</span></li>",
                    percent * 2,
                    h(&text),
                    plural(votes, "vote", "votes"),
                    h(&voters.join(", "))
                );
            }
            out.push_str("</ul>");
        }
        if let Some(announcement) = &m.announcement {
            let _ = write!(out, "<p class=\"meta\">Read by: {}</p>", h(&announcement.acks.join(", ")));
        }
        if !m.reactions.is_empty() {
            let reactions: Vec<String> =
                m.reactions.iter().map(|r| format!("{} {}", h(&r.emoji), r.by.len())).collect();
            let _ = write!(out, "<p class=\"meta\">{}</p>", reactions.join(" · "));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</body></html>\n");
    out
}

#[derive(Serialize)]
struct JsonTranscript<'a> {
    room: &'a str,
    topic: &'a str,
    exported_at: String,
    messages: &'a [ChatMessage],
}

fn json(room: &str, topic: &str, messages: &[ChatMessage], exported_ms: i64) -> String {
    let transcript = JsonTranscript { room, topic, exported_at: timestamp(exported_ms), messages };
    // Plain data always serialises.
    serde_json::to_string_pretty(&transcript).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use parlor_protocol::{PollSpec, Quote, Reaction};

    use super::*;

    fn message(seq: u64, from: &str, text: &str) -> ChatMessage {
        ChatMessage {
            room: "maths".into(),
            id: seq as i64,
            seq,
            from: from.into(),
            text: text.into(),
            ts: 1_717_430_400_000,
            client_id: format!("c{seq}"),
            ..ChatMessage::default()
        }
    }

    fn sample() -> Vec<ChatMessage> {
        let mut poll = message(2, "teacher", "Which is prime?");
        let mut results = PollSpec { options: vec!["9".into(), "11".into()], multiple: false }.open();
        results.vote("ana", &[1]).expect("vote");
        results.closed = true;
        poll.poll = Some(results);
        let mut reply = message(3, "ana", "<script>alert(1)</script> **bold** [x](javascript:alert(1))");
        reply.reply_to = Some(Quote { seq: 2, from: "teacher".into(), text: "Which is prime?".into() });
        reply.reactions = vec![Reaction { emoji: "👍".into(), by: vec!["bo".into()] }];
        let deleted = ChatMessage { deleted: true, text: String::new(), ..message(4, "bo", "") };
        vec![message(1, "teacher", "Good morning"), poll, reply, deleted]
    }

    #[test]
    fn markdown_has_poll_results_and_escapes_what_users_wrote() {
        let text = render("maths", "fractions", &sample(), Format::Markdown, 0);
        assert!(text.starts_with("# Transcript of \\#maths"), "{text}");
        assert!(text.contains("  Poll (final results):\n  - 9: 0 votes (0%)\n  - 11: 1 vote (100%) — ana\n"), "{text}");
        assert!(text.contains("\\*\\*bold\\*\\*") && text.contains("\\[x\\]\\(javascript:alert\\(1\\)\\)"), "{text}");
        assert!(text.contains("*message deleted*") && text.contains("Reactions: 👍 1"), "{text}");
        assert!(text.contains("2024-06-03T16:00:00Z"), "times are UTC, RFC 3339: {text}");
    }

    #[test]
    fn html_is_inert_whatever_users_wrote() {
        let page = render("maths", "<b>topic</b>", &sample(), Format::Html, 0);
        assert!(!page.contains("<script>") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;b&gt;topic&lt;/b&gt;"));
        assert!(page.contains("default-src 'none'"), "no script can run even if something slipped through");
        assert!(page.contains("11: 1 vote (100%)"));
    }

    #[test]
    fn json_keeps_messages_as_the_protocol_has_them() {
        let text = render("maths", "", &sample(), Format::Json, 0);
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["room"], "maths");
        assert_eq!(value["messages"][1]["poll"]["options"][1]["voters"][0], "ana");
        assert_eq!(value["messages"][3]["deleted"], true);
    }

    #[test]
    fn file_names_stay_in_their_directory() {
        for hostile in ["../../etc/passwd", "..\\windows\\system32", "/abs", "con", "a\0b", "日本語", "", "..", "@bo"]
        {
            let name = file_name(hostile, Format::Markdown, 0);
            assert!(!name.contains(['/', '\\', '\0']) && !name.contains(".."), "{hostile:?} → {name:?}");
            assert!(name.starts_with("parlor-") && name.ends_with("-1970-01-01.md"), "{name}");
        }
        assert_eq!(file_name("maths_7", Format::Html, 0), "parlor-maths_7-1970-01-01.html");
    }
}
