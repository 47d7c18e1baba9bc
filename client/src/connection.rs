//! The connection task: connect, greet, serve; on any loss wait (with backoff) and try again, until the application
//! stops the client or the server refuses in a way retrying cannot fix.
//!
//! Generic over the socket (any `Stream + Sink` of WebSocket messages) and over how it is opened, so the unit tests
//! drive the whole state machine through in-memory sockets on a paused clock.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use parlor_protocol::{Auth, ClientMessage, Secret, ServerEvent, Welcome, PROTOCOL_VERSION};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{self, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::backoff::Retry;
use crate::config::ClientConfig;
use crate::event::{ClientEvent, ConnectionState};
use crate::outcome::{closed, connect_failed, describe, refused, Ended};
use crate::session::{Next, Session};
use crate::shared::{kind, Command, Core};
use crate::trust::{PinningVerifier, Trust, Verdict};

/// A real connection to a server.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long opening the TCP connection and the WebSocket upgrade may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may take to answer `hello` (it closes silent connections after 10 s itself).
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write may block before the connection counts as dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often to ping the server, so a dead network is noticed even when the chat is quiet.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Silence after which the connection counts as dead (the server itself pings every 30 s).
const SILENCE_LIMIT: Duration = Duration::from_secs(50);
/// How long a closing handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything the task owns.
#[derive(Debug)]
pub(crate) struct Task {
    /// Where to connect and who to be.
    pub(crate) config: ClientConfig,
    /// `host:port` of the server, for messages people read.
    pub(crate) target: String,
    /// Commands from the handle; closed when the handle is dropped.
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    /// Tracker, outbox and event sender.
    pub(crate) core: Core,
    /// The state the handle reads.
    pub(crate) state: watch::Sender<ConnectionState>,
    /// The server certificate expected and the one last presented.
    pub(crate) trust: Arc<Trust>,
}

/// Opens a real WebSocket connection; for `wss://` the certificate is checked against the pinned fingerprint.
pub(crate) async fn connect(url: String, trust: Arc<Trust>) -> Result<Socket, WsError> {
    let tls = PinningVerifier::new(trust).client_config().map_err(|err| WsError::Tls(err.into()))?;
    let connector = Connector::Rustls(Arc::new(tls));
    let (socket, _response) =
        tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector)).await?;
    Ok(socket)
}

/// Runs the client until it is stopped or refused for good.
pub(crate) async fn run<C, F, S>(mut task: Task, mut connect: C)
where
    C: FnMut(String) -> F,
    F: Future<Output = Result<S, WsError>>,
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    let mut retry = Retry::new(task.config.backoff.clone());
    let mut greeted = false;
    loop {
        let reason = match task.connection(&mut connect, &mut retry, &mut greeted).await {
            Ended::Stopped => break,
            Ended::Final(reason) => {
                tracing::warn!(%reason, "giving up");
                return task.set_state(ConnectionState::Offline { reason });
            }
            Ended::Untrusted { expected, presented } => {
                let reason = format!(
                    "the server at {} presented a different certificate than the one trusted before. If the host \
                     made a new one, compare its fingerprint with them before trusting it; otherwise someone on the \
                     network may be pretending to be the server.",
                    task.target
                );
                tracing::warn!(expected = %expected, presented = %presented, "server certificate changed; not connecting");
                let (expected, presented) = (expected.grouped(), presented.grouped());
                return task.set_state(ConnectionState::Untrusted { reason, expected, presented });
            }
            Ended::Lost(reason) => reason,
        };
        let (attempt, wait) = retry.next_delay();
        let retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(attempt, retry_in_ms, %reason, "not connected; retrying");
        task.set_state(ConnectionState::Reconnecting { attempt, retry_in_ms, reason });
        if task.idle(time::sleep(wait)).await.is_none() {
            break;
        }
    }
    tracing::info!("stopped");
    task.set_state(ConnectionState::Offline { reason: "disconnected".into() });
}

