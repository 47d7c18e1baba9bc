//! Fuzzing the connection handler state machine with proptest, in process.
//!
//! Each case opens one to three WebSocket connections to a running server over `tokio::io::duplex` (through
//! [`RunningServer::serve_stream`], so the full HTTP → upgrade → protocol stack runs, without sockets) and plays a
//! generated, interleaved sequence of client actions on them: every request type with valid and invalid arguments,
//! `hello` before, after or never, garbage text, binary frames, WebSocket pings and pongs, fragmented messages,
//! invalid UTF-8, malformed frames, frames over the soft and hard size limits, bursts, a reader that stalls, pauses,
//! close frames and abrupt drops. Some cases also send a raw, fuzzed HTTP request (and bytes after it).
//!
//! What it proves, after every case:
//! - The server did not panic, on any of its threads (a panic hook watches them), and still serves: a new
//!   connection gets `welcome` for `hello` and `pong` for `ping`, and `GET /health` answers 200.
//! - Every text frame the server sent is a valid [`ServerEvent`], it sent no binary frame and nothing after its
//!   close frame, and each connection's events are consistent with what that client did: at most one `welcome`,
//!   for a nickname it asked for and with the configured limits; before it, only `error` and `pong`; acks, refusals and pongs only for ids and nonces it sent; stored messages valid; lists
//!   sorted; every room name one the server would accept; no `storage_failed`/`unavailable`; close codes that the
//!   client's actions explain.
//! - Every connection still open at the end answers a ping: the server never stops serving one.
//!
//! The sessions in `tests/corpus/connection/` are replayed with every invariant enforced, and seed some cases; the
//! `regression-*` ones are the minimal inputs of bugs this fuzzer found (see `docs/FUZZING.md`).
//!
//! Two families of cases run, each on one server reused across its cases: limits raised (rate limits out of the
//! way, small queues, history and room limits and short timers, so the fuzzer reaches deep states) and the default
//! limits. Cases per family: `PARLOR_FUZZ_CASES` (default small, for CI); see `docs/FUZZING.md`.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use parlor_protocol::names::{self, Conversation};
use parlor_protocol::{Ack, ClientMessage, CloseCode, ErrorCode, Joined, PollSpec, ServerEvent};
use parlor_server::{Config, RunningServer, ServerLimits};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode as WsCloseCode, Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

// ---------------------------------------------------------------------------------------------------------------
// Families and configuration.
// ---------------------------------------------------------------------------------------------------------------

/// Which server the cases run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Rate limits out of the way, tight queues and limits, short timers.
    Raised,
    /// [`ServerLimits::default`], rate limiter included.
    Default,
}

impl Family {
    fn limits(self) -> ServerLimits {
        match self {
            Self::Raised => ServerLimits {
                rate_per_second: 1_000_000,
                rate_burst: 1_000_000,
                hard_frame_bytes: 64 * 1024,
                history_page_max: 50,
                resume_max: 20,
                history_limit: 200,
                max_rooms: 48,
                typing_ttl: Duration::from_millis(100),
                outbound_queue_bytes: 32 * 1024,
                hello_timeout: Duration::from_millis(1500),
                ping_interval: Duration::from_millis(250),
                idle_timeout: Duration::from_secs(5),
                ..ServerLimits::default()
            },
            Self::Default => ServerLimits::default(),
        }
    }

    /// Cases when `PARLOR_FUZZ_CASES` is not set: a CI run of a few seconds.
    fn default_cases(self) -> u32 {
        match self {
            Self::Raised => 160,
            Self::Default => 48,
        }
    }

    fn thread_name(self) -> &'static str {
        match self {
            Self::Raised => "parlor-fuzz-raised",
            Self::Default => "parlor-fuzz-default",
        }
    }
}

/// The seed of the short run inside `cargo test`: fixed, so a CI failure replays the same cases on any machine.
/// A campaign (`PARLOR_FUZZ_CASES`) draws a fresh seed each time to explore; `PARLOR_FUZZ_SEED` picks one.
const SHORT_RUN_SEED: u64 = 0x5061_726c_6f72;

fn config(family: Family) -> ProptestConfig {
    let campaign = std::env::var("PARLOR_FUZZ_CASES").ok();
    let cases = match &campaign {
        Some(value) => value.trim().parse().expect("PARLOR_FUZZ_CASES must be a whole number of cases"),
        None => family.default_cases(),
    };
    let rng_seed = match std::env::var("PARLOR_FUZZ_SEED") {
        Ok(value) => RngSeed::Fixed(value.trim().parse().expect("PARLOR_FUZZ_SEED must be a whole number")),
        Err(_) if campaign.is_some() => RngSeed::Random,
        Err(_) => RngSeed::Fixed(SHORT_RUN_SEED),
    };
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/fuzz_connection.txt",
        ))),
        rng_seed,
        // Each shrinking step replays a whole case against the server, and a failing case can wait out `STUCK`
        // several times: bound the search in steps and in time, so a failure is reported within minutes.
        max_shrink_iters: 256,
        max_shrink_time: 5 * 60 * 1000,
        ..ProptestConfig::with_cases(cases)
    }
}

/// How long any single wait may take before the server is declared stuck. Generous: CI machines are slow and the
/// campaign runs niced beside other work.
const STUCK: Duration = Duration::from_secs(15);

/// Makes client ids unique per connection (see [`Actor::tagged`]).
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// The nicknames actors use: fixed, so direct messages between actors and `nick_taken` races happen.
const ACTOR_NICKS: [&str; 3] = ["ana", "bob", "cy"];

// ---------------------------------------------------------------------------------------------------------------
// Panic watch.
// ---------------------------------------------------------------------------------------------------------------

/// Panics seen on the server's threads: the fuzz runtimes' workers and blocking pool, and the store's threads.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            if name.starts_with("parlor-") {
                PANICS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(format!("thread {name}: {info}"));
            }
            previous(info);
        }));
    });
}

