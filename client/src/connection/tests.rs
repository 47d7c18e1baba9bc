//! The connection state machine over in-memory sockets, on a paused clock: no network, no real waiting.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use parlor_protocol::{ErrorCode, ErrorEvent, Joined};

use super::*;
use crate::backoff::Backoff;
use crate::outbox::Outbox;
use crate::tracker::Tracker;

/// The client's end of an in-memory WebSocket.
struct FakeSocket {
    incoming: mpsc::UnboundedReceiver<Message>,
    sent: mpsc::UnboundedSender<Message>,
}

impl Stream for FakeSocket {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_recv(cx).map(|message| message.map(Ok))
    }
}

impl Sink<Message> for FakeSocket {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), WsError> {
        self.sent.send(message).map_err(|_| WsError::AlreadyClosed)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }
}

/// The server's end: what it will say, and what it heard.
struct FakeServer {
    say: Option<mpsc::UnboundedSender<Message>>,
    heard: mpsc::UnboundedReceiver<Message>,
}

impl FakeServer {
    /// The next request the client sent (skipping pings), or `None` for a close frame.
    async fn next_request(&mut self) -> Option<ClientMessage> {
        loop {
            match self.heard.recv().await.expect("the client is connected") {
                Message::Text(text) => return Some(serde_json::from_str(text.as_str()).expect("a valid request")),
                Message::Close(frame) => {
                    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
                    return None;
                }
                _ => {}
            }
        }
    }
}

/// A socket whose server has already said `script`; with `hang_up`, the stream ends after it.
fn socket(script: &[Message], hang_up: bool) -> (FakeSocket, FakeServer) {
    let (say, incoming) = mpsc::unbounded_channel();
    let (sent, heard) = mpsc::unbounded_channel();
    for message in script {
        say.send(message.clone()).expect("open");
    }
    let say = (!hang_up).then_some(say);
    (FakeSocket { incoming, sent }, FakeServer { say, heard })
}

fn event(event: &ServerEvent) -> Message {
    Message::text(serde_json::to_string(event).expect("encode"))
}

fn welcome() -> Message {
    event(&ServerEvent::Welcome(Welcome {
        protocol: 1,
        server: "fake".into(),
        nick: "ana".into(),
        limits: crate::config::default_limits(),
        rooms: vec![],
        dms: vec![],
        identity: parlor_protocol::IdentityKind::Guest,
        session_token: None,
    }))
}

fn refusal(code: ErrorCode, message: &str) -> Message {
    event(&ServerEvent::Error(ErrorEvent::new(code, message)))
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code: WsCloseCode::from(code), reason: reason.into() }))
}

/// A running task whose connection attempts take the planned sockets in turn, then are refused.
struct Harness {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<ClientEvent>,
    attempts: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn start(plan: Vec<FakeSocket>) -> Self {
        Self::start_in(plan, &[])
    }

    /// Starts with `rooms` already joined, as if the user joined them before the first connection.
    fn start_in(plan: Vec<FakeSocket>, rooms: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = ClientConfig::new("ws://fake/ws", "ana", dir.path());
        config.password = crate::config::Password::new("s3cret");
        config.backoff = Backoff { jitter: 0.0, ..Backoff::default() };
        let outbox = Outbox::open(dir.path(), &config.url, &config.nick).expect("outbox");
        let (events_tx, events) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let mut core = Core {
            tracker: Tracker::default(),
            outbox: Arc::new(Mutex::new(outbox)),
            limits: Arc::new(Mutex::new(crate::config::default_limits())),
            events: events_tx,
        };
        for room in rooms {
            core.offline(Command::Join((*room).to_owned(), None));
        }
        let (state, _) = watch::channel(ConnectionState::Connecting);
        let trust = crate::trust::Trust::new(dir.path(), "fake:80", None);
        let task = Task { config, target: "fake:80".into(), commands: commands_rx, core, state, trust };
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let mut plan = VecDeque::from(plan);
        let log = attempts.clone();
        let connect = move |_url: String| {
            log.lock().expect("lock").push(Instant::now());
            let next = plan.pop_front();
            async move { next.ok_or_else(|| WsError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))) }
        };
        let task = tokio::spawn(run(task, connect));
        Self { commands, events, attempts, task, _dir: dir }
    }

    async fn next_state(&mut self) -> ConnectionState {
        loop {
            if let ClientEvent::State(state) = self.events.recv().await.expect("the task is running") {
                return state;
            }
        }
    }

    fn attempts(&self) -> usize {
        self.attempts.lock().expect("lock").len()
    }

    fn gaps_ms(&self) -> Vec<u128> {
        let attempts = self.attempts.lock().expect("lock");
        attempts.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
    }
}

fn reconnecting(attempt: u32, retry_in_ms: u64, reason: &str) -> ConnectionState {
    ConnectionState::Reconnecting { attempt, retry_in_ms, reason: reason.into() }
}

