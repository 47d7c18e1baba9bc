//! A table of bad input (`tests/corpus/bad-input.json`) run against one real server: every entry gets exactly the
//! documented answer — an error code after which the connection still works (a ping, then a chat message), or a
//! close code — and every mismatch is reported, not just the first.

use std::fmt;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::util::TestServer;

/// How long an entry waits for an answer before counting as silent.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// Where `<FILL>` in a template is replaced by generated text.
const FILL: &str = "<FILL>";
/// Events caused by other connections, skipped while waiting for an answer.
const NOISE: &[&str] =
    &["member_joined", "member_left", "typing", "message", "room_created", "topic", "data", "message_updated"];

#[derive(Debug, Deserialize)]
struct Corpus {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    phase: Phase,
    send: Payload,
    expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// On a fresh connection, as its first frame.
    BeforeHello,
    /// After `hello` and `join lobby`.
    AfterHello,
}

/// What to send; `<FILL>` in a template is replaced as the variant says.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Payload {
    /// A text frame, as is.
    Text(String),
    /// A text frame holding these bytes (hex), which need not be UTF-8.
    TextHex(String),
    /// A binary frame holding these bytes (hex).
    BinaryHex(String),
    /// `unit` repeated `count` times.
    Repeat { template: String, unit: String, count: usize },
    /// `unit` repeated until the whole frame is exactly `bytes` long.
    Sized { template: String, unit: String, bytes: usize },
    /// `open` `depth` times, then `close` `depth` times.
    Nested { template: String, open: String, close: String, depth: usize },
    /// A `Sized` text split into `pieces` WebSocket fragments (one message).
    Fragmented { template: String, unit: String, bytes: usize, pieces: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    /// An `error` event with this code, and the connection stays usable.
    Error(String),
    /// The server closes the connection with this code.
    Close(u16),
    /// Accepted: the answer is an event of this `type`, and the connection stays usable.
    Reply(String),
}

/// What the server did after the entry was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Error(String),
    Close(Option<u16>),
    Reply(String),
    /// The connection ended without a close frame.
    Dropped,
    Silent,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(code) => write!(f, "error {code}"),
            Self::Close(code) => write!(f, "close {code:?}"),
            Self::Reply(kind) => write!(f, "reply {kind}"),
            Self::Dropped => f.write_str("connection dropped without a close frame"),
            Self::Silent => write!(f, "no answer within {ANSWER_WAIT:?}"),
        }
    }
}

impl Expect {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Error(code) => Outcome::Error(code.clone()),
            Self::Close(code) => Outcome::Close(Some(*code)),
            Self::Reply(kind) => Outcome::Reply(kind.clone()),
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn fill(template: &str, with: &str) -> String {
    assert!(template.contains(FILL), "the template {template:?} has no {FILL}");
    template.replacen(FILL, with, 1)
}

/// `template` with `unit` repeated so that the result is exactly `bytes` long.
fn sized(template: &str, unit: &str, bytes: usize) -> String {
    let room = bytes.checked_sub(template.len() - FILL.len()).expect("the template fits");
    assert_eq!(room % unit.len(), 0, "{unit:?} divides the room left");
    fill(template, &unit.repeat(room / unit.len()))
}

impl Payload {
    fn frames(&self) -> Vec<Message> {
        let text = |text: String| vec![Message::text(text)];
        match self {
            Self::Text(frame) => text(frame.clone()),
            Self::TextHex(bytes) => vec![Message::Frame(Frame::message(hex(bytes), OpCode::Data(Data::Text), true))],
            Self::BinaryHex(bytes) => vec![Message::binary(hex(bytes))],
            Self::Repeat { template, unit, count } => text(fill(template, &unit.repeat(*count))),
            Self::Sized { template, unit, bytes } => text(sized(template, unit, *bytes)),
            Self::Nested { template, open, close, depth } => {
                text(fill(template, &format!("{}{}", open.repeat(*depth), close.repeat(*depth))))
            }
            Self::Fragmented { template, unit, bytes, pieces } => {
                let whole = sized(template, unit, *bytes).into_bytes();
                let chunks: Vec<&[u8]> = whole.chunks(whole.len().div_ceil(*pieces)).collect();
                let last = chunks.len() - 1;
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, chunk)| {
                        let opcode = if i == 0 { Data::Text } else { Data::Continue };
                        Message::Frame(Frame::message(chunk.to_vec(), OpCode::Data(opcode), i == last))
                    })
                    .collect()
            }
        }
    }
}

/// A raw connection that reports what happened instead of failing the test.
struct Probe {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Probe {
    async fn connect(url: &str) -> Result<Self, String> {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| format!("cannot connect: {e}"))?;
        Ok(Self { ws })
    }