fn panics_so_far() -> Vec<String> {
    PANICS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

// ---------------------------------------------------------------------------------------------------------------
// What a case is made of.
// ---------------------------------------------------------------------------------------------------------------

/// A WebSocket frame that breaks RFC 6455 in one way.
#[derive(Debug, Clone)]
enum BadFrame {
    /// A data opcode the RFC reserves (3–7).
    ReservedData(u8),
    /// A control opcode the RFC reserves (11–15).
    ReservedControl(u8),
    /// A text frame with an extension bit set and no extension negotiated.
    Rsv { bit: u8, text: String },
    /// A continuation frame with no message started.
    LoneContinuation(Vec<u8>),
    /// A new text frame while a fragmented message is still open.
    TextInsideFragment(String),
    /// A ping not marked final (control frames cannot be fragmented).
    FragmentedPing,
    /// A ping longer than 125 bytes.
    LongPing(usize),
    /// A close frame with a one-byte payload.
    ShortClose,
    /// A close frame with a code not allowed on the wire.
    BadCloseCode(u16),
    /// A close frame whose reason is not UTF-8.
    CloseReasonNotUtf8(Vec<u8>),
}

/// One thing an actor does.
#[derive(Debug, Clone)]
enum Action {
    /// A protocol request, encoded as JSON.
    Request(ClientMessage),
    /// A text frame holding anything (garbage, or a request from the corpus).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A WebSocket ping (the server's library answers it).
    WsPing(Vec<u8>),
    /// A pong nobody asked for.
    WsPong(Vec<u8>),
    /// A text frame just over `max_frame_bytes` (`hard: false`) or over `hard_frame_bytes` (`hard: true`).
    Oversize { hard: bool },
    /// A text frame that is not UTF-8.
    InvalidUtf8(Vec<u8>),
    /// A request split into several frames, maybe with a ping between two of them.
    Fragmented { message: ClientMessage, cuts: Vec<Index>, ping_inside: bool },
    /// A frame breaking the framing rules.
    Bad(BadFrame),
    /// Several `send`s of long text in one go.
    Burst { room: String, count: u8, size: u16 },
    /// The actor stops reading for a while.
    Stall(u16),
    /// The actor waits before its next action.
    Pause(u16),
    /// Waits until the server has answered everything this actor sent (a ping's pong, and an answer to every
    /// `send`), to order actions across connections.
    Sync,
    /// A close frame, maybe with a code; nothing is sent after it.
    Close(Option<u16>),
    /// The connection is dropped without a close frame.
    Drop,
}

/// A raw HTTP request sent instead of a WebSocket client, with bytes after it.
#[derive(Debug, Clone)]
struct RawHttp {
    head: String,
    after: Vec<u8>,
}

/// How an actor starts, before the generated actions: maybe a `hello` with its own nickname, then maybe a `join`
/// of the lobby, so that actors often share a room and see each other's events.
#[derive(Debug, Clone, Copy)]
struct Prelude {
    hello: bool,
    join_lobby: bool,
}

/// One fuzz case: actors (each with a prelude), their interleaved actions, and maybe a raw HTTP request.
#[derive(Debug, Clone)]
struct Case {
    /// A session of the connection corpus played first, if any (its actors are added as needed).
    seed: Option<Index>,
    preludes: Vec<Prelude>,
    steps: Vec<(Index, Action)>,
    http: Option<RawHttp>,
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------------------------------------------

fn nasty_char() -> impl Strategy<Value = char> {
    const NASTY: &[char] = &[
        '\0',
        '\u{7}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\n',
        '\r',
        '\t',
        ' ',
        '\u{a0}',
        '\u{202E}',
        '\u{2066}',
        '\u{200B}',
        '\u{200F}',
        '\u{FEFF}',
        '\u{FFFD}',
        '\u{10FFFF}',
        '\u{301}',
        '"',
        '\\',
        '{',
        '}',
        '@',
        '.',
        '-',
        '_',
        'é',
        'İ',
        '李',
        '😀',
    ];
    prop_oneof![3 => any::<char>(), 3 => (0x20u8..0x7f).prop_map(char::from), 2 => prop::sample::select(NASTY)]
}

fn nasty_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Nicknames: the actors' own (so greetings collide and DMs reach someone), case variants, and invalid ones.
fn nick() -> impl Strategy<Value = String> {
    let odd = &[
        "",
        "a b",
        "evil\u{202e}gnp",
        "ana\0",
        "@ana",
        "x.y-z_1",
        "Zoë",
        "İzmir",
        "ΑΣ",
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
    ][..];
    prop_oneof![
        6 => prop::sample::select(&ACTOR_NICKS[..]).prop_map(str::to_owned),
        1 => prop::sample::select(&["ANA", "Bob", "cY"][..]).prop_map(str::to_owned),
        2 => prop::sample::select(odd).prop_map(str::to_owned),
        1 => nasty_text(12),
    ]
}

/// Room fields: a few shared rooms, DMs with the actors and others, fresh names, and invalid ones.
fn room() -> impl Strategy<Value = String> {
    let usual = &[
        "lobby",
        "lobby",
        "lobby",
        "Lobby",
        "r0",
        "r1",
        "r2",
        "R1",
        "@ana",
        "@bob",
        "@cy",
        "@BOB",
        "@nobody-ever",
    ][..];
    let odd = &[
        "",
        "a.b",
        "@",
        "@@ana",
        " lobby",
        "lobby\u{202e}",
        "İzmir",
        "@İlker",
        "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr",
    ][..];
    prop_oneof![
        12 => prop::sample::select(usual).prop_map(str::to_owned),
        1 => "[a-z][a-z0-9_-]{0,6}",
        2 => prop::sample::select(odd).prop_map(str::to_owned),
        1 => nasty_text(10),
    ]
}

/// Message text: ordinary, odd but valid, invisible, with controls, and around the length limit.
fn text() -> impl Strategy<Value = String> {
    let usual = &["hi", "hello world", "<b>not html</b>", "😀", "line\nbreak\ttab", "  padded  ", "é李"][..];
    let invalid = &["", " ", "\n\t", "\u{200b}\u{feff}", "bell\u{7}", "abc\u{202e}def", "nul\0"][..];
    prop_oneof![
        8 => prop::sample::select(usual).prop_map(str::to_owned),
        2 => nasty_text(40),
        2 => prop::sample::select(invalid).prop_map(str::to_owned),
        1 => prop::sample::select(&[3999usize, 4000, 4001][..]).prop_map(|n| "é".repeat(n)),
    ]
}

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["", "fractions", "maths ½", "one\ntwo", "bell\u{7}", "\u{202e}rtl"][..])
            .prop_map(str::to_owned),
        1 => nasty_text(20),
        1 => prop::sample::select(&[200usize, 201][..]).prop_map(|n| "t".repeat(n)),
    ]
}

/// Client ids: a few (so resends hit the duplicate path), and invalid ones.
fn client_id() -> impl Strategy<Value = String> {
    let invalid =
        &["", "has space", "é", "tab\t", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"][..];
    prop_oneof![
        8 => (0u8..16).prop_map(|n| format!("cid-{n}")),
        1 => prop::sample::select(invalid).prop_map(str::to_owned),
    ]
}

fn sequence() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![3 => Just(None), 3 => (0u64..40).prop_map(Some), 1 => any::<u64>().prop_map(Some)]
}

/// Polls, mostly valid: a few options, sometimes too few, too many, repeated or hostile.
fn poll() -> impl Strategy<Value = PollSpec> {
    let option = prop_oneof![4 => prop::sample::select(&["yes", "no", "maybe", "Yes "][..]).prop_map(str::to_owned), 1 => nasty_text(12)];
    (prop::collection::vec(option, 0..12), any::<bool>()).prop_map(|(options, multiple)| PollSpec { options, multiple })
}

/// Reactions, mostly emoji, sometimes too long or with spaces.
fn emoji() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["👍", "🎉", "❤️", "👨‍👩‍👧‍👦"][..]).prop_map(str::to_owned),
        1 => nasty_text(14),
        1 => (0u8..25).prop_map(|n| format!("e{n}")),
    ]
}

