//! Fuzzing the protocol decoder and the naming rules with proptest.
//!
//! What this proves, for every input generated:
//! - [`decode`] never panics, on arbitrary Unicode text, on JSON-shaped text built by a grammar (known and unknown
//!   `type`s, fields of every JSON type, deep nesting, escapes such as lone surrogates, huge numbers, stray
//!   whitespace, truncation and garbage) and on mutations of the seed corpus in `tests/corpus/decode/`.
//! - Every refusal carries one of the three decoding codes, and the code is the one `docs/PROTOCOL.md` §3 promises:
//!   `bad_json` exactly when the text is not JSON, `unknown_type` for JSON that is not an object or whose `type` is
//!   missing, not a string or unknown, and `bad_message` (or success) for a known `type`.
//! - What decodes is what the text said: re-encoding a decoded message and decoding it again gives it back, and
//!   each field it holds equals the same field of the text.
//! - Every valid [`ClientMessage`] survives `serde_json` encoding and decoding unchanged, with its `type` anywhere
//!   in the object, optional fields given as `null`, and unknown fields added.
//! - The name validators never panic, refuse every name or text holding a control or bidirectional-override
//!   character, and accept the names the rules allow.
//!
//! Cases per property: `PARLOR_FUZZ_CASES` (default [`DEFAULT_CASES`], a short run for CI). Long campaigns: see
//! `docs/FUZZING.md`. Failures proptest finds are kept in `tests/proptest-regressions/fuzz_decode.txt` and replayed
//! first on every run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use parlor_protocol::client::CLIENT_TYPES;
use parlor_protocol::names::{self, fold, Conversation};
use parlor_protocol::{decode, Auth, ClientMessage, DecodeError, ErrorCode, PollSpec, Secret};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Cases per property when `PARLOR_FUZZ_CASES` is not set: enough to catch regressions in a CI run of seconds.
const DEFAULT_CASES: u32 = 2_000;

/// How many properties this file runs, for counting a campaign's inputs (cases × properties).
pub const PROPERTIES: u32 = 6;

fn cases() -> u32 {
    match std::env::var("PARLOR_FUZZ_CASES") {
        Ok(value) => value.trim().parse().expect("PARLOR_FUZZ_CASES must be a whole number of cases"),
        Err(_) => DEFAULT_CASES,
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/fuzz_decode.txt",
        ))),
        ..ProptestConfig::with_cases(cases())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The contract every input must meet.
// ---------------------------------------------------------------------------------------------------------------

/// The top-level keys of a JSON object in order, duplicates kept (`serde_json::Value` keeps only the last).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

/// Whether serde_json refused text that JSON's grammar allows, for a limit of its own: numbers beyond `f64`, lone
/// surrogate escapes (RFC 8259 §8.2 leaves them to the reader), nesting deeper than 128. serde_json enforces these
/// while building a value but not while skipping one, so `decode` may call such text `unknown_type` (`1e999`,
/// `["\ud800"]`) or `bad_json` (the same inside an object); either is a fair answer.
fn beyond_limits(error: &serde_json::Error) -> bool {
    let message = error.to_string();
    ["number out of range", "lone leading surrogate", "unexpected end of hex escape", "recursion limit exceeded"]
        .iter()
        .any(|limit| message.starts_with(limit))
}

/// Whether the input's `given` value says what the decoded message's `decoded` value says. Inside nested objects
/// (a poll) the input may carry unknown members, and may leave out a member whose default (`false`) was taken.
fn holds(given: Option<&Value>, decoded: &Value) -> bool {
    match (given, decoded) {
        (Some(Value::Object(given)), Value::Object(decoded)) => decoded.iter().all(|(key, value)| {
            holds(given.get(key), value) || (!given.contains_key(key) && *value == Value::Bool(false))
        }),
        (given, decoded) => given == Some(decoded),
    }
}

