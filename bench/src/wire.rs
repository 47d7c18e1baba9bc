//! What the load generator sends and the little it reads back.
//!
//! Requests are built from `parlor-protocol`'s own [`ClientMessage`], so the benchmark speaks exactly the protocol
//! the server checks. Events are read with [`scan`], which pulls out only `type`, `seq`/`last_seq` and the send
//! stamp in `text`: at several hundred thousand deliveries per second on one core, a full JSON parse per frame would
//! make the generator the thing being measured. Anything the fast path does not recognise falls back to serde.

use std::borrow::Cow;

use parlor_protocol::{ChatMessage, ClientMessage, ServerEvent, PROTOCOL_VERSION};
use serde::Deserialize;

/// The client name sent in `hello`, so server logs show who is load testing.
const CLIENT_NAME: &str = concat!("parlor-bench/", env!("CARGO_PKG_VERSION"));

/// Characters in every benchmark message text: about the length of a short chat line.
pub const TEXT_LEN: usize = 100;

/// The `hello` a benchmark client greets with.
pub fn hello(nick: &str) -> String {
    encode(&ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        nick: nick.to_owned(),
        client: Some(CLIENT_NAME.to_owned()),
        password: None,
        auth: None,
    })
}

/// A `join` without replay: the client only wants live messages.
pub fn join(room: &str) -> String {
    encode(&ClientMessage::Join { room: room.to_owned(), after: None, after_rev: None, password: None })
}

/// A `create_room` for the rooms a scenario spreads its clients over.
pub fn create_room(room: &str) -> String {
    encode(&ClientMessage::CreateRoom { room: room.to_owned(), topic: None, password: None })
}

/// A `send` carrying its send stamp in the text, with a random UUID for its id as the Parlor app sends: ids in no
/// order are the realistic (and costlier) case for the server's check that a resend is not stored twice.
pub fn send(room: &str, stamp: Stamp, counter: u64) -> String {
    encode(&ClientMessage::Send {
        room: room.to_owned(),
        text: stamp_text(stamp, counter),
        client_id: uuid::Uuid::new_v4().to_string(),
        poll: None,
        reply_to: None,
        announce: false,
    })
}

/// The frame a client sends to the reference server: shaped like Parlor's own `message` event (same fields, similar
/// size), so receivers do the same work for both servers. `seq` is the sender's own counter.
pub fn reference_message(room: &str, stamp: Stamp, counter: u64, nick: &str) -> String {
    let message = ChatMessage {
        room: room.to_owned(),
        id: i64::try_from(counter).unwrap_or(i64::MAX),
        seq: counter,
        from: nick.to_owned(),
        text: stamp_text(stamp, counter),
        ts: 0,
        client_id: format!("{nick}-{counter}"),
        ..ChatMessage::default()
    };
    serde_json::to_string(&ServerEvent::Message(message)).unwrap_or_default()
}

fn encode(message: &ClientMessage) -> String {
    // These plain structs always serialise; an empty frame would be answered with `bad_json` and counted.
    serde_json::to_string(message).unwrap_or_default()
}

/// When and by whom a message was sent, carried at the start of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the generator's epoch when the frame was built.
    pub sent_ns: u64,
    /// Index of the sending client: the stream the reference server's per-sender counters belong to.
    pub sender: u32,
}

/// `t:<nanos> s:<sender> n:<counter> ` padded with `x` to [`TEXT_LEN`] characters.
pub fn stamp_text(stamp: Stamp, counter: u64) -> String {
    let mut text = format!("t:{} s:{} n:{} ", stamp.sent_ns, stamp.sender, counter);
    while text.len() < TEXT_LEN {
        text.push('x');
    }
    text
}

/// Reads the stamp at the start of a text written by [`stamp_text`].
pub fn parse_stamp(text: &str) -> Option<Stamp> {
    let rest = text.strip_prefix("t:")?;
    let (sent_ns, rest) = leading_number(rest)?;
    let rest = rest.strip_prefix(" s:")?;
    let (sender, _) = leading_number(rest)?;
    Some(Stamp { sent_ns, sender: u32::try_from(sender).ok()? })
}