impl Task {
    /// One attempt: connect, greet, and serve until the connection ends.
    async fn connection<C, F, S>(&mut self, connect: &mut C, retry: &mut Retry, greeted: &mut bool) -> Ended
    where
        C: FnMut(String) -> F,
        F: Future<Output = Result<S, WsError>>,
        S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
    {
        let first = !*greeted;
        let target = self.target.clone();
        tracing::debug!(url = %self.config.url, "connecting");
        let mut ws = match self.idle(time::timeout(CONNECT_TIMEOUT, connect(self.config.url.clone()))).await {
            None => return Ended::Stopped,
            Some(Err(_)) => {
                return Ended::Lost(format!("cannot reach {target}: no answer within {} s", CONNECT_TIMEOUT.as_secs()))
            }
            Some(Ok(Err(err))) => {
                if let Verdict::Changed { expected, presented } = self.trust.verdict() {
                    return Ended::Untrusted { expected, presented };
                }
                return connect_failed(&target, err, first);
            }
            Some(Ok(Ok(ws))) => ws,
        };
        let hello = ClientMessage::Hello {
            protocol: PROTOCOL_VERSION,
            nick: self.config.nick.clone(),
            client: Some(self.config.client_name.clone()),
            password: self.config.password.as_ref().map(|p| Secret::new(p.expose())),
            auth: self.auth(),
        };
        let welcome = match self.idle(time::timeout(HELLO_TIMEOUT, handshake(&mut ws, &hello, &target, first))).await {
            None => {
                goodbye(&mut ws).await;
                return Ended::Stopped;
            }
            Some(Err(_)) => {
                return Ended::Lost(format!("{target} did not answer hello within {} s", HELLO_TIMEOUT.as_secs()))
            }
            Some(Ok(Err(ended))) => {
                // After a refused hello the server keeps the socket open for another try: say goodbye.
                goodbye(&mut ws).await;
                return ended;
            }
            Some(Ok(Ok(welcome))) => welcome,
        };
        *greeted = true;
        retry.reset();
        self.trust.confirm();
        if let Some(token) = &welcome.session_token {
            self.signed_in(token);
        }
        tracing::info!(server = %welcome.server, nick = %welcome.nick, "online");
        self.core.forward(ServerEvent::Welcome(welcome.clone()));
        self.set_state(ConnectionState::Online);
        let moderator_token = self.config.moderator_token.as_ref().map(|token| Secret::new(token.expose()));
        let session = Session::start(&mut self.core, &welcome, moderator_token, Instant::now());
        self.serve(&mut ws, session).await
    }

    /// What `hello` says about the nickname: the session token once there is one (the account password is only
    /// sent until a token replaces it), and the device key.
    fn auth(&self) -> Option<Auth> {
        let secret = |p: &Option<crate::config::Password>| p.as_ref().map(|p| Secret::new(p.expose()));
        let auth = Auth {
            password: secret(&self.config.account_password),
            token: secret(&self.config.session_token),
            device: self.config.device_key.as_ref().map(|key| Secret::new(device_key_for(key.expose(), &self.target))),
        };
        (auth != Auth::default()).then_some(auth)
    }

    /// Keeps a new session token for the next connections and forgets the account password.
    fn signed_in(&mut self, token: &Secret) {
        self.config.session_token = crate::config::Password::new(token.expose());
        self.config.account_password = None;
    }

    fn on_account_event(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::Registered { token, .. } => self.signed_in(token),
            ServerEvent::LoggedOut { .. } => self.config.session_token = None,
            _ => {}
        }
    }

    /// Serves a greeted connection: writes what the session hands out, reads events, keeps the line alive.
    async fn serve<S>(&mut self, ws: &mut S, mut session: Session) -> Ended
    where
        S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
    {
        let mut last_heard = Instant::now();
        let mut keepalive = time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            let wait = match write_ready(ws, &mut session, &self.target).await {
                Ok(wait) => wait,
                Err(ended) => return ended,
            };
            let retry_at = session.retry_at();
            let later = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Shutdown) => {
                        goodbye(ws).await;
                        return Ended::Stopped;
                    }
                    Some(command) => session.on_command(&mut self.core, command),
                },
                item = ws.next() => {
                    last_heard = Instant::now();
                    match read(item, &self.target) {
                        Read::Event(event) => {
                            self.on_account_event(&event);
                            session.on_event(&mut self.core, *event, Instant::now());
                        }
                        Read::Nothing => {}
                        Read::Ended(ended) => {
                            finish(ws).await;
                            return ended;
                        }
                    }
                }
                () = time::sleep_until(wait.unwrap_or(later)), if wait.is_some() => {}
                () = time::sleep_until(retry_at.unwrap_or(later)), if retry_at.is_some() => {
                    session.retry(&mut self.core);
                }
                _ = keepalive.tick() => {
                    if last_heard.elapsed() >= SILENCE_LIMIT {
                        let silence = SILENCE_LIMIT.as_secs();
                        return Ended::Lost(format!("no sign of life from {} for {silence} s", self.target));
                    }
                    if let Err(reason) = write(ws, Message::Ping(Default::default())).await {
                        return Ended::Lost(format!("the connection to {} was lost: {reason}", self.target));
                    }
                }
            }
        }
    }

    /// Waits for `future` while no connection is being served: commands are still taken (joins and leaves shape
    /// the next connection). `None` means the application asked to stop.
    async fn idle<F: Future>(&mut self, future: F) -> Option<F::Output> {
        tokio::pin!(future);
        loop {
            tokio::select! {
                output = &mut future => return Some(output),
                command = self.commands.recv() => match command {
                    None | Some(Command::Shutdown) => return None,
                    Some(command) => self.core.offline(command),
                },
            }
        }
    }

    /// Publishes a new state to the handle and the application (only when it changed).
    fn set_state(&self, state: ConnectionState) {
        let changed = self.state.send_if_modified(|current| {
            let changed = *current != state;
            if changed {
                *current = state.clone();
            }
            changed
        });
        if changed {
            self.core.emit(ClientEvent::State(state));
        }
    }
}