/// Decodes `text` (which must not panic) and checks the result against the contract, judged independently through
/// `serde_json::Value`.
fn check_contract(text: &str) -> Result<Result<ClientMessage, DecodeError>, TestCaseError> {
    let result = decode(text);
    let json = serde_json::from_str::<Value>(text);
    match &result {
        Ok(message) => {
            let encoded = serde_json::to_string(message).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = decode(&encoded);
            prop_assert_eq!(again.as_ref(), Ok(message), "re-encoded as {}", encoded);
            let Ok(Value::Object(object)) = &json else {
                return Err(TestCaseError::fail(format!("decoded text that is not a JSON object: {message:?}")));
            };
            prop_assert_eq!(object.get("type").and_then(Value::as_str), Some(message.kind()));
            let Value::Object(fields) =
                serde_json::to_value(message).map_err(|e| TestCaseError::fail(e.to_string()))?
            else {
                return Err(TestCaseError::fail("a message encodes as an object"));
            };
            for (key, value) in &fields {
                prop_assert!(
                    holds(object.get(key), value),
                    "field {:?} changed in decoding: {:?}",
                    key,
                    object.get(key)
                );
            }
        }
        Err(err) => {
            let codes = [ErrorCode::BadJson, ErrorCode::UnknownType, ErrorCode::BadMessage, ErrorCode::TooDeep];
            prop_assert!(codes.contains(&err.code), "decode answered {:?}", err);
            prop_assert!(!err.detail.is_empty(), "an error without a sentence");
        }
    }
    let code = result.as_ref().err().map(|e| e.code);
    // Nesting is checked before any parsing, so too_deep answers deep text whether it is JSON or not.
    let too_deep = parlor_protocol::depth::nests_deeper_than(text, parlor_protocol::DEFAULT_MAX_JSON_DEPTH);
    prop_assert_eq!(code == Some(ErrorCode::TooDeep), too_deep, "too_deep iff nested deeper than the limit");
    if too_deep {
        return Ok(result);
    }
    match json {
        Err(json_error) => {
            prop_assert!(result.is_err(), "decoded text that is not JSON");
            if !beyond_limits(&json_error) {
                prop_assert_eq!(code, Some(ErrorCode::BadJson), "text that is not JSON answered {:?}", result);
            }
        }
        Ok(Value::Object(object)) => {
            prop_assert_ne!(code, Some(ErrorCode::BadJson), "valid JSON answered bad_json");
            let keys = serde_json::from_str::<Keys>(text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let type_keys = keys.0.iter().filter(|key| *key == "type").count();
            match object.get("type").and_then(Value::as_str) {
                // Two `type`s are ambiguous: any refusal other than bad_json will do.
                _ if type_keys > 1 => prop_assert!(result.is_err(), "two types decoded as {:?}", result),
                Some(kind) if CLIENT_TYPES.contains(&kind) => {
                    prop_assert!(result.is_ok() || code == Some(ErrorCode::BadMessage), "{:?}", result);
                }
                _ => prop_assert_eq!(code, Some(ErrorCode::UnknownType)),
            }
        }
        Ok(_) => prop_assert_eq!(code, Some(ErrorCode::UnknownType)),
    }
    Ok(result)
}

/// Checks the naming rules on any string: no panic, and nothing holding a control or bidi-override character passes.
fn check_names(text: &str) -> Result<(), TestCaseError> {
    let bad = text.chars().any(|c| c.is_control() || is_bidi_override(c));
    let nick = names::validate_nick(text);
    let room = names::validate_room(text);
    let client_id = names::validate_client_id(text);
    let displayable = names::is_displayable_text(text);
    let conversation = Conversation::parse(text);
    let _ = fold(text);
    if bad {
        prop_assert!(nick.is_err() && room.is_err() && !client_id && conversation.is_err(), "accepted {:?}", text);
    }
    if text.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || is_bidi_override(c)) {
        prop_assert!(!displayable, "displayable: {:?}", text);
    }
    if let Ok(conversation) = conversation {
        let again = Conversation::parse(&conversation.display());
        prop_assert_eq!(again, Ok(conversation), "the server's form of {:?} is not a valid name", text);
    }
    Ok(())
}

fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies: characters and text.
// ---------------------------------------------------------------------------------------------------------------

/// Characters that tend to break things: controls, bidi, zero-width, JSON punctuation, surrogate neighbours,
/// non-characters, combining marks and astral code points.
const NASTY_CHARS: &[char] = &[
    '\0',
    '\u{1}',
    '\u{7}',
    '\u{8}',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    '\u{85}',
    '\u{9f}',
    '\n',
    '\r',
    '\t',
    ' ',
    '\u{a0}',
    '\u{2028}',
    '\u{2029}',
    '\u{202A}',
    '\u{202B}',
    '\u{202C}',
    '\u{202D}',
    '\u{202E}',
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{200B}',
    '\u{200E}',
    '\u{200F}',
    '\u{61C}',
    '\u{2060}',
    '\u{FEFF}',
    '\u{FFFD}',
    '\u{FFFE}',
    '\u{FFFF}',
    '\u{D7FF}',
    '\u{E000}',
    '\u{10FFFF}',
    '\u{301}',
    '"',
    '\\',
    '/',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '@',
    '.',
    '-',
    '_',
    'é',
    'ß',
    'İ',
    'ﬁ',
    '李',
    '😀',
    '\u{1F1EB}',
];

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        4 => (0x20u8..0x7f).prop_map(char::from),
        3 => prop::sample::select(NASTY_CHARS),
    ]
}

/// Arbitrary text biased towards the characters above.
fn nasty_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Arbitrary bytes made text the way a lenient reader would (invalid UTF-8 becomes U+FFFD).
fn lossy_bytes() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies: a JSON grammar that also produces almost-JSON.
// ---------------------------------------------------------------------------------------------------------------
//
// Every piece comes in a clean flavour (always valid JSON, so frames reach the typed parse and often decode) and a
// dirty one (raw controls, broken escapes, malformed numbers, separators JSON does not allow).

/// Escape sequences that are valid JSON and that serde_json accepts.
const GOOD_ESCAPES: &[&str] = &[
    "\\u0000",
    "\\u001f",
    "\\u007f",
    "\\ud83d\\ude00",
    "\\u202e",
    "\\u2066",
    "\\u200b",
    "\\ufeff",
    "\\uFFFF",
    "\\u00e9",
    "\\/",
    "\\b\\f\\n\\r\\t",
    "\\\"",
    "\\\\",
];

/// Escape sequences that break a string: lone or reversed surrogates, bad hex, unknown escapes.
const BAD_ESCAPES: &[&str] = &[
    "\\ud800",
    "\\udbff",
    "\\udc00",
    "\\udfff",
    "\\ud800\\u0041",
    "\\udc00\\ud800",
    "\\ud800\\ud800",
    "\\uZZZZ",
    "\\u12",
    "\\x41",
    "\\'",
    "\\",
    "\\U0001F600",
    "\\0",
];