    async fn send(&mut self, frame: Message) -> Result<(), String> {
        self.ws.send(frame).await.map_err(|e| format!("cannot send: {e}"))
    }

    async fn send_json(&mut self, value: serde_json::Value) -> Result<(), String> {
        self.send(Message::text(value.to_string())).await
    }

    /// The next answer, skipping events caused by other connections.
    async fn answer(&mut self) -> Outcome {
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        loop {
            let Ok(frame) = tokio::time::timeout_at(deadline, self.ws.next()).await else { return Outcome::Silent };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => return Outcome::Close(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Outcome::Dropped,
            };
            let event: serde_json::Value = serde_json::from_str(&text).expect("the server sends JSON");
            let kind = event["type"].as_str().unwrap_or_default().to_owned();
            match kind.as_str() {
                "error" => {
                    let code = event["code"].as_str().unwrap_or_default();
                    // Every error carries a sentence for people beside its code.
                    let worded = event["message"].as_str().is_some_and(|m| !m.is_empty());
                    return Outcome::Error(if worded { code.to_owned() } else { format!("{code} without a message") });
                }
                noise if NOISE.contains(&noise) => continue,
                _ => return Outcome::Reply(kind),
            }
        }
    }

    /// Sends `request` and checks that the answer is a `kind` event.
    async fn expect_reply(&mut self, request: serde_json::Value, kind: &str) -> Result<(), String> {
        self.send_json(request.clone()).await?;
        match self.answer().await {
            Outcome::Reply(got) if got == kind => Ok(()),
            other => Err(format!("{request} got {other}, not {kind}")),
        }
    }

    async fn hello(&mut self, nick: &str) -> Result<(), String> {
        self.expect_reply(serde_json::json!({"type": "hello", "protocol": 1, "nick": nick}), "welcome").await
    }

    async fn join_lobby(&mut self) -> Result<(), String> {
        self.expect_reply(serde_json::json!({"type": "join", "room": "lobby"}), "joined").await
    }
}

/// Runs one entry on a fresh connection; `Err` says how the server's behaviour differed from the expectation.
async fn run(url: &str, index: usize, entry: &Entry) -> Result<(), String> {
    let nick = format!("corpus{index}");
    let mut probe = Probe::connect(url).await?;
    if entry.phase == Phase::AfterHello {
        probe.hello(&nick).await.map_err(|e| format!("setup: {e}"))?;
        probe.join_lobby().await.map_err(|e| format!("setup: {e}"))?;
    }
    // A frame the server closes on may fail to be written in full; its answer is still there to read.
    let mut write_failed = None;
    for frame in entry.send.frames() {
        if let Err(err) = probe.send(frame).await {
            write_failed = Some(err);
            break;
        }
    }
    let got = probe.answer().await;
    if got != entry.expect.outcome() {
        let during = write_failed.map(|err| format!(" (after the write failed: {err})")).unwrap_or_default();
        return Err(format!("got {got}, expected {}{during}", entry.expect.outcome()));
    }
    if let Expect::Close(_) = entry.expect {
        return Ok(());
    }
    // Still alive: a ping is answered, and a normal message goes through.
    let survive = |e: String| format!("answered as expected, but then: {e}");
    probe.expect_reply(serde_json::json!({"type": "ping", "nonce": "alive?"}), "pong").await.map_err(survive)?;
    let greeted = entry.phase == Phase::AfterHello || entry.expect == Expect::Reply("welcome".into());
    if !greeted {
        probe.hello(&nick).await.map_err(survive)?;
    }
    probe.join_lobby().await.map_err(survive)?;
    let send = serde_json::json!({"type": "send", "room": "lobby", "text": "still here", "client_id": nick});
    probe.expect_reply(send, "ack").await.map_err(survive)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_documented_answer() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/bad-input.json");
    let corpus: Corpus =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the corpus")).expect("valid corpus");
    let server = TestServer::start().await;
    let url = server.url();
    let mut failures = Vec::new();
    for (index, entry) in corpus.entries.iter().enumerate() {
        match run(&url, index, entry).await {
            Ok(()) => println!("ok   {}", entry.name),
            Err(why) => {
                println!("FAIL {}: {why}", entry.name);
                failures.push(format!("{}: {why}", entry.name));
            }
        }
    }
    // The server survived the whole corpus.
    let mut last = Probe::connect(&url).await.expect("the server still accepts connections");
    last.hello("after-corpus").await.expect("and still greets");
    assert!(
        failures.is_empty(),
        "{} of {} entries failed:\n{}",
        failures.len(),
        corpus.entries.len(),
        failures.join("\n")
    );
}