fn request() -> impl Strategy<Value = ClientMessage> {
    let hello = (
        prop_oneof![9 => Just(1u32), 1 => any::<u32>()],
        nick(),
        prop::option::of(nasty_text(8)),
        prop::option::weighted(0.1, nasty_text(8)),
    )
        .prop_map(|(protocol, nick, client, password)| ClientMessage::Hello {
            protocol,
            nick,
            client,
            password: password.map(Into::into),
            auth: None,
        });
    let limit =
        prop_oneof![3 => Just(None), 1 => Just(Some(0)), 3 => (1u32..300).prop_map(Some), 1 => Just(Some(u32::MAX))];
    prop_oneof![
        2 => hello,
        4 => (room(), sequence(), sequence())
            .prop_map(|(room, after, after_rev)| ClientMessage::Join { room, after, after_rev, password: None }),
        2 => room().prop_map(|room| ClientMessage::Leave { room }),
        1 => (room(), prop::option::of(topic())).prop_map(|(room, topic)| ClientMessage::CreateRoom { room, topic, password: None }),
        1 => (room(), topic()).prop_map(|(room, topic)| ClientMessage::SetTopic { room, topic }),
        1 => Just(ClientMessage::ListRooms),
        1 => room().prop_map(|room| ClientMessage::Who { room }),
        6 => (
            room(),
            text(),
            client_id(),
            prop::option::weighted(0.15, poll()),
            prop::option::weighted(0.1, 0u64..40),
            prop::bool::weighted(0.05)
        )
            .prop_map(|(room, text, client_id, poll, reply_to, announce)| ClientMessage::Send {
                room,
                text,
                client_id,
                poll,
                reply_to,
                announce
            }),
        1 => (room(), nick()).prop_map(|(room, nick)| ClientMessage::Mute { room, nick }),
        1 => (room(), nick()).prop_map(|(room, nick)| ClientMessage::Remove { room, nick }),
        1 => (room(), 0u64..40).prop_map(|(room, seq)| ClientMessage::Pin { room, seq }),
        1 => (room(), 0u64..40).prop_map(|(room, seq)| ClientMessage::Acknowledge { room, seq }),
        1 => (room(), prop_oneof![text(), Just("b".to_owned()), nasty_text(12)], sequence(), prop::option::of(0u32..30))
            .prop_map(|(room, query, before, limit)| ClientMessage::Search { room, query, before, limit }),
        2 => (room(), 0u64..40, prop::collection::vec(0u32..6, 0..4))
            .prop_map(|(room, seq, choices)| ClientMessage::Vote { room, seq, choices }),
        1 => (room(), 0u64..40).prop_map(|(room, seq)| ClientMessage::ClosePoll { room, seq }),
        2 => (room(), 0u64..40, emoji(), any::<bool>())
            .prop_map(|(room, seq, emoji, on)| ClientMessage::React { room, seq, emoji, on }),
        1 => (room(), 0u64..40, text()).prop_map(|(room, seq, text)| ClientMessage::Edit { room, seq, text }),
        1 => (room(), 0u64..40).prop_map(|(room, seq)| ClientMessage::Delete { room, seq }),
        1 => (room(), prop::collection::btree_map(prop_oneof![3 => Just("random".to_owned()), 1 => nasty_text(40)], -1000i64..1000, 0..10))
            .prop_map(|(room, points)| ClientMessage::Publish {
                room,
                points: points.into_iter().map(|(name, value)| (name, value.into())).collect()
            }),
        2 => (room(), any::<bool>()).prop_map(|(room, typing)| ClientMessage::Typing { room, typing }),
        2 => (room(), sequence(), sequence(), limit)
            .prop_map(|(room, before, after, limit)| ClientMessage::History { room, before, after, limit }),
        1 => prop::option::of(nasty_text(8)).prop_map(|nonce| ClientMessage::Ping { nonce }),
        // No actor holds the moderator token: every moderator request must be refused.
        1 => nasty_text(70).prop_map(|token| ClientMessage::Moderate { token: token.into() }),
        1 => (room(), prop::option::of(any::<u32>())).prop_map(|(room, seconds)| ClientMessage::LockRoom { room, seconds }),
        1 => room().prop_map(|room| ClientMessage::UnlockRoom { room }),
        1 => (room(), any::<u32>()).prop_map(|(room, seconds)| ClientMessage::SlowMode { room, seconds }),
        1 => (room(), any::<bool>()).prop_map(|(room, raised)| ClientMessage::RaiseHand { room, raised }),
        1 => (room(), nick()).prop_map(|(room, nick)| ClientMessage::CallOn { room, nick }),
        1 => room().prop_map(|room| ClientMessage::ClearHands { room }),
    ]
}