/// A character as it appears escaped inside a JSON string.
fn escaped(c: char) -> String {
    let quoted = serde_json::to_string(&c.to_string()).expect("a string always encodes");
    quoted[1..quoted.len() - 1].to_owned()
}

/// The inside of a JSON string literal.
fn string_body(dirty: bool) -> BoxedStrategy<String> {
    let piece = if dirty {
        prop_oneof![
            4 => nasty_char().prop_map(escaped),
            3 => nasty_char().prop_map(String::from),
            2 => prop::sample::select(BAD_ESCAPES).prop_map(str::to_owned),
            1 => any::<u16>().prop_map(|unit| format!("\\u{unit:04x}")),
        ]
        .boxed()
    } else {
        prop_oneof![
            8 => nasty_char().prop_map(escaped),
            1 => prop::sample::select(GOOD_ESCAPES).prop_map(str::to_owned),
        ]
        .boxed()
    };
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat()).boxed()
}

fn string_literal(dirty: bool) -> BoxedStrategy<String> {
    string_body(dirty).prop_map(|body| format!("\"{body}\"")).boxed()
}

/// Numbers JSON allows that are out of range for some or all of the protocol's fields.
const ODD_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1.0",
    "1e3",
    "1E+2",
    "-0.0e-0",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1e999",
    "-1e999",
    "1e-999",
    "123456789012345678901234567890123456789012345678901234567890",
    "1.7976931348623157e309",
];

/// Not numbers at all, though they look like them.
const BAD_NUMBERS: &[&str] = &["01", "1.", ".5", "+1", "1e", "--1", "0x10", "NaN", "Infinity", "-", "1_000"];

fn number_literal(dirty: bool) -> BoxedStrategy<String> {
    let clean = prop_oneof![
        4 => (0u32..1000).prop_map(|n| n.to_string()),
        2 => any::<u32>().prop_map(|n| n.to_string()),
        2 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (any::<i32>(), 0u32..1000).prop_map(|(whole, frac)| format!("{whole}.{frac}")),
        1 => (any::<i16>(), any::<i16>()).prop_map(|(m, e)| format!("{m}e{e}")),
        2 => prop::sample::select(ODD_NUMBERS).prop_map(str::to_owned),
    ];
    if dirty {
        prop_oneof![2 => clean, 1 => prop::sample::select(BAD_NUMBERS).prop_map(str::to_owned)].boxed()
    } else {
        clean.boxed()
    }
}

/// Deeply nested arrays or objects around a value, around serde_json's depth limit of 128; unbalanced when dirty.
fn deep_nesting(dirty: bool) -> BoxedStrategy<String> {
    (1usize..200, any::<bool>(), any::<bool>())
        .prop_map(move |(depth, arrays, balanced)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            let closing = if balanced || !dirty { depth } else { depth / 2 };
            format!("{}0{}", open.repeat(depth), close.repeat(closing))
        })
        .boxed()
}

/// Field names for fields that no message type has, and some it has.
const EXTRA_FIELD_NAMES: &[&str] = &[
    "future_field",
    "x",
    "",
    "Type",
    "TYPE",
    "room ",
    "ty\\u0070e",
    "\\u0000",
    "\\u202e",
    "__proto__",
    "type",
    "room",
    "after",
    "nonce",
    "text",
];

fn field_name(dirty: bool) -> BoxedStrategy<String> {
    let clean = prop_oneof![
        4 => prop::sample::select(EXTRA_FIELD_NAMES).prop_map(|name| format!("\"{name}\"")),
        1 => string_literal(false),
    ];
    if dirty {
        prop_oneof![
            4 => clean,
            1 => string_literal(true),
            1 => prop::sample::select(&["type", "'type'", "\"type", "type\""][..]).prop_map(str::to_owned),
        ]
        .boxed()
    } else {
        clean.boxed()
    }
}