/// The key this device shows one server: derived from the device's secret and the server's address, so a host
/// (or an impostor) that sees it cannot replay it to another server to take this student's nicknames there.
fn device_key_for(device_secret: &str, server: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(device_secret).chain_update([0u8]).chain_update(server).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends `hello` and waits for `welcome`.
async fn handshake<S>(ws: &mut S, hello: &ClientMessage, target: &str, first: bool) -> Result<Welcome, Ended>
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    if let Err(reason) = write(ws, encode(hello)).await {
        return Err(Ended::Lost(format!("the connection to {target} was lost: {reason}")));
    }
    loop {
        match read(ws.next().await, target) {
            Read::Event(event) => match *event {
                ServerEvent::Welcome(welcome) => return Ok(welcome),
                ServerEvent::Error(error) => return Err(refused(error, first)),
                _ => {}
            },
            Read::Nothing => {}
            Read::Ended(ended) => return Err(ended),
        }
    }
}

/// One item read from the socket, interpreted. The event is boxed: a message with a poll is large.
enum Read {
    Event(Box<ServerEvent>),
    Nothing,
    Ended(Ended),
}

fn read(item: Option<Result<Message, WsError>>, target: &str) -> Read {
    match item {
        None => Read::Ended(Ended::Lost(format!("the connection to {target} was lost"))),
        Some(Err(err)) => Read::Ended(Ended::Lost(format!("the connection to {target} was lost: {}", describe(&err)))),
        Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
            Ok(event) => Read::Event(Box::new(event)),
            Err(err) => {
                // Newer servers may send event types this client does not know; the protocol says to ignore them.
                tracing::debug!(%err, "ignoring an event this client cannot read");
                Read::Nothing
            }
        },
        Some(Ok(Message::Close(frame))) => Read::Ended(closed(frame)),
        Some(Ok(_)) => Read::Nothing,
    }
}

/// Writes every frame the pacer allows now; returns when the next is due, if one is waiting.
async fn write_ready<S>(ws: &mut S, session: &mut Session, target: &str) -> Result<Option<Instant>, Ended>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    loop {
        match session.next(Instant::now()) {
            Next::Idle => return Ok(None),
            Next::Wait(at) => return Ok(Some(at)),
            Next::Send(frame) => {
                tracing::trace!(kind = kind(&frame), "sending");
                if let Err(reason) = write(ws, encode(&frame)).await {
                    return Err(Ended::Lost(format!("the connection to {target} was lost: {reason}")));
                }
            }
        }
    }
}

fn encode(frame: &ClientMessage) -> Message {
    // Serialising these plain structs cannot fail; an empty frame would only be answered with bad_json.
    Message::text(serde_json::to_string(frame).unwrap_or_default())
}

async fn write<S>(ws: &mut S, message: Message) -> Result<(), String>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    match time::timeout(WRITE_TIMEOUT, ws.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(describe(&err)),
        Err(_) => Err("the server stopped reading".into()),
    }
}

/// Closes with 1000 and waits (briefly) for the server's answer, so it sees a clean goodbye rather than a drop.
async fn goodbye<S>(ws: &mut S)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    let frame = CloseFrame { code: WsCloseCode::Normal, reason: "goodbye".into() };
    if write(ws, Message::Close(Some(frame))).await.is_ok() {
        finish(ws).await;
    }
}

/// Reads until the socket ends, which also sends the automatic answer to a close from the server.
async fn finish<S>(ws: &mut S)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let _ = time::timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = ws.next().await {} }).await;
}

#[cfg(test)]
mod tests;