/// Text frames that are not valid requests.
fn garbage() -> impl Strategy<Value = String> {
    let fixed = &[
        "",
        "{",
        "}",
        "null",
        "[]",
        "[\"leave\",\"lobby\"]",
        "{}",
        "{\"type\":\"dance\"}",
        "{\"type\":5}",
        "{\"type\":\"send\",\"room\":\"lobby\"}",
        "{\"type\":\"join\",\"room\":5}",
        "{\"type\":\"hello\",\"protocol\":-1}",
        "{\"type\":\"ping\"} trailing",
        "{\"type\":\"send\",\"room\":\"lobby\",\"text\":\"\\ud800\",\"client_id\":\"x\"}",
        "{\"type\":\"history\",\"room\":\"lobby\",\"limit\":1e999}",
        "{\"type\":\"ping\",\"type\":\"ping\"}",
    ][..];
    prop_oneof![
        3 => prop::sample::select(fixed).prop_map(str::to_owned),
        2 => nasty_text(40),
        1 => (1usize..200)
            .prop_map(|depth| format!("{{\"type\":\"ping\",\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth))),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn bad_frame() -> impl Strategy<Value = BadFrame> {
    prop_oneof![
        (3u8..=7).prop_map(BadFrame::ReservedData),
        (11u8..=15).prop_map(BadFrame::ReservedControl),
        (1u8..=3, "[a-z]{0,8}").prop_map(|(bit, text)| BadFrame::Rsv { bit, text }),
        bytes(16).prop_map(BadFrame::LoneContinuation),
        "[a-z]{0,8}".prop_map(BadFrame::TextInsideFragment),
        Just(BadFrame::FragmentedPing),
        (126usize..400).prop_map(BadFrame::LongPing),
        Just(BadFrame::ShortClose),
        prop::sample::select(&[0u16, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000, 65535][..])
            .prop_map(BadFrame::BadCloseCode),
        Just(BadFrame::CloseReasonNotUtf8(vec![0xff, 0xfe, 0x80])),
    ]
}

/// Invalid UTF-8: a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or random bytes.
fn invalid_utf8() -> impl Strategy<Value = Vec<u8>> {
    const BROKEN: &[&[u8]] =
        &[b"\x80", b"\xc3", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xff"];
    let broken = BROKEN;
    (prop::sample::select(broken), "[ -~]{0,12}", any::<bool>()).prop_map(|(bad, ok, before)| {
        let mut bytes = ok.into_bytes();
        if before {
            bytes.splice(0..0, bad.iter().copied());
        } else {
            bytes.extend_from_slice(bad);
        }
        bytes
    })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        40 => request().prop_map(Action::Request),
        4 => garbage().prop_map(Action::Text),
        2 => bytes(32).prop_map(Action::Binary),
        2 => bytes(16).prop_map(Action::WsPing),
        1 => bytes(16).prop_map(Action::WsPong),
        1 => Just(Action::Oversize { hard: false }),
        1 => Just(Action::Oversize { hard: true }),
        1 => invalid_utf8().prop_map(Action::InvalidUtf8),
        2 => (request(), prop::collection::vec(any::<Index>(), 1..4), any::<bool>())
            .prop_map(|(message, cuts, ping_inside)| Action::Fragmented { message, cuts, ping_inside }),
        1 => bad_frame().prop_map(Action::Bad),
        2 => (room(), 1u8..24, prop_oneof![Just(10u16), Just(1000), Just(4000)])
            .prop_map(|(room, count, size)| Action::Burst { room, count, size }),
        1 => (5u16..80).prop_map(Action::Stall),
        // Mostly short; now and then long enough for the raised family's timers (hello timeout, pings, typing).
        1 => prop_oneof![8 => 1u16..40, 1 => 200u16..1600].prop_map(Action::Pause),
        1 => Just(Action::Sync),
        1 => prop::option::of(prop::sample::select(&[1000u16, 1001, 1008, 3000, 4000, 4999][..]))
            .prop_map(Action::Close),
        1 => Just(Action::Drop),
    ]
}

/// A raw HTTP request from a small grammar: methods, paths, versions and headers right and wrong, and bytes after.
fn raw_http() -> impl Strategy<Value = RawHttp> {
    let method =
        prop::sample::select(&["GET", "GET", "POST", "HEAD", "PUT", "OPTIONS", "get", "G ET", "", "CONNECT"][..]);
    let long_path = "/".to_owned() + &"a".repeat(20_000);
    let paths: Vec<String> = [
        "/ws",
        "/ws",
        "/echo",
        "/health",
        "/",
        "/ws?x=1",
        "*",
        "//ws",
        "/ws/../health",
        "/%00",
        "/ws#f",
        "http://fuzz/ws",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .chain([long_path])
    .collect();
    let path = prop::sample::select(paths);
    let version =
        prop::sample::select(&["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", "HTTP/1.1 x", ""][..]);
    let header = prop_oneof![
        Just("Host: fuzz".to_owned()),
        Just("Upgrade: websocket".to_owned()),
        Just("Connection: Upgrade".to_owned()),
        Just("Connection: keep-alive, upgrade".to_owned()),
        Just("Connection: close".to_owned()),
        Just("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
        Just("Sec-WebSocket-Version: 13".to_owned()),
        Just("Sec-WebSocket-Version: 8".to_owned()),
        Just("Transfer-Encoding: chunked".to_owned()),
        any::<u32>().prop_map(|n| format!("Content-Length: {n}")),
        Just("Content-Length: -1".to_owned()),
        "[A-Za-z-]{0,12}: [ -~]{0,20}",
        nasty_text(20),
    ];
    let websocket_headers = Just(
        "Host: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13"
            .to_owned(),
    );
    let headers = prop_oneof![
        2 => prop::collection::vec(header, 0..8).prop_map(|h| h.join("\r\n")),
        1 => websocket_headers,
    ];
    let ending = prop::sample::select(&["\r\n\r\n", "\r\n\r\n", "\n\n", "\r\n", ""][..]);
    (method, path, version, headers, ending, bytes(64)).prop_map(|(method, path, version, headers, ending, after)| {
        let head = if headers.is_empty() {
            format!("{method} {path} {version}{ending}")
        } else {
            format!("{method} {path} {version}\r\n{headers}{ending}")
        };
        RawHttp { head, after }
    })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![3 => Just(1usize), 2 => Just(2), 1 => Just(3)],
        prop::collection::vec(
            (prop::bool::weighted(0.8), prop::bool::weighted(0.6))
                .prop_map(|(hello, join_lobby)| Prelude { hello, join_lobby }),
            3,
        ),
        prop::collection::vec((any::<Index>(), action()), 1..30),
        prop::option::weighted(0.1, raw_http()),
        prop::option::weighted(0.15, any::<Index>()),
    )
        .prop_map(|(actors, mut preludes, steps, http, seed)| {
            preludes.truncate(actors);
            Case { seed, preludes, steps, http }
        })
}

// ---------------------------------------------------------------------------------------------------------------
// Running a case.
// ---------------------------------------------------------------------------------------------------------------

type Ws = WebSocketStream<DuplexStream>;

/// What a reader saw from the server.
#[derive(Debug, Default)]
struct Log {
    /// Text frames, in order.
    texts: Vec<String>,
    /// Binary frames (the server must send none).
    binary: usize,
    /// The close frame's code, if one came (`Some(None)`: a close frame without a code).
    close: Option<Option<u16>>,
    /// Frames that arrived after the close frame.
    after_close: usize,
    /// The connection has ended (end of stream or error).
    ended: bool,
}

/// What an actor sent, to judge the server's answers by.
#[derive(Debug, Default)]
struct Sent {
    nicks: HashSet<String>,
    client_ids: HashSet<String>,
    nonces: HashSet<Option<String>>,
    hard_oversize: bool,
    invalid_utf8: bool,
    bad_frames: bool,
    stalled: bool,
    paused_ms: u64,
    /// `send` requests, to know when each has its answer.
    sends: u64,
    /// Syncs or final pings the server never answered although the connection stayed open.
    unanswered: u64,
    close_code: Option<Option<u16>>,
    dropped: bool,
    frames: u64,
}

/// One client connection: its write half, and a task reading the other half into a log.
struct Actor {
    sink: Option<SplitSink<Ws, Message>>,
    reader: JoinHandle<()>,
    log: Arc<Mutex<Log>>,
    /// Bumped by the reader at every frame, so waiters wake.
    seen: watch::Receiver<u64>,
    /// The reader pauses until this instant (milliseconds since `epoch`).
    stall_until: Arc<AtomicU64>,
    epoch: Instant,
    sent: Sent,
    /// Pings sent for syncs, to make each nonce unique.
    pings: u64,
    /// Appended to generated client ids, so each case stores new messages instead of repeating old ids.
    tag: String,
    /// The actor closed or dropped its connection, or found it closed: it sends nothing more.
    gone: bool,
}

fn lock(log: &Mutex<Log>) -> std::sync::MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn read_into(
    mut stream: SplitStream<Ws>,
    log: Arc<Mutex<Log>>,
    seen: watch::Sender<u64>,
    stall_until: Arc<AtomicU64>,
    epoch: Instant,
) {
    loop {
        let until = epoch + Duration::from_millis(stall_until.load(Ordering::Relaxed));
        if Instant::now() < until {
            tokio::time::sleep_until(until).await;
        }
        let item = stream.next().await;
        {
            let mut log = lock(&log);
            let closed = log.close.is_some();
            match item {
                Some(Ok(Message::Text(text))) => {
                    log.after_close += usize::from(closed);
                    log.texts.push(text.as_str().to_owned());
                }
                Some(Ok(Message::Binary(_))) => {
                    log.after_close += usize::from(closed);
                    log.binary += 1;
                }
                Some(Ok(Message::Close(frame))) => {
                    log.after_close += usize::from(closed);
                    log.close = Some(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(_)) | None => log.ended = true,
            }
        }
        seen.send_modify(|n| *n += 1);
        if lock(&log).ended {
            return;
        }
    }
}

/// A frame exactly as given (the client's library masks it), whatever the opcode.
fn raw_frame(payload: Vec<u8>, opcode: OpCode, is_final: bool) -> Frame {
    Frame::from_payload(FrameHeader { is_final, opcode, ..FrameHeader::default() }, payload.into())
}

/// Opens a WebSocket to `/ws` over an in-memory stream served by `server`.
async fn connect(server: &RunningServer, peer: u16, buffer: usize) -> Result<Ws, String> {
    let (client, served) = tokio::io::duplex(buffer);
    server.serve_stream(served, SocketAddr::from(([127, 0, 0, 1], peer)));
    let config = WebSocketConfig::default().max_message_size(None).max_frame_size(None);
    match timeout(STUCK, tokio_tungstenite::client_async_with_config("ws://fuzz/ws", client, Some(config))).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(err)) => Err(format!("the WebSocket handshake failed: {err}")),
        Err(_) => Err("the WebSocket handshake did not complete".to_owned()),
    }
}

impl Actor {
    async fn open(server: &RunningServer, peer: u16) -> Result<Self, String> {
        let ws = connect(server, peer, 16 * 1024).await?;
        let (sink, stream) = ws.split();
        let log = Arc::new(Mutex::new(Log::default()));
        let (seen_tx, seen) = watch::channel(0);
        let stall_until = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let reader = tokio::spawn(read_into(stream, log.clone(), seen_tx, stall_until.clone(), epoch));
        let sent = Sent::default();
        let tag = format!("-{}", NEXT_TAG.fetch_add(1, Ordering::Relaxed));
        Ok(Self { sink: Some(sink), reader, log, seen, stall_until, epoch, sent, pings: 0, tag, gone: false })
    }

    /// Sends one message; a failure means the connection is over (the server closed it), which ends the actor.
    async fn send(&mut self, message: Message) {
        let Some(sink) = self.sink.as_mut() else { return };
        self.sent.frames += 1;
        if !matches!(timeout(STUCK, sink.send(message)).await, Ok(Ok(()))) {
            self.gone = true;
        }
    }

    /// The message with a generated client id (`cid-N`) made unique to this connection.
    fn tagged(&self, message: ClientMessage) -> ClientMessage {
        match message {
            ClientMessage::Send { room, text, client_id, poll, reply_to, announce }
                if client_id.starts_with("cid-") =>
            {
                ClientMessage::Send {
                    room,
                    text,
                    client_id: format!("{client_id}{}", self.tag),
                    poll,
                    reply_to,
                    announce,
                }
            }
            other => other,
        }
    }

    /// Remembers what a text frame asks for, as the server will read it: nicknames, client ids, nonces.
    fn note(&mut self, text: &str) {
        match parlor_protocol::decode(text) {
            Ok(ClientMessage::Hello { nick, .. }) => {
                self.sent.nicks.insert(nick);
            }
            Ok(ClientMessage::Send { client_id, .. }) => {
                self.sent.client_ids.insert(client_id);
                self.sent.sends += 1;
            }
            Ok(ClientMessage::Ping { nonce }) => {
                self.sent.nonces.insert(nonce);
            }
            _ => {}
        }
    }

    async fn send_text(&mut self, text: String) {
        self.note(&text);
        self.send(Message::text(text)).await;
    }

    async fn send_request(&mut self, message: &ClientMessage) {
        self.send_text(serde_json::to_string(message).expect("a request encodes")).await;
    }

    async fn act(&mut self, action: Action, limits: &ServerLimits) {
        if self.gone {
            return;
        }
        match action {
            Action::Request(message) => self.send_request(&self.tagged(message)).await,
            Action::Text(text) => self.send_text(text).await,
            Action::Binary(data) => self.send(Message::binary(data)).await,
            Action::WsPing(data) => self.send(Message::Ping(data.into())).await,
            Action::WsPong(data) => self.send(Message::Pong(data.into())).await,
            Action::Oversize { hard } => {
                let size = if hard { limits.hard_frame_bytes + 1 } else { limits.max_frame_bytes + 1 };
                self.sent.hard_oversize |= hard;
                self.send(Message::text("x".repeat(size))).await;
            }
            Action::InvalidUtf8(data) => {
                self.sent.invalid_utf8 = true;
                self.send(Message::Frame(raw_frame(data, OpCode::Data(Data::Text), true))).await;
            }
            Action::Fragmented { message, cuts, ping_inside } => {
                let text = serde_json::to_string(&self.tagged(message)).expect("a request encodes");
                self.note(&text);
                let bytes = text.into_bytes();
                let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
                points.push(0);
                points.push(bytes.len());
                points.sort_unstable();
                points.dedup();
                let pieces: Vec<&[u8]> = points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
                let last = pieces.len().saturating_sub(1);
                for (n, piece) in pieces.iter().enumerate() {
                    let opcode = if n == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
                    self.send(Message::Frame(raw_frame(piece.to_vec(), opcode, n == last))).await;
                    if ping_inside && n == 0 && last > 0 {
                        self.send(Message::Ping(b"inside".to_vec().into())).await;
                    }
                }
            }
            Action::Bad(bad) => {
                self.sent.bad_frames = true;
                let frame = match bad {
                    BadFrame::ReservedData(op) => raw_frame(b"x".to_vec(), OpCode::from(op), true),
                    BadFrame::ReservedControl(op) => raw_frame(Vec::new(), OpCode::from(op), true),
                    BadFrame::Rsv { bit, text } => {
                        let mut frame = raw_frame(text.into_bytes(), OpCode::Data(Data::Text), true);
                        let header = frame.header_mut();
                        match bit {
                            1 => header.rsv1 = true,
                            2 => header.rsv2 = true,
                            _ => header.rsv3 = true,
                        }
                        frame
                    }
                    BadFrame::LoneContinuation(data) => raw_frame(data, OpCode::Data(Data::Continue), true),
                    BadFrame::TextInsideFragment(text) => {
                        self.send(Message::Frame(raw_frame(b"{\"ty".to_vec(), OpCode::Data(Data::Text), false))).await;
                        raw_frame(text.into_bytes(), OpCode::Data(Data::Text), true)
                    }
                    BadFrame::FragmentedPing => raw_frame(Vec::new(), OpCode::Control(Control::Ping), false),
                    BadFrame::LongPing(len) => raw_frame(vec![b'p'; len], OpCode::Control(Control::Ping), true),
                    BadFrame::ShortClose => raw_frame(vec![3], OpCode::Control(Control::Close), true),
                    BadFrame::BadCloseCode(code) => {
                        raw_frame(code.to_be_bytes().to_vec(), OpCode::Control(Control::Close), true)
                    }
                    BadFrame::CloseReasonNotUtf8(reason) => {
                        let mut payload = 1000u16.to_be_bytes().to_vec();
                        payload.extend(reason);
                        raw_frame(payload, OpCode::Control(Control::Close), true)
                    }
                };
                self.send(Message::Frame(frame)).await;
            }
            Action::Burst { room, count, size } => {
                let text = "b".repeat(usize::from(size));
                for n in 0..count {
                    let client_id = format!("burst-{n}{}", self.tag);
                    let message = ClientMessage::Send {
                        room: room.clone(),
                        text: text.clone(),
                        client_id,
                        poll: None,
                        reply_to: None,
                        announce: false,
                    };
                    self.send_request(&message).await;
                }
            }
            Action::Stall(ms) => {
                self.sent.stalled = true;
                let until = self.epoch.elapsed().as_millis() as u64 + u64::from(ms);
                self.stall_until.store(until, Ordering::Relaxed);
            }
            Action::Pause(ms) => {
                self.sent.paused_ms += u64::from(ms);
                tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
            }
            Action::Sync => {
                if self.ping_until_answered().await {
                    let sends = self.sent.sends;
                    let answered = |log: &Log| answers_to_sends(log) >= sends;
                    if !self.wait_for(answered, STUCK).await {
                        self.sent.unanswered += 1;
                    }
                } else {
                    self.sent.unanswered += 1;
                }
            }
            Action::Close(code) => {
                self.sent.close_code = Some(code);
                let frame = code.map(|code| CloseFrame { code: WsCloseCode::from(code), reason: "fuzz".into() });
                self.send(Message::Close(frame)).await;
                self.gone = true;
            }
            Action::Drop => {
                self.sent.dropped = true;
                self.sink = None;
                self.reader.abort();
                self.gone = true;
            }
        }
    }

    async fn prelude(&mut self, prelude: Prelude, nick: &str, limits: &ServerLimits) {
        if prelude.hello {
            let hello =
                ClientMessage::Hello { protocol: 1, nick: nick.to_owned(), client: None, password: None, auth: None };
            self.act(Action::Request(hello), limits).await;
            if prelude.join_lobby {
                self.act(
                    Action::Request(ClientMessage::Join {
                        room: "lobby".into(),
                        after: None,
                        after_rev: None,
                        password: None,
                    }),
                    limits,
                )
                .await;
            }
        }
    }

    /// Waits until the log holds a frame matching `done`, or the connection ends.
    async fn wait_for(&mut self, mut done: impl FnMut(&Log) -> bool, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            {
                let log = lock(&self.log);
                if done(&log) || log.ended {
                    return true;
                }
            }
            if self.reader.is_finished() {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.seen.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Sends an application ping and waits for its pong (or the end of the connection). The rate limiter of the
    /// default family may refuse the ping: then wait as long as it says and ping again. False if the server never
    /// answered.
    async fn ping_until_answered(&mut self) -> bool {
        let deadline = Instant::now() + STUCK;
        let start = lock(&self.log).texts.len();
        let mut pongs = Vec::new();
        while Instant::now() < deadline {
            self.pings += 1;
            let nonce = format!("\u{1}sync-{}", self.pings);
            pongs.push(format!("\"nonce\":{}", serde_json::to_string(&nonce).expect("a nonce encodes")));
            let before = lock(&self.log).texts.len();
            self.send_request(&ClientMessage::Ping { nonce: Some(nonce) }).await;
            let answered = |log: &Log| {
                log.close.is_some() || log.texts[start..].iter().any(|t| pongs.iter().any(|p| t.contains(p)))
            };
            let limited = |log: &Log| {
                log.texts[before..].iter().find_map(|text| match serde_json::from_str::<ServerEvent>(text) {
                    Ok(ServerEvent::Error(error)) if error.code == ErrorCode::RateLimited => error.retry_after_ms,
                    _ => None,
                })
            };
            let done = |log: &Log| answered(log) || limited(log).is_some();
            if !self.wait_for(done, deadline.saturating_duration_since(Instant::now())).await {
                return false;
            }
            let wait = {
                let log = lock(&self.log);
                if answered(&log) || log.ended {
                    return true;
                }
                Duration::from_millis(limited(&log).unwrap_or(10))
            };
            tokio::time::sleep(wait).await;
        }
        false
    }

    /// Ends the connection as a polite client would: make sure the server still answers, then close.
    async fn finish(&mut self) -> Result<(), String> {
        if self.sent.dropped {
            return Ok(());
        }
        if !self.gone {
            if !self.ping_until_answered().await {
                return Err("a connection stopped answering: no pong, no close".to_owned());
            }
            self.sent.close_code = Some(None);
            self.send(Message::Close(None)).await;
            self.gone = true;
        }
        if !self.wait_for(|_| false, STUCK).await {
            return Err("the server did not end the connection after the close handshake".to_owned());
        }
        Ok(())
    }
}

/// How many answers to `send` requests a log holds: acks, refusals naming a client id (every refused `send` names
/// its own, `hello_required` included), and rate-limit refusals (raised before the frame is read).
fn answers_to_sends(log: &Log) -> u64 {
    let answers = log.texts.iter().filter(|text| match serde_json::from_str::<ServerEvent>(text) {
        Ok(ServerEvent::Ack(_)) => true,
        Ok(ServerEvent::Error(error)) => error.client_id.is_some() || error.code == ErrorCode::RateLimited,
        _ => false,
    });
    answers.count() as u64
}

/// Sends a raw HTTP request (and the bytes after it), then reads what comes back until the server hangs up.
async fn raw_request(server: &RunningServer, http: &RawHttp, peer: u16) -> Result<u64, String> {
    let (mut client, served) = tokio::io::duplex(64 * 1024);
    server.serve_stream(served, SocketAddr::from(([127, 0, 0, 1], peer)));
    let exchange = async {
        let mut request = http.head.clone().into_bytes();
        request.extend_from_slice(&http.after);
        // The server may refuse and hang up before reading everything: a failed write is an answer too.
        let _ = client.write_all(&request).await;
        let _ = client.shutdown().await;
        let mut response = Vec::new();
        let _ = client.read_to_end(&mut response).await;
        response
    };
    let response = timeout(STUCK, exchange).await.map_err(|_| format!("a raw HTTP exchange hung: {http:?}"))?;
    if !response.is_empty() && !response.starts_with(b"HTTP/1.") {
        return Err(format!("the answer to {http:?} is not HTTP: {:?}", String::from_utf8_lossy(&response)));
    }
    Ok(1)
}

/// Proves the server still serves: `welcome` and `pong` on a new connection, and `/health` over another stream.
async fn probe(server: &RunningServer, n: u64) -> Result<(), String> {
    let mut ws = connect(server, 1, 64 * 1024).await?;
    let nick = format!("probe{n}");
    let hello = ClientMessage::Hello {
        protocol: 1,
        nick: nick.clone(),
        client: Some("fuzz".into()),
        password: None,
        auth: None,
    };
    let ping = ClientMessage::Ping { nonce: Some(format!("probe-{n}")) };
    for message in [&hello, &ping] {
        let json = serde_json::to_string(message).expect("a request encodes");
        ws.send(Message::text(json)).await.map_err(|err| format!("probe: cannot send: {err}"))?;
    }
    let (mut welcomed, mut ponged) = (false, false);
    while !(welcomed && ponged) {
        let frame = timeout(STUCK, ws.next()).await.map_err(|_| "probe: no answer in time".to_owned())?;
        match frame {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerEvent>(&text) {
                Ok(ServerEvent::Welcome(welcome)) if welcome.nick == nick => welcomed = true,
                Ok(ServerEvent::Pong { nonce }) if nonce == Some(format!("probe-{n}")) => ponged = true,
                Ok(other) => return Err(format!("probe: unexpected {other:?}")),
                Err(err) => return Err(format!("probe: not an event ({err}): {text}")),
            },
            Some(Ok(_)) => {}
            other => return Err(format!("probe: the connection ended: {other:?}")),
        }
    }
    let _ = timeout(STUCK, ws.close(None)).await;

    let (mut client, served) = tokio::io::duplex(16 * 1024);
    server.serve_stream(served, SocketAddr::from(([127, 0, 0, 1], 2)));
    let health = async {
        client.write_all(b"GET /health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n").await?;
        let mut response = Vec::new();
        client.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = match timeout(STUCK, health).await {
        Ok(Ok(response)) => String::from_utf8_lossy(&response).into_owned(),
        Ok(Err(err)) => return Err(format!("probe: /health failed: {err}")),
        Err(_) => return Err("probe: /health did not answer in time".to_owned()),
    };
    if !response.starts_with("HTTP/1.1 200") || !response.contains("\"status\":\"ok\"") {
        return Err(format!("probe: /health answered {response:?}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Judging what the server sent.
// ---------------------------------------------------------------------------------------------------------------

/// A `room` field the server sent must be a name a client can send back.
fn check_room(room: &str, what: &str) -> Result<(), String> {
    if Conversation::parse(room).is_err() {
        return Err(format!("{what} names the room {room:?}, which the server itself would refuse"));
    }
    Ok(())
}

fn check_sorted(items: &[String], what: &str) -> Result<(), String> {
    if items.windows(2).any(|w| w[0] > w[1]) {
        return Err(format!("{what} is not sorted: {items:?}"));
    }
    Ok(())
}

/// Checks one connection's log against what its client sent. Returns the number of frames received.
fn judge(
    log: &Log,
    sent: &Sent,
    family: Family,
    limits: &ServerLimits,
    seen: &mut BTreeMap<String, u64>,
) -> Result<u64, String> {
    if log.binary > 0 {
        return Err(format!("the server sent {} binary frames", log.binary));
    }
    if sent.unanswered > 0 {
        return Err(format!("{} syncs got no answer although the connection stayed open", sent.unanswered));
    }
    if log.after_close > 0 {
        return Err(format!("the server sent {} frames after its close frame", log.after_close));
    }
    let mut welcomed = false;
    for text in &log.texts {
        let event: ServerEvent = serde_json::from_str(text)
            .map_err(|err| format!("the server sent a frame that is not an event ({err}): {text}"))?;
        let kind = match &event {
            ServerEvent::Error(error) => format!("error {}", error.code),
            ServerEvent::Joined(Joined { gap: Some(gap), .. }) => format!("joined with gap {:?}", gap.reason),
            ServerEvent::Ack(Ack { duplicate: true, .. }) => "ack duplicate".to_owned(),
            _ => serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default(),
        };
        *seen.entry(kind).or_default() += 1;
        match &event {
            ServerEvent::Welcome(welcome) => {
                if welcomed {
                    return Err("two welcomes on one connection".to_owned());
                }
                welcomed = true;
                if !sent.nicks.contains(&welcome.nick) {
                    return Err(format!("welcome for {:?}, a nickname this client never asked for", welcome.nick));
                }
                if welcome.protocol != parlor_protocol::PROTOCOL_VERSION || welcome.limits != limits.to_wire() {
                    return Err(format!("welcome states the wrong protocol or limits: {welcome:?}"));
                }
                let names: Vec<String> = welcome.rooms.iter().map(|r| r.room.clone()).collect();
                check_sorted(&names, "welcome.rooms")?;
                for room in &names {
                    check_room(room, "welcome")?;
                }
            }
            ServerEvent::Error(error) => {
                if let Some(id) = &error.client_id {
                    if !sent.client_ids.contains(id) {
                        return Err(format!("a refusal for client_id {id:?}, which this client never sent"));
                    }
                }
                // Nothing a client sends may make the server fail internally: no disk is full, no shutdown runs.
                if matches!(error.code, ErrorCode::StorageFailed | ErrorCode::Unavailable) {
                    return Err(format!("the client's requests made the server fail: {error:?}"));
                }
                if family == Family::Raised && error.code == ErrorCode::RateLimited {
                    return Err("rate_limited although the rate limits are out of reach".to_owned());
                }
            }
            ServerEvent::Pong { nonce } => {
                if !sent.nonces.contains(nonce) {
                    return Err(format!("a pong for nonce {nonce:?}, which this client never sent"));
                }
            }
            other if !welcomed => return Err(format!("{other:?} before welcome")),
            ServerEvent::Ack(ack) => {
                if !sent.client_ids.contains(&ack.client_id) {
                    return Err(format!("an ack for client_id {:?}, which this client never sent", ack.client_id));
                }
                if ack.seq == 0 {
                    return Err(format!("an ack with seq 0: {ack:?}"));
                }
                check_room(&ack.room, "ack")?;
            }
            ServerEvent::Message(message) => {
                // A replayed message may have been deleted since: its text is then empty, and nothing else is left.
                let text_ok = if message.deleted {
                    message.text.is_empty() && message.poll.is_none() && message.reactions.is_empty()
                } else {
                    names::is_displayable_text(&message.text)
                };
                if !text_ok
                    || message.text.chars().count() > limits.max_text_chars
                    || message.seq == 0
                    || names::validate_nick(&message.from).is_err()
                    || !names::validate_client_id(&message.client_id)
                {
                    return Err(format!("a message the server should never have stored: {message:?}"));
                }
                check_room(&message.room, "message")?;
            }
            ServerEvent::MessageUpdated(message) => {
                let text_ok = if message.deleted {
                    message.text.is_empty() && message.poll.is_none() && message.reactions.is_empty()
                } else {
                    names::is_displayable_text(&message.text) && message.text.chars().count() <= limits.max_text_chars
                };
                let reactions_ok = message.reactions.len() <= parlor_protocol::extras::MAX_REACTIONS_PER_MESSAGE
                    && message.reactions.iter().all(|r| !r.by.is_empty());
                if !text_ok || !reactions_ok || message.rev == 0 || message.seq == 0 {
                    return Err(format!("an impossible change to a message: {message:?}"));
                }
                check_room(&message.room, "message_updated")?;
            }
            ServerEvent::SearchResults { room, messages, .. } => {
                check_room(room, "search_results")?;
                if messages.len() > limits.history_page_max as usize
                    || messages.windows(2).any(|w| w[0].seq <= w[1].seq)
                {
                    return Err(format!("search results too many or not newest first: {messages:?}"));
                }
            }
            ServerEvent::Data(data) => {
                if !parlor_protocol::series::validate_points(&data.points) || names::validate_nick(&data.from).is_err()
                {
                    return Err(format!("live data the server should have refused: {data:?}"));
                }
                check_room(&data.room, "data")?;
            }
            ServerEvent::Joined(joined) => {
                check_sorted(&joined.members, "joined.members")?;
                check_room(&joined.room, "joined")?;
                if let Some(gap) = &joined.gap {
                    if gap.from > gap.to || gap.to > joined.last_seq {
                        return Err(format!("an impossible gap: {joined:?}"));
                    }
                }
            }
            ServerEvent::RoomList { rooms } => {
                let names: Vec<String> = rooms.iter().map(|r| r.room.clone()).collect();
                check_sorted(&names, "room_list")?;
                for room in &names {
                    check_room(room, "room_list")?;
                }
            }
            ServerEvent::Members { room, members } => {
                check_sorted(members, "members")?;
                check_room(room, "members")?;
            }
            ServerEvent::History(page) => {
                check_room(&page.room, "history")?;
                if page.messages.len() > limits.history_page_max as usize
                    || page.messages.windows(2).any(|w| w[0].seq >= w[1].seq)
                {
                    return Err(format!("a history page too long or out of order: {page:?}"));
                }
            }
            ServerEvent::Left { room }
            | ServerEvent::MemberJoined { room, .. }
            | ServerEvent::MemberLeft { room, .. }
            | ServerEvent::Typing { room, .. }
            | ServerEvent::Topic { room, .. }
            | ServerEvent::Hands { room, .. } => check_room(room, "an event")?,
            ServerEvent::CalledOn { .. } => return Err("called on without a moderator".to_owned()),
            ServerEvent::RoomCreated(info) => check_room(&info.room, "room_created")?,
            ServerEvent::Registered { .. } | ServerEvent::LoggedOut { .. } => {}
            ServerEvent::Moderating => return Err("a moderator without the moderator token".to_owned()),
            ServerEvent::Pinned { .. } => return Err("a pin without a moderator".to_owned()),
            ServerEvent::RoomState(state) => return Err(format!("room rules changed without a moderator: {state:?}")),
        }
    }
    if let Some(close) = log.close {
        *seen.entry(format!("close {}", close.map_or("without code".to_owned(), |c| c.to_string()))).or_default() += 1;
        // The server's library answers a client's close frame with the same code.
        let echo = sent.close_code.is_some_and(|code| close == code || matches!(close, Some(1000 | 1002) | None));
        let explained = sent.bad_frames
            || echo
            || match close.and_then(CloseCode::from_u16) {
                Some(CloseCode::MessageTooBig) => sent.hard_oversize,
                Some(CloseCode::InvalidPayload) => sent.invalid_utf8,
                Some(CloseCode::PolicyViolation) => family == Family::Default,
                Some(CloseCode::HelloTimeout) => !welcomed,
                // The raised family's queue (32 KiB) is deliberately smaller than a burst: anyone may overflow it.
                Some(CloseCode::SlowConsumer) => sent.stalled || family == Family::Raised,
                Some(CloseCode::IdleTimeout) => true,
                _ => false,
            };
        if !explained {
            return Err(format!("closed with {close:?}, which nothing this client did explains"));
        }
    }
    Ok(log.texts.len() as u64)
}

// ---------------------------------------------------------------------------------------------------------------
// The harness.
// ---------------------------------------------------------------------------------------------------------------

/// Totals over a run, printed at the end (run with `--nocapture` to see them).
#[derive(Debug, Default)]
struct Stats {
    cases: u64,
    connections: u64,
    frames_sent: u64,
    frames_received: u64,
    http_requests: u64,
    /// How many of each event (errors by code) and close code the actors received: what the cases reached.
    seen: BTreeMap<String, u64>,
}

struct Harness<'a> {
    rt: &'a tokio::runtime::Runtime,
    server: &'a RunningServer,
    family: Family,
    limits: ServerLimits,
    stats: Mutex<Stats>,
    next: AtomicU64,
    failed: std::sync::atomic::AtomicBool,
}

impl Harness<'_> {
    fn run(&self, case: Case) -> Result<(), TestCaseError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let panics_before = panics_so_far().len();
        let outcome = self.rt.block_on(async {
            match timeout(Duration::from_secs(120), self.play(&case, n)).await {
                Ok(result) => result,
                Err(_) => Err("the case hung for two minutes".to_owned()),
            }
        });
        let panics = panics_so_far();
        if panics.len() > panics_before {
            return Err(TestCaseError::fail(format!("the server panicked: {:?}", &panics[panics_before..])));
        }
        if let Err(err) = &outcome {
            // Shrinking replays cases for minutes: say at once what failed first.
            if !self.failed.swap(true, Ordering::Relaxed) {
                eprintln!("fuzz_connection {:?}: case {n} failed, shrinking: {err}\n{case:?}", self.family);
            }
        }
        outcome.map_err(TestCaseError::fail)
    }

    async fn play(&self, case: &Case, n: u64) -> Result<(), String> {
        let mut stats = Stats { cases: 1, ..Stats::default() };
        let http = case.http.clone();
        let server = self.server;
        let raw = async move {
            match &http {
                Some(http) => raw_request(server, http, 3).await,
                None => Ok(0),
            }
        };
        let seed = case.seed.as_ref().and_then(|pick| {
            let sessions: Vec<&Session> = connection_corpus().iter().collect();
            (!sessions.is_empty()).then(|| *pick.get(&sessions))
        });
        let actors = async {
            let count = case.preludes.len().max(seed.map_or(0, Session::actors));
            let mut actors = Vec::new();
            for i in 0..count {
                let mut actor = Actor::open(self.server, 10 + i as u16).await?;
                if let Some((prelude, nick)) = case.preludes.get(i).zip(ACTOR_NICKS.get(i)) {
                    actor.prelude(*prelude, nick, &self.limits).await;
                }
                actors.push(actor);
            }
            for (who, action) in seed.map(|s| s.steps.as_slice()).unwrap_or_default() {
                actors[*who].act(action.clone(), &self.limits).await;
            }
            for (who, action) in &case.steps {
                let actor = who.get_mut(&mut actors[..case.preludes.len()]);
                actor.act(action.clone(), &self.limits).await;
            }
            for actor in &mut actors {
                actor.finish().await?;
            }
            Ok::<_, String>(actors)
        };
        let (http, actors) = tokio::join!(raw, actors);
        stats.http_requests += http?;
        for actor in actors? {
            let log = lock(&actor.log);
            stats.connections += 1;
            stats.frames_sent += actor.sent.frames;
            stats.frames_received += judge(&log, &actor.sent, self.family, &self.limits, &mut stats.seen)
                .map_err(|err| format!("{err}\nconnection log: {log:?}\nsent: {:?}", actor.sent))?;
        }
        probe(self.server, n).await?;
        let mut total = self.stats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        total.cases += stats.cases;
        total.connections += stats.connections + 2;
        total.frames_sent += stats.frames_sent;
        total.frames_received += stats.frames_received;
        total.http_requests += stats.http_requests;
        for (kind, count) in stats.seen {
            *total.seen.entry(kind).or_default() += count;
        }
        Ok(())
    }
}

/// A runtime whose threads the panic watch recognises, a temporary data directory, and a server on them.
fn boot(
    limits: &ServerLimits,
    thread_name: &'static str,
) -> (tokio::runtime::Runtime, tempfile::TempDir, RunningServer) {
    watch_panics();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(thread_name)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut server_config = Config::new(dir.path());
    server_config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    server_config.limits = limits.clone();
    let server = rt.block_on(parlor_server::start(server_config)).expect("the server starts");
    (rt, dir, server)
}

fn run_family(family: Family) {
    let limits = family.limits();
    let (rt, _dir, server) = boot(&limits, family.thread_name());
    let harness = Harness {
        rt: &rt,
        server: &server,
        family,
        limits,
        stats: Mutex::new(Stats::default()),
        next: AtomicU64::new(0),
        failed: Default::default(),
    };
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config(family));
    let result = runner.run(&case(), |case| harness.run(case));
    let elapsed = started.elapsed();
    let stats = harness.stats.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let seconds = elapsed.as_secs_f64().max(1e-9);
    println!(
        "fuzz_connection {family:?}: {} cases, {} connections, {} frames sent, {} received, {} raw HTTP requests \
         in {seconds:.1} s ({:.0} cases/s, {:.0} frames/s)",
        stats.cases,
        stats.connections,
        stats.frames_sent,
        stats.frames_received,
        stats.http_requests,
        stats.cases as f64 / seconds,
        (stats.frames_sent + stats.frames_received) as f64 / seconds,
    );
    println!("fuzz_connection {family:?}: what the cases reached: {:?}", stats.seen);
    rt.block_on(server.shutdown());
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// The state machine with rate limits out of reach, small queues and short timers.
#[test]
fn connection_state_machine_with_raised_limits() {
    run_family(Family::Raised);
}

/// The state machine with the limits a real server has, rate limiter included.
#[test]
fn connection_state_machine_with_default_limits() {
    run_family(Family::Default);
}

// ---------------------------------------------------------------------------------------------------------------
// The connection corpus: sessions kept in the repository, replayed exactly and used as seeds.
// ---------------------------------------------------------------------------------------------------------------

/// One line of a corpus file (`tests/corpus/connection/*.jsonl`): what one actor does.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusLine {
    /// Which connection, from 0.
    actor: usize,
    /// A text frame to send; `#N` in it becomes the repetition number.
    #[serde(default)]
    send: Option<String>,
    /// How many times to send it.
    #[serde(default)]
    times: Option<u32>,
    /// Wait until the server has answered everything this actor sent.
    #[serde(default)]
    sync: bool,
}

/// A corpus session, expanded into actions.
#[derive(Debug)]
struct Session {
    name: String,
    steps: Vec<(usize, Action)>,
}

impl Session {
    fn actors(&self) -> usize {
        self.steps.iter().map(|(actor, _)| actor + 1).max().unwrap_or(0)
    }
}

fn connection_corpus() -> &'static [Session] {
    static CORPUS: std::sync::OnceLock<Vec<Session>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus").join("connection");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()));
        let mut sessions: Vec<Session> = entries
            .map(|entry| {
                let path = entry.expect("a corpus directory entry").path();
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
                let mut steps = Vec::new();
                for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
                    let line: CorpusLine = serde_json::from_str(line)
                        .unwrap_or_else(|err| panic!("{}:{}: {err}", path.display(), number + 1));
                    if let Some(frame) = &line.send {
                        for n in 0..line.times.unwrap_or(1) {
                            steps.push((line.actor, Action::Text(frame.replace("#N", &n.to_string()))));
                        }
                    }
                    if line.sync {
                        steps.push((line.actor, Action::Sync));
                    }
                }
                let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
                Session { name, steps }
            })
            .collect();
        sessions.sort_by(|a, b| a.name.cmp(&b.name));
        sessions
    })
}

/// Replays every corpus session on one server with the default limits. Returns what went wrong, by session.
fn replay_corpus(thread_name: &'static str) -> Vec<String> {
    let family = Family::Default;
    let limits = family.limits();
    let (rt, _dir, server) = boot(&limits, thread_name);
    let mut failures = Vec::new();
    let sessions = connection_corpus();
    assert!(!sessions.is_empty(), "no corpus sessions to replay");
    for (n, session) in sessions.iter().enumerate() {
        let panics_before = panics_so_far().len();
        let outcome = rt.block_on(async {
            let mut actors = Vec::new();
            for i in 0..session.actors() {
                actors.push(Actor::open(&server, 10 + i as u16).await?);
            }
            for (who, action) in &session.steps {
                actors[*who].act(action.clone(), &limits).await;
            }
            let mut seen = BTreeMap::new();
            for (i, actor) in actors.iter_mut().enumerate() {
                actor.finish().await?;
                let log = lock(&actor.log);
                judge(&log, &actor.sent, family, &limits, &mut seen)
                    .map_err(|err| format!("actor {i}: {err}\n  sent: {:?}", actor.sent))?;
            }
            probe(&server, 1_000_000 + n as u64).await
        });
        let panics = panics_so_far();
        if panics.len() > panics_before {
            failures.push(format!("{}: the server panicked: {:?}", session.name, &panics[panics_before..]));
        }
        if let Err(err) = outcome {
            failures.push(format!("{}: {err}", session.name));
        }
    }
    rt.block_on(server.shutdown());
    failures
}

/// Every corpus session replays with every invariant holding.
#[test]
fn connection_corpus_sessions_meet_the_invariants() {
    let failures = replay_corpus("parlor-fuzz-corpus");
    assert!(failures.is_empty(), "corpus sessions failed:\n{}", failures.join("\n"));
}