/// Any JSON value; when dirty, with almost-JSON among the leaves.
fn json_value(dirty: bool) -> BoxedStrategy<String> {
    let words: &'static [&'static str] =
        if dirty { &["null", "true", "false", "nul", "True", "undefined", ""] } else { &["null", "true", "false"] };
    let leaf = prop_oneof![
        2 => prop::sample::select(words).prop_map(str::to_owned),
        3 => number_literal(dirty),
        4 => string_literal(dirty),
        1 => deep_nesting(dirty),
    ];
    leaf.prop_recursive(4, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((field_name(dirty), inner), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
    .boxed()
}

/// The `type` field's value: mostly a known type, sometimes unknown or not a string.
fn type_value(dirty: bool) -> BoxedStrategy<String> {
    let odd = &["HELLO", "hello ", "", "pïng", "list-rooms", "ping\\u0000", "p\\u0069ng", "l\\u0065ave", "Ping"][..];
    prop_oneof![
        16 => prop::sample::select(CLIENT_TYPES).prop_map(|t| format!("\"{t}\"")),
        1 => prop::sample::select(odd).prop_map(|t| format!("\"{t}\"")),
        1 => string_literal(dirty),
        1 => json_value(dirty),
    ]
    .boxed()
}

/// The fields each message type has, in order, besides `type`.
fn fields_of_type(kind: &str) -> &'static [&'static str] {
    match kind {
        "\"hello\"" => &["protocol", "nick", "client", "password"],
        "\"join\"" => &["room", "after"],
        "\"leave\"" | "\"who\"" => &["room"],
        "\"create_room\"" | "\"set_topic\"" => &["room", "topic"],
        "\"send\"" => &["room", "text", "client_id"],
        "\"typing\"" => &["room", "typing"],
        "\"history\"" => &["room", "before", "after", "limit"],
        "\"ping\"" => &["nonce"],
        "\"register\"" => &["password"],
        "\"moderate\"" => &["token"],
        "\"lock_room\"" | "\"slow_mode\"" => &["room", "seconds"],
        "\"unlock_room\"" | "\"clear_hands\"" => &["room"],
        "\"raise_hand\"" => &["room", "raised"],
        "\"call_on\"" => &["room", "nick"],
        "\"vote\"" => &["room", "seq", "choices"],
        "\"close_poll\"" | "\"delete\"" => &["room", "seq"],
        "\"react\"" => &["room", "seq", "emoji", "on"],
        "\"edit\"" => &["room", "seq", "text"],
        "\"publish\"" => &["room", "points"],
        "\"mute\"" | "\"unmute\"" | "\"remove\"" | "\"readmit\"" => &["room", "nick"],
        "\"pin\"" | "\"acknowledge\"" => &["room", "seq"],
        "\"unpin\"" | "\"set_room_password\"" => &["room"],
        "\"search\"" => &["room", "query"],
        _ => &[],
    }
}

/// One possible field of a frame: whether it is there, and its value if not of the field's own kind.
#[derive(Debug, Clone)]
struct Slot {
    present: bool,
    string: String,
    number: String,
    flag: bool,
    /// `null` or any value at all, instead of one of the field's kind.
    other: Option<String>,
}

fn slot(dirty: bool) -> impl Strategy<Value = Slot> {
    let other = prop_oneof![
        18 => Just(None),
        1 => Just(Some("null".to_owned())),
        1 => json_value(dirty).prop_map(Some),
    ];
    (prop::bool::weighted(0.93), string_literal(dirty), number_literal(dirty), any::<bool>(), other)
        .prop_map(|(present, string, number, flag, other)| Slot { present, string, number, flag, other })
}

/// The value for a field: of the field's own kind most of the time, `null` or anything at all otherwise.
fn slot_value(name: &str, slot: Slot) -> String {
    match (slot.other, name) {
        (Some(other), _) => other,
        (None, "protocol" | "after" | "before" | "limit" | "seconds" | "seq") => slot.number,
        (None, "choices") => format!("[{}]", slot.number),
        (None, "points") => format!("{{{}:{}}}", slot.string, slot.number),
        (None, "typing" | "raised" | "on") => slot.flag.to_string(),
        (None, _) => slot.string,
    }
}

/// Separators between tokens: JSON whitespace, and when dirty some that JSON does not allow.
fn separator(dirty: bool) -> BoxedStrategy<&'static str> {
    let clean: &'static [&'static str] = &["", "", "", "", " ", "\n", "\t", "\r\n", " \n\t "];
    if dirty {
        let invalid: &'static [&'static str] = &["\u{a0}", "\u{feff}", "\u{2028}", "\0", "\u{b}"];
        prop_oneof![3 => prop::sample::select(clean), 1 => prop::sample::select(invalid)].boxed()
    } else {
        prop::sample::select(clean).boxed()
    }
}

/// A whole frame: an object with a `type` (usually), the fields that type has (usually all, usually well typed) and
/// maybe unknown ones, in any order. Dirty frames also get broken pieces and byte-level mutations.
fn frame(dirty: bool) -> BoxedStrategy<String> {
    (
        prop::option::weighted(0.95, type_value(dirty)),
        prop::collection::vec(slot(dirty), 4),
        prop::collection::vec((field_name(dirty), json_value(dirty)), 0..3),
        any::<Index>(),
        prop::option::weighted(0.02, type_value(dirty)),
        separator(dirty),
        prop::collection::vec(mutation(), if dirty { 0..3 } else { 0..1 }),
        prop::option::weighted(0.05, json_value(dirty)),
    )
        .prop_map(|(kind, slots, extra, position, second_kind, sep, mutations, replacement)| {
            let names = kind.as_deref().map(fields_of_type).unwrap_or(&[]);
            let mut entries: Vec<String> = names
                .iter()
                .zip(slots)
                .filter(|(_, slot)| slot.present)
                .map(|(name, slot)| format!("\"{name}\"{sep}:{sep}{}", slot_value(name, slot)))
                .chain(extra.into_iter().map(|(name, value)| format!("{name}{sep}:{sep}{value}")))
                .collect();
            if let Some(kind) = kind {
                let at = position.index(entries.len() + 1);
                entries.insert(at, format!("\"type\"{sep}:{sep}{kind}"));
            }
            if let Some(kind) = second_kind {
                entries.push(format!("\"type\":{kind}"));
            }
            let frame = match replacement {
                Some(value) => value,
                None => format!("{sep}{{{sep}{}{sep}}}{sep}", entries.join(&format!("{sep},{sep}"))),
            };
            apply_mutations(frame.into_bytes(), &mutations, &[])
        })
        .boxed()
}