/// The events the generator cares about; everything else is [`Event::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A chat message (or, from the reference server, a relayed frame).
    Message {
        /// Position in its stream: the room's `seq`, or the reference sender's counter.
        seq: u64,
        /// The send stamp, when the text carries one.
        stamp: Option<Stamp>,
    },
    /// A `send` was stored.
    Ack {
        /// The stored message's `seq`.
        seq: u64,
    },
    /// A `join` took effect.
    Joined {
        /// The room's newest `seq` at the moment of joining.
        last_seq: u64,
    },
    /// `hello` succeeded.
    Welcome,
    /// A room the generator asked for exists now.
    RoomCreated,
    /// A request was refused.
    Error {
        /// The error code, e.g. `rate_limited`.
        code: String,
    },
    /// Presence, typing and everything else.
    Other,
}

/// Reads one event frame: a byte scan for the frames the server writes, serde for anything unusual.
pub fn scan(frame: &str) -> Event {
    match frame.strip_prefix(r#"{"type":""#).and_then(|rest| rest.split_once('"')) {
        Some((kind, _)) => scan_fast(kind, frame).unwrap_or_else(|| scan_slow(frame)),
        None => scan_slow(frame),
    }
}

fn scan_fast(kind: &str, frame: &str) -> Option<Event> {
    // A key such as `"seq":` cannot occur inside a JSON string value (its quotes would be escaped), and these
    // events have no nested object with the same key, so the first match is the top-level field.
    Some(match kind {
        "message" => {
            if let Some(event) = message_in_server_layout(frame) {
                return Some(event);
            }
            let seq = number_after(frame, r#""seq":"#)?;
            let stamp = frame.find(r#""text":""#).and_then(|at| parse_stamp(&frame[at + 8..]));
            Event::Message { seq, stamp }
        }
        "ack" => Event::Ack { seq: number_after(frame, r#""seq":"#)? },
        "joined" => Event::Joined { last_seq: number_after(frame, r#""last_seq":"#)? },
        "welcome" => Event::Welcome,
        "room_created" => Event::RoomCreated,
        "error" => return None,
        _ => Event::Other,
    })
}

/// A `message` in exactly the field order serde writes `ChatMessage` (`type, room, id, seq, from, text, …`): one
/// pass, no substring search. Room names and nicknames cannot contain quotes, so the first quote ends them; a frame
/// that does not fit returns `None` and takes the general path.
fn message_in_server_layout(frame: &str) -> Option<Event> {
    let rest = frame.strip_prefix(r#"{"type":"message","room":""#)?;
    let (_room, rest) = rest.split_once('"')?;
    let (_id, rest) = leading_number(rest.strip_prefix(r#","id":"#)?)?;
    let (seq, rest) = leading_number(rest.strip_prefix(r#","seq":"#)?)?;
    let (_from, rest) = rest.strip_prefix(r#","from":""#)?.split_once('"')?;
    let text = rest.strip_prefix(r#","text":""#)?;
    Some(Event::Message { seq, stamp: parse_stamp(text) })
}

/// The fields [`scan_slow`] reads; serde ignores the rest.
#[derive(Debug, Deserialize)]
struct Loose<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    seq: Option<u64>,
    last_seq: Option<u64>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
}

fn scan_slow(frame: &str) -> Event {
    let Ok(loose) = serde_json::from_str::<Loose<'_>>(frame) else { return Event::Other };
    match (&*loose.kind, loose.seq, loose.last_seq) {
        ("message", Some(seq), _) => Event::Message { seq, stamp: loose.text.as_deref().and_then(parse_stamp) },
        ("ack", Some(seq), _) => Event::Ack { seq },
        ("joined", _, Some(last_seq)) => Event::Joined { last_seq },
        ("welcome", ..) => Event::Welcome,
        ("room_created", ..) => Event::RoomCreated,
        ("error", ..) => Event::Error { code: loose.code.map(Cow::into_owned).unwrap_or_default() },
        _ => Event::Other,
    }
}

fn number_after(frame: &str, key: &str) -> Option<u64> {
    let at = frame.find(key)? + key.len();
    leading_number(&frame[at..]).map(|(n, _)| n)
}

fn leading_number(text: &str) -> Option<(u64, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let number = text[..end].parse().ok()?;
    Some((number, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use parlor_protocol::{Ack, ErrorCode, ErrorEvent, Joined};

    fn message(seq: u64, text: &str) -> String {
        let message = ChatMessage {
            room: "lobby".into(),
            id: 1043,
            seq,
            from: "b00042".into(),
            text: text.into(),
            ts: 1_717_430_400_123,
            client_id: "b00042-7".into(),
            ..ChatMessage::default()
        };
        serde_json::to_string(&ServerEvent::Message(message)).expect("encodes")
    }

    #[test]
    fn stamps_round_trip_through_a_padded_text() {
        let stamp = Stamp { sent_ns: 123_456_789, sender: 7 };
        let text = stamp_text(stamp, 42);
        assert_eq!(text.len(), TEXT_LEN);
        assert!(text.starts_with("t:123456789 s:7 n:42 x"));
        assert_eq!(parse_stamp(&text), Some(stamp));
        assert_eq!(parse_stamp("hello"), None);
    }

    #[test]
    fn reads_the_servers_own_message_encoding() {
        let stamp = Stamp { sent_ns: 99, sender: 3 };
        let frame = message(42, &stamp_text(stamp, 5));
        assert_eq!(scan(&frame), Event::Message { seq: 42, stamp: Some(stamp) });
        assert_eq!(message_in_server_layout(&frame), Some(scan(&frame)), "the one-pass layout matches the server's");
        assert_eq!(scan_slow(&frame), scan(&frame), "fast and slow paths agree");
        assert_eq!(scan(&message(9, "plain chat")), Event::Message { seq: 9, stamp: None });
    }

    #[test]
    fn a_text_mentioning_seq_does_not_confuse_the_scan() {
        let frame = message(5, r#"look: "seq":999 and "last_seq":1"#);
        assert_eq!(scan(&frame), Event::Message { seq: 5, stamp: None });
    }

    #[test]
    fn reads_acks_joins_and_errors() {
        let ack = Ack { client_id: "c".into(), room: "lobby".into(), id: 1, seq: 77, ts: 0, duplicate: false };
        let frame = serde_json::to_string(&ServerEvent::Ack(ack)).expect("encodes");
        assert_eq!(scan(&frame), Event::Ack { seq: 77 });

        let joined = Joined {
            room: "lobby".into(),
            topic: String::new(),
            members: vec![],
            last_seq: 41,
            gap: None,
            last_rev: 0,
            updates_dropped: false,
        };
        let frame = serde_json::to_string(&ServerEvent::Joined(joined)).expect("encodes");
        assert_eq!(scan(&frame), Event::Joined { last_seq: 41 });

        let error = ErrorEvent::new(ErrorCode::RateLimited, "slow down");
        let frame = serde_json::to_string(&ServerEvent::Error(error)).expect("encodes");
        assert_eq!(scan(&frame), Event::Error { code: "rate_limited".into() });

        assert_eq!(scan(r#"{"type":"member_joined","room":"lobby","nick":"x"}"#), Event::Other);
        assert_eq!(scan("not json"), Event::Other);
    }

    #[test]
    fn unusual_layouts_fall_back_to_serde() {
        let frame = r#"{ "seq": 3, "type": "message", "text": "t:10 s:2 n:1 xx" }"#;
        assert_eq!(scan(frame), Event::Message { seq: 3, stamp: Some(Stamp { sent_ns: 10, sender: 2 }) });
    }

    #[test]
    fn requests_are_protocol_messages() {
        let stamp = Stamp { sent_ns: 1, sender: 0 };
        for frame in [hello("b00001"), join("lobby"), create_room("idle3"), send("lobby", stamp, 1)] {
            parlor_protocol::decode(&frame).expect("the server would accept this request");
        }
        let relayed = reference_message("lobby", stamp, 4, "b00001");
        assert_eq!(message_in_server_layout(&relayed), Some(Event::Message { seq: 4, stamp: Some(stamp) }));
    }
}
