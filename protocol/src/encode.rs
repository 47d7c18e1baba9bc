//! Encoding server events as JSON text, with a direct path for the two a server sends most.
//!
//! Every stored message is sent as an `ack` to its sender and a `message` to its conversation. Through serde's
//! internally tagged enum, each goes through a map serializer that escapes every key as if it could hold a quote;
//! the persistence benchmark's profile put encoding at an eighth of the server's instructions. Plain messages (no
//! poll, reactions, quote, edit or deletion) and acks are written here field by field instead, producing exactly the
//! bytes serde would (tested against it); everything else goes through serde.

use std::fmt::Write as _;

use crate::server::{Ack, ChatMessage, ServerEvent};

/// The JSON text of `event`, as `serde_json::to_string` writes it.
pub fn to_json(event: &ServerEvent) -> serde_json::Result<String> {
    match event {
        ServerEvent::Message(message) if is_plain(message) => Ok(plain_message(message)),
        ServerEvent::Ack(ack) => Ok(ack_json(ack)),
        other => serde_json::to_string(other),
    }
}

/// Whether serde would write only the always-present fields of `message`.
fn is_plain(message: &ChatMessage) -> bool {
    message.poll.is_none()
        && message.announcement.is_none()
        && message.reactions.is_empty()
        && message.reply_to.is_none()
        && message.edited_ms.is_none()
        && !message.deleted
        && message.rev == 0
}

fn plain_message(m: &ChatMessage) -> String {
    let mut out = String::with_capacity(96 + m.room.len() + m.from.len() + m.text.len() + m.client_id.len());
    out.push_str(r#"{"type":"message","room":"#);
    string(&mut out, &m.room);
    out.push_str(r#","id":"#);
    out.push_str(itoa::Buffer::new().format(m.id));
    out.push_str(r#","seq":"#);
    out.push_str(itoa::Buffer::new().format(m.seq));
    out.push_str(r#","from":"#);
    string(&mut out, &m.from);
    out.push_str(r#","text":"#);
    string(&mut out, &m.text);
    out.push_str(r#","ts":"#);
    out.push_str(itoa::Buffer::new().format(m.ts));
    out.push_str(r#","client_id":"#);
    string(&mut out, &m.client_id);
    out.push('}');
    out
}

fn ack_json(a: &Ack) -> String {
    let mut out = String::with_capacity(96 + a.client_id.len() + a.room.len());
    out.push_str(r#"{"type":"ack","client_id":"#);
    string(&mut out, &a.client_id);
    out.push_str(r#","room":"#);
    string(&mut out, &a.room);
    out.push_str(r#","id":"#);
    out.push_str(itoa::Buffer::new().format(a.id));
    out.push_str(r#","seq":"#);
    out.push_str(itoa::Buffer::new().format(a.seq));
    out.push_str(r#","ts":"#);
    out.push_str(itoa::Buffer::new().format(a.ts));
    out.push_str(if a.duplicate { r#","duplicate":true}"# } else { r#","duplicate":false}"# });
    out
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"`, `\` and control characters only.
fn string(out: &mut String, text: &str) {
    out.push('"');
    // Chat text rarely needs escaping; this check has no early exit, so the compiler vectorises it.
    let plain = text.bytes().fold(true, |plain, b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::extras::Quote;

    fn message(text: &str) -> ChatMessage {
        ChatMessage {
            room: "lobby".into(),
            id: -3,
            seq: u64::MAX,
            from: "ana".into(),
            text: text.into(),
            ts: 1_700_000_000_000,
            client_id: "0f9c\"id".into(),
            ..ChatMessage::default()
        }
    }

    fn same_as_serde(event: &ServerEvent) {
        let serde = serde_json::to_string(event).expect("serde encodes");
        assert_eq!(to_json(event).expect("encodes"), serde);
    }

    #[test]
    fn writes_what_serde_writes_for_awkward_text() {
        let every_control: String = (0u8..0x20).map(char::from).collect();
        for text in ["", "plain", "quote \" and \\ slash /", "tab\tnew\nline\r", "é ü 中文 🎉 \u{7f}", &every_control]
        {
            same_as_serde(&ServerEvent::Message(message(text)));
        }
        let ack = Ack { client_id: "x\u{1}y".into(), room: "@bo".into(), id: 9, seq: 2, ts: -1, duplicate: true };
        same_as_serde(&ServerEvent::Ack(ack));
    }

    #[test]
    fn messages_with_extras_go_through_serde() {
        let mut quoted = message("an answer");
        quoted.reply_to = Some(Quote { seq: 1, from: "bo".into(), text: "a question".into() });
        same_as_serde(&ServerEvent::Message(quoted));
        let mut edited = message("changed");
        edited.edited_ms = Some(5);
        edited.rev = 2;
        same_as_serde(&ServerEvent::Message(edited));
    }

    proptest! {
        #[test]
        fn any_plain_message_or_ack_encodes_as_serde_does(
            text in any::<String>(),
            from in any::<String>(),
            id in any::<i64>(),
            seq in any::<u64>(),
            duplicate in any::<bool>(),
        ) {
            let mut m = message(&text);
            m.from = from;
            m.id = id;
            m.seq = seq;
            prop_assert_eq!(to_json(&ServerEvent::Message(m.clone())).ok(), serde_json::to_string(&ServerEvent::Message(m)).ok());
            let ack = Ack { client_id: text, room: "lobby".into(), id, seq, ts: id, duplicate };
            prop_assert_eq!(to_json(&ServerEvent::Ack(ack.clone())).ok(), serde_json::to_string(&ServerEvent::Ack(ack)).ok());
        }
    }
}