/// Frames from the grammar: two in three clean.
fn grammar_frame() -> impl Strategy<Value = String> {
    prop_oneof![2 => frame(false), 1 => frame(true)]
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies: mutations, for grammar output and corpus entries.
// ---------------------------------------------------------------------------------------------------------------

/// JSON tokens and near-tokens to insert.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "null",
    "\"type\"",
    "\"type\":\"ping\"",
    "\"room\":",
    "\\ud800",
    "1e999",
    "\u{202e}",
    "\0",
    "\u{feff}",
    "}}}}",
    "[[[[",
    ",,",
    " ",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    InsertByte(Index, u8),
    InsertToken(Index, &'static str),
    Delete(Index, usize),
    Duplicate(Index, usize),
    Truncate(Index),
    /// Replaces from a point to the end with the tail of another corpus entry.
    Splice(Index, Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<(Index, u8)>().prop_map(|(at, bit)| Mutation::FlipBit(at, bit % 8)),
        any::<(Index, u8)>().prop_map(|(at, byte)| Mutation::SetByte(at, byte)),
        any::<(Index, u8)>().prop_map(|(at, byte)| Mutation::InsertByte(at, byte)),
        (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::InsertToken(at, token)),
        (any::<Index>(), 1usize..16).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<Index>(), 1usize..32).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
        any::<Index>().prop_map(Mutation::Truncate),
        any::<(Index, Index, Index)>().prop_map(|(at, other, from)| Mutation::Splice(at, other, from)),
    ]
}

/// Applies mutations to bytes, then reads them as text leniently (a WebSocket text frame is always UTF-8).
fn apply_mutations(mut bytes: Vec<u8>, mutations: &[Mutation], corpus: &[Vec<u8>]) -> String {
    for mutation in mutations {
        let len = bytes.len();
        let at = |index: &Index| if len == 0 { 0 } else { index.index(len) };
        match mutation {
            Mutation::FlipBit(i, bit) if len > 0 => bytes[at(i)] ^= 1 << bit,
            Mutation::SetByte(i, byte) if len > 0 => bytes[at(i)] = *byte,
            Mutation::InsertByte(i, byte) => bytes.insert(at(i), *byte),
            Mutation::InsertToken(i, token) => {
                let at = at(i);
                bytes.splice(at..at, token.bytes());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let at = at(i);
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Duplicate(i, n) if len > 0 => {
                let at = at(i);
                let copy = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, copy);
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
            Mutation::Splice(i, other, from) if !corpus.is_empty() => {
                let other = other.get(corpus);
                let from = if other.is_empty() { 0 } else { from.index(other.len()) };
                bytes.truncate(at(i));
                bytes.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus").join("decode")
}

/// Every corpus entry, by file name, read once.
fn corpus() -> &'static BTreeMap<String, Vec<u8>> {
    static CORPUS: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = corpus_dir();
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()));
        entries
            .map(|entry| {
                let path = entry.expect("a corpus directory entry").path();
                let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
                (path.file_name().expect("a file name").to_string_lossy().into_owned(), bytes)
            })
            .collect()
    })
}