#[tokio::test(start_paused = true)]
async fn refused_connections_are_retried_with_growing_waits() {
    let mut h = Harness::start(vec![]);
    let refused = "cannot reach fake:80: connection refused";
    assert_eq!(h.next_state().await, reconnecting(1, 500, refused));
    assert_eq!(h.attempts(), 1);
    tokio::time::advance(Duration::from_millis(499)).await;
    tokio::task::yield_now().await;
    assert_eq!(h.attempts(), 1, "not before the wait is over");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(h.next_state().await, reconnecting(2, 1000, refused));
    assert_eq!(h.next_state().await, reconnecting(3, 2000, refused));
    assert_eq!(h.next_state().await, reconnecting(4, 4000, refused));
    assert_eq!(h.gaps_ms(), [500, 1000, 2000]);
    // Stopping interrupts the wait at once.
    let before = Instant::now();
    h.commands.send(Command::Shutdown).expect("running");
    assert_eq!(h.next_state().await, ConnectionState::Offline { reason: "disconnected".into() });
    h.task.await.expect("the task ends");
    assert_eq!(Instant::now(), before);
}

#[tokio::test(start_paused = true)]
async fn a_taken_nickname_on_the_first_connection_is_final() {
    let message = "the nickname \"ana\" is in use by someone online; choose another";
    let (socket, mut server) = socket(&[refusal(ErrorCode::NickTaken, message)], false);
    let mut h = Harness::start(vec![socket]);
    assert_eq!(h.next_state().await, ConnectionState::Offline { reason: message.into() });
    h.task.await.expect("the task ends");
    let hello = server.next_request().await;
    let Some(ClientMessage::Hello { protocol: 1, nick, password, .. }) = hello else { panic!("{hello:?}") };
    assert_eq!((nick.as_str(), password.as_ref().map(parlor_protocol::Secret::expose)), ("ana", Some("s3cret")));
}

#[tokio::test(start_paused = true)]
async fn client_bugs_reported_by_close_codes_are_final() {
    let (socket, _server) = socket(&[welcome(), close(1008, "too many requests")], true);
    let mut h = Harness::start(vec![socket]);
    assert_eq!(h.next_state().await, ConnectionState::Online);
    let ConnectionState::Offline { reason } = h.next_state().await else { panic!("expected offline") };
    assert!(reason.contains("too many requests"), "{reason}");
}

#[tokio::test(start_paused = true)]
async fn reconnects_resume_rooms_and_retry_a_taken_nickname() {
    let lobby = ServerEvent::Joined(Joined {
        room: "lobby".into(),
        topic: String::new(),
        members: vec!["ana".into()],
        last_seq: 2,
        gap: None,
        last_rev: 3,
        updates_dropped: false,
    });
    let (first, mut first_server) = socket(&[welcome(), event(&lobby), close(1001, "server is shutting down")], true);
    let (second, _second_server) = socket(&[refusal(ErrorCode::NickTaken, "in use")], true);
    let (third, mut third_server) = socket(&[welcome()], false);
    let mut h = Harness::start_in(vec![first, second, third], &["lobby"]);

    assert_eq!(h.next_state().await, ConnectionState::Online);
    assert_eq!(h.next_state().await, reconnecting(1, 500, "the server closed the connection: server is shutting down"));
    let waiting = "waiting for the server to let go of the previous connection: in use";
    assert_eq!(h.next_state().await, reconnecting(2, 1000, waiting), "not final after a reconnect");
    assert_eq!(h.next_state().await, ConnectionState::Online);

    assert!(matches!(first_server.next_request().await, Some(ClientMessage::Hello { .. })));
    assert_eq!(
        first_server.next_request().await,
        Some(ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None })
    );
    assert!(matches!(third_server.next_request().await, Some(ClientMessage::Hello { .. })));
    assert_eq!(
        third_server.next_request().await,
        Some(ClientMessage::Join { room: "lobby".into(), after: Some(2), after_rev: Some(3), password: None })
    );

    // The backoff starts over after a welcome.
    third_server.say.take();
    let ConnectionState::Reconnecting { attempt: 1, retry_in_ms: 500, .. } = h.next_state().await else {
        panic!("expected a first, short retry")
    };
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_with_1000() {
    let (socket, mut server) = socket(&[welcome()], false);
    let mut h = Harness::start(vec![socket]);
    assert_eq!(h.next_state().await, ConnectionState::Online);
    assert!(matches!(server.next_request().await, Some(ClientMessage::Hello { .. })));
    h.commands.send(Command::Shutdown).expect("running");
    assert_eq!(server.next_request().await, None, "a close frame with 1000");
    server.say.take();
    assert_eq!(h.next_state().await, ConnectionState::Offline { reason: "disconnected".into() });
    h.task.await.expect("the task ends");
}
