//! `send`, read straight into its fields: the request a server decodes most, by far.
//!
//! An internally tagged enum makes serde buffer every frame into an intermediate tree before it knows the variant;
//! for `send` that was most of the decoding, and decoding a tenth of the server's instructions per stored message.
//! A struct with the same fields and a `type` field that must be `"send"` reads the same text in one pass. It
//! accepts exactly what the enum accepts for `send` (same fields and defaults; unknown fields ignored, a repeated
//! field refused), which the tests check against the enum; anything it refuses goes through the general path, so
//! errors are reported as before.

use serde::Deserialize;

use super::ClientMessage;
use crate::extras::PollSpec;

/// The `type` field, which must say `send`.
#[derive(Deserialize)]
enum SendTag {
    #[serde(rename = "send")]
    Send,
}

#[derive(Deserialize)]
struct SendFrame {
    #[serde(rename = "type")]
    _kind: SendTag,
    room: String,
    text: String,
    client_id: String,
    #[serde(default)]
    poll: Option<PollSpec>,
    #[serde(default)]
    reply_to: Option<u64>,
    #[serde(default)]
    announce: bool,
}

/// `text` as a `send`, if it is a well-formed one that names its type first (as every client we know writes it).
pub(super) fn decode(text: &str) -> Option<ClientMessage> {
    if !text.starts_with(r#"{"type":"send","#) {
        return None;
    }
    let SendFrame { _kind, room, text, client_id, poll, reply_to, announce } = serde_json::from_str(text).ok()?;
    Some(ClientMessage::Send { room, text, client_id, poll, reply_to, announce })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn general(text: &str) -> Option<ClientMessage> {
        serde_json::from_str(text).ok()
    }

    #[test]
    fn agrees_with_the_enum_on_awkward_frames() {
        let frames = [
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1"}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","extra":[1,{"a":2}]}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","type":"send"}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","room":"other"}"#,
            r#"{"type":"send","room":"lobby","text":"hi"}"#,
            r#"{"type":"send","room":"lobby","text":"q?","client_id":"c1","poll":{"options":["a","b"]},"reply_to":4}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","poll":null,"announce":true}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","reply_to":1.0}"#,
            r#"{"type":"send","room":"lobby","text":"hi","client_id":"c1","reply_to":-1}"#,
            r#"{"type":"send","room":"lobby","text":"\u00e9\"\\","client_id":"c1"} trailing"#,
            r#"{"type":"send","room":7,"text":"hi","client_id":"c1"}"#,
        ];
        for frame in frames {
            let fast = decode(frame);
            if fast.is_some() {
                assert_eq!(fast, general(frame), "{frame}");
            }
            assert_eq!(fast.is_some(), general(frame).is_some(), "{frame}");
        }
        assert!(decode(r#"{"type":"typing","room":"lobby","typing":true}"#).is_none(), "other types are not its");
    }

    proptest! {
        #[test]
        fn reads_every_send_as_the_enum_does(
            room in any::<String>(),
            text in any::<String>(),
            client_id in any::<String>(),
            reply_to in any::<Option<u64>>(),
            announce in any::<bool>(),
        ) {
            let message = ClientMessage::Send { room, text, client_id, poll: None, reply_to, announce };
            let frame = serde_json::to_string(&message).expect("encodes");
            prop_assert_eq!(decode(&frame), Some(message));
        }
    }
}