fn corpus_mutant() -> impl Strategy<Value = String> {
    let entries: Vec<Vec<u8>> = corpus().values().cloned().collect();
    (any::<Index>(), prop::collection::vec(mutation(), 1..6))
        .prop_map(move |(pick, mutations)| apply_mutations(pick.get(&entries).clone(), &mutations, &entries))
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies: valid client messages.
// ---------------------------------------------------------------------------------------------------------------

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(nasty_text(24))
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    let text = || nasty_text(24);
    prop_oneof![
        (any::<u32>(), text(), opt_text(), opt_text(), opt_text(), opt_text(), opt_text()).prop_map(
            |(protocol, nick, client, password, account, token, device)| {
                let secret = |s: Option<String>| s.map(Secret::new);
                let auth = (account.is_some() || token.is_some() || device.is_some()).then(|| Auth {
                    password: secret(account),
                    token: secret(token),
                    device: secret(device),
                });
                ClientMessage::Hello { protocol, nick, client, password: secret(password), auth }
            }
        ),
        text().prop_map(|password| ClientMessage::Register { password: Secret::new(password) }),
        Just(ClientMessage::LogoutEverywhere),
        text().prop_map(|token| ClientMessage::Moderate { token: Secret::new(token) }),
        (text(), any::<Option<u32>>()).prop_map(|(room, seconds)| ClientMessage::LockRoom { room, seconds }),
        text().prop_map(|room| ClientMessage::UnlockRoom { room }),
        (text(), any::<u32>()).prop_map(|(room, seconds)| ClientMessage::SlowMode { room, seconds }),
        (text(), any::<bool>()).prop_map(|(room, raised)| ClientMessage::RaiseHand { room, raised }),
        (text(), text()).prop_map(|(room, nick)| ClientMessage::CallOn { room, nick }),
        text().prop_map(|room| ClientMessage::ClearHands { room }),
        (text(), any::<Option<u64>>(), any::<Option<u64>>()).prop_map(|(room, after, after_rev)| ClientMessage::Join {
            room,
            after,
            after_rev,
            password: None
        }),
        text().prop_map(|room| ClientMessage::Leave { room }),
        (text(), opt_text()).prop_map(|(room, topic)| ClientMessage::CreateRoom { room, topic, password: None }),
        (text(), text()).prop_map(|(room, topic)| ClientMessage::SetTopic { room, topic }),
        Just(ClientMessage::ListRooms),
        text().prop_map(|room| ClientMessage::Who { room }),
        (
            text(),
            nasty_text(200),
            text(),
            any::<Option<u64>>(),
            proptest::option::of((vec(text(), 0..12), any::<bool>()))
        )
            .prop_map(|(room, text, client_id, reply_to, poll)| {
                let announce = text.len() % 2 == 0;
                let poll = poll.map(|(options, multiple)| PollSpec { options, multiple });
                ClientMessage::Send { room, text, client_id, poll, reply_to, announce }
            }),
        (text(), any::<u64>(), vec(any::<u32>(), 0..4)).prop_map(|(room, seq, choices)| ClientMessage::Vote {
            room,
            seq,
            choices
        }),
        (text(), any::<u64>()).prop_map(|(room, seq)| ClientMessage::ClosePoll { room, seq }),
        (text(), any::<u64>(), nasty_text(12), any::<bool>()).prop_map(|(room, seq, emoji, on)| ClientMessage::React {
            room,
            seq,
            emoji,
            on
        }),
        (text(), any::<u64>(), nasty_text(200)).prop_map(|(room, seq, text)| ClientMessage::Edit { room, seq, text }),
        (text(), any::<u64>()).prop_map(|(room, seq)| ClientMessage::Delete { room, seq }),
        (text(), text()).prop_map(|(room, nick)| ClientMessage::Mute { room, nick }),
        (text(), text()).prop_map(|(room, nick)| ClientMessage::Unmute { room, nick }),
        (text(), text()).prop_map(|(room, nick)| ClientMessage::Remove { room, nick }),
        (text(), text()).prop_map(|(room, nick)| ClientMessage::Readmit { room, nick }),
        (text(), any::<u64>()).prop_map(|(room, seq)| ClientMessage::Pin { room, seq }),
        text().prop_map(|room| ClientMessage::Unpin { room }),
        (text(), opt_text())
            .prop_map(|(room, password)| ClientMessage::SetRoomPassword { room, password: password.map(Secret::new) }),
        (text(), any::<u64>()).prop_map(|(room, seq)| ClientMessage::Acknowledge { room, seq }),
        (text(), nasty_text(40), any::<Option<u64>>(), any::<Option<u32>>())
            .prop_map(|(room, query, before, limit)| ClientMessage::Search { room, query, before, limit }),
        (text(), prop::collection::btree_map(text(), any::<i64>(), 0..4)).prop_map(|(room, points)| {
            ClientMessage::Publish { room, points: points.into_iter().map(|(k, v)| (k, v.into())).collect() }
        }),
        (text(), any::<bool>()).prop_map(|(room, typing)| ClientMessage::Typing { room, typing }),
        (text(), any::<Option<u64>>(), any::<Option<u64>>(), any::<Option<u32>>())
            .prop_map(|(room, before, after, limit)| ClientMessage::History { room, before, after, limit }),
        opt_text().prop_map(|nonce| ClientMessage::Ping { nonce }),
    ]
}

/// The optional fields of each message type, which may be sent as `null`.
const OPTIONAL_FIELDS: &[&str] =
    &["client", "password", "after", "after_rev", "before", "limit", "topic", "nonce", "poll", "reply_to"];

/// Encodes a message as a client might: `type` first or last, pretty or compact, optional fields as `null`, unknown
/// fields beside the known ones.
fn encode_variant(
    message: &ClientMessage,
    type_first: bool,
    pretty: bool,
    nulls: bool,
    extra: &[(String, Value)],
) -> String {
    let Ok(Value::Object(mut object)) = serde_json::to_value(message) else { panic!("a message encodes as an object") };
    let kind = object.remove("type").expect("a type tag");
    if nulls {
        let known = fields_of(message);
        // `register`'s password is required, unlike `hello`'s.
        let optional = OPTIONAL_FIELDS.iter().filter(|_| !matches!(message, ClientMessage::Register { .. }));
        for field in optional.filter(|f| known.contains(f)) {
            object.entry((*field).to_owned()).or_insert(Value::Null);
        }
    }
    for (key, value) in extra {
        object.insert(format!("x-{key}"), value.clone());
    }
    let mut entries: Vec<(String, Value)> = object.into_iter().collect();
    let at = if type_first { 0 } else { entries.len() };
    entries.insert(at, ("type".to_owned(), kind));
    let render = |v: &Value| if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) };
    let fields: Vec<String> = entries
        .iter()
        .map(|(key, value)| {
            let key = serde_json::to_string(key).expect("a key encodes");
            format!("{key}:{}", render(value).expect("a value encodes"))
        })
        .collect();
    if pretty {
        format!("{{\n  {}\n}}\n", fields.join(",\n  "))
    } else {
        format!("{{{}}}", fields.join(","))
    }
}

/// The field names a message type has, besides `type`.
fn fields_of(message: &ClientMessage) -> &'static [&'static str] {
    match message {
        ClientMessage::Hello { .. } => &["protocol", "nick", "client", "password", "auth"],
        ClientMessage::Join { .. } => &["room", "after", "after_rev", "password"],
        ClientMessage::Leave { .. } | ClientMessage::Who { .. } => &["room"],
        ClientMessage::CreateRoom { .. } => &["room", "topic", "password"],
        ClientMessage::SetTopic { .. } => &["room", "topic"],
        ClientMessage::ListRooms => &[],
        ClientMessage::Send { .. } => &["room", "text", "client_id", "poll", "reply_to", "announce"],
        ClientMessage::Vote { .. } => &["room", "seq", "choices"],
        ClientMessage::ClosePoll { .. } | ClientMessage::Delete { .. } => &["room", "seq"],
        ClientMessage::React { .. } => &["room", "seq", "emoji", "on"],
        ClientMessage::Edit { .. } => &["room", "seq", "text"],
        ClientMessage::Publish { .. } => &["room", "points"],
        ClientMessage::Mute { .. }
        | ClientMessage::Unmute { .. }
        | ClientMessage::Remove { .. }
        | ClientMessage::Readmit { .. } => &["room", "nick"],
        ClientMessage::Pin { .. } | ClientMessage::Acknowledge { .. } => &["room", "seq"],
        ClientMessage::Unpin { .. } => &["room"],
        ClientMessage::SetRoomPassword { .. } => &["room", "password"],
        ClientMessage::Search { .. } => &["room", "query", "before", "limit"],
        ClientMessage::Typing { .. } => &["room", "typing"],
        ClientMessage::History { .. } => &["room", "before", "after", "limit"],
        ClientMessage::Register { .. } => &["password"],
        ClientMessage::LogoutEverywhere => &[],
        ClientMessage::Moderate { .. } => &["token"],
        ClientMessage::LockRoom { .. } | ClientMessage::SlowMode { .. } => &["room", "seconds"],
        ClientMessage::UnlockRoom { .. } | ClientMessage::ClearHands { .. } => &["room"],
        ClientMessage::RaiseHand { .. } => &["room", "raised"],
        ClientMessage::CallOn { .. } => &["room", "nick"],
        ClientMessage::Ping { .. } => &["nonce"],
    }
}

/// Small JSON values for unknown fields.
fn extra_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        nasty_text(8).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(nasty_text(6), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies: names.
// ---------------------------------------------------------------------------------------------------------------

/// Characters the naming rules refuse everywhere: C0 and C1 controls and the bidi embeddings, overrides and isolates.
fn forbidden_char() -> impl Strategy<Value = char> {
    prop_oneof![
        (0u8..0x20).prop_map(char::from),
        (0x7fu8..=0x9f).prop_map(char::from),
        prop::sample::select(
            &[
                '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
                '\u{2069}'
            ][..]
        ),
    ]
}

/// Letters and digits of a few scripts plus the separators, for names that should pass.
const NAME_CHARS: &[char] =
    &['a', 'z', 'A', 'Z', '0', '9', 'é', 'Ö', 'ß', 'ı', 'İ', 'Σ', 'ж', '李', '雷', 'ع', 'א', '١', 'ⅷ', 'ǅ'];

fn valid_name(extra: &'static [char]) -> impl Strategy<Value = String> {
    // Letters whose lowercase is several characters (`İ`) are refused: they would fold into an invalid name.
    let allowed: Vec<char> =
        NAME_CHARS.iter().chain(extra).copied().filter(|c| c.to_lowercase().count() == 1).collect();
    prop::collection::vec(prop::sample::select(allowed), 1..=32).prop_map(|chars| chars.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Any text at all, and any bytes read leniently: decode meets the contract and the naming rules hold.
    #[test]
    fn arbitrary_text_meets_the_contract(text in prop_oneof![nasty_text(48), lossy_bytes(), any::<String>()]) {
        let _decoded = check_contract(&text)?;
        check_names(&text)?;
    }

    /// JSON-shaped frames from the grammar, mangled or not, are classified as the protocol says.
    #[test]
    fn grammar_frames_meet_the_contract(text in grammar_frame()) {
        let _decoded = check_contract(&text)?;
    }

    /// Mutations of the seed corpus (bit flips, byte edits, token insertions, truncation, splices between entries).
    #[test]
    fn corpus_mutants_meet_the_contract(text in corpus_mutant()) {
        let _decoded = check_contract(&text)?;
    }

    /// Every valid message survives encoding and decoding, however a client lays the object out.
    #[test]
    fn valid_messages_round_trip(
        message in client_message(),
        type_first in any::<bool>(),
        pretty in any::<bool>(),
        nulls in any::<bool>(),
        extra in prop::collection::vec((nasty_text(6), extra_value()), 0..3),
    ) {
        let compact = serde_json::to_string(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode(&compact), Ok(message.clone()), "{}", compact);
        let variant = encode_variant(&message, type_first, pretty, nulls, &extra);
        prop_assert_eq!(check_contract(&variant)?, Ok(message), "{}", variant);
    }

    /// Names and text holding a control or bidi-override character are refused by every validator.
    #[test]
    fn names_refuse_controls_and_bidi(
        before in prop_oneof![valid_name(&['_', '-', '.']), nasty_text(8)],
        bad in forbidden_char(),
        after in prop_oneof![valid_name(&['_', '-']), nasty_text(8)],
    ) {
        let text = format!("{before}{bad}{after}");
        check_names(&text)?;
        prop_assert!(names::validate_nick(&text).is_err());
        prop_assert!(names::validate_room(&text).is_err());
        let direct = format!("@{text}");
        prop_assert!(Conversation::parse(&direct).is_err());
        prop_assert!(!names::validate_client_id(&text));
        if !matches!(bad, '\n' | '\t' | '\r') {
            prop_assert!(!names::is_displayable_text(&text), "{:?}", text);
        }
    }

    /// Names made only of allowed characters pass, and a conversation parses to its folded form.
    #[test]
    fn allowed_names_pass(nick in valid_name(&['_', '-', '.']), room in valid_name(&['_', '-'])) {
        prop_assert_eq!(names::validate_nick(&nick), Ok(()));
        prop_assert_eq!(names::validate_room(&room), Ok(()));
        let direct = format!("@{nick}");
        prop_assert_eq!(Conversation::parse(&direct), Ok(Conversation::Direct(fold(&nick))));
        prop_assert_eq!(Conversation::parse(&room), Ok(Conversation::Room(fold(&room))));
        check_names(&nick)?;
        check_names(&room)?;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The corpus, replayed exactly.
// ---------------------------------------------------------------------------------------------------------------

/// Every corpus entry meets the contract; the corpus covers every message type with a valid example.
#[test]
fn corpus_entries_meet_the_contract() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "the seed corpus has {} entries", corpus.len());
    let mut decoded_types = std::collections::BTreeSet::new();
    for (name, bytes) in corpus {
        let text = String::from_utf8_lossy(bytes);
        match check_contract(&text) {
            Ok(Ok(message)) => {
                decoded_types.insert(message.kind());
            }
            Ok(Err(_)) => assert!(!name.starts_with("valid-"), "{name} should decode: {:?}", decode(&text)),
            Err(failure) => panic!("{name}: {failure}"),
        }
        if name.starts_with("valid-") {
            assert!(decode(&text).is_ok(), "{name} should decode: {:?}", decode(&text));
        }
    }
    for kind in CLIENT_TYPES {
        assert!(decoded_types.contains(kind), "no valid corpus entry of type {kind}");
    }
}

/// Regression (found by this fuzzer, fixed): `decode` classified by the first error of its typed parse, so text that
/// stops being JSON after a wrongly typed field (`{"type":"leave","room":5} x`) was answered `unknown_type`. The
/// minimal inputs are the `tests/corpus/decode/regression-*` entries that are not JSON; each must be `bad_json`.
/// (Other regression entries, valid JSON, are checked against the contract by `corpus_entries_meet_the_contract`.)
#[test]
fn invalid_json_after_a_bad_field_is_bad_json() {
    let found: Vec<(String, &Vec<u8>)> = corpus()
        .iter()
        .filter(|(name, _)| name.starts_with("regression-"))
        .map(|(name, bytes)| (name.clone(), bytes))
        .filter(|(_, bytes)| serde_json::from_str::<Value>(&String::from_utf8_lossy(bytes)).is_err())
        .collect();
    assert!(found.len() >= 4, "the corpus keeps the inputs that showed the bug: {found:?}");
    let mut wrong = Vec::new();
    for (name, bytes) in found {
        let text = String::from_utf8_lossy(bytes);
        match decode(&text) {
            Err(DecodeError { code: ErrorCode::BadJson, .. }) => {}
            other => wrong.push(format!("{name}: {text:?} -> {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "text that is not JSON was not answered bad_json:\n{}", wrong.join("\n"));
}

/// The name the server shows for a room or a DM partner (the folded name) is itself a valid name, or a client could
/// not use what the server told it. Regression (found by this fuzzer, fixed): `İ` folded to `i` + U+0307, which is
/// not a letter; `tests/corpus/names/regression-*` keep those inputs beside the ordinary names.
#[test]
fn folded_names_are_valid_names() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus").join("names");
    let mut wrong = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display())) {
        let path = entry.expect("a corpus directory entry").path();
        let name = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        seen += 1;
        for field in [name.clone(), format!("@{name}")] {
            let Ok(conversation) = Conversation::parse(&field) else { continue };
            let shown = conversation.display();
            if let Err(err) = Conversation::parse(&shown) {
                wrong.push(format!(
                    "{field:?} is accepted, but the server shows it as {shown:?}, which is refused: {err}"
                ));
            }
        }
    }
    assert!(seen > 0, "the names corpus is empty");
    assert!(wrong.is_empty(), "folded names that are not valid names:\n{}", wrong.join("\n"));
}

/// The grammar is worth its cases: it reaches every outcome, and a valid message of every type, often.
#[test]
fn grammar_reaches_every_outcome() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = grammar_frame();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let samples = 4_000;
    for _ in 0..samples {
        let text = strategy.new_tree(&mut runner).expect("a frame").current();
        let outcome = match decode(&text) {
            Ok(message) => message.kind().to_owned(),
            Err(err) => err.code.as_str().to_owned(),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("grammar outcomes over {samples} frames: {outcomes:?}");
    for outcome in CLIENT_TYPES.iter().chain(&["bad_json", "unknown_type", "bad_message"]) {
        let seen = outcomes.get(*outcome).copied().unwrap_or(0);
        assert!(seen * 1_000 >= samples, "{outcome} in only {seen} of {samples} frames: {outcomes:?}");
    }
}
