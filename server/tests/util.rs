//! Helpers shared by the integration tests: a server in a temporary directory and a protocol client.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parlor_protocol::{ClientMessage, ErrorCode, Joined, ServerEvent, Welcome};
use parlor_server::{Config, RunningServer, ServerLimits, ServerPassword};
use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an event that should come.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running server and the directory holding its data.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: TempDir,
    pub limits: ServerLimits,
    pub password: Option<ServerPassword>,
    /// Applied to every configuration this server boots with (TLS, origins, …).
    pub configure: fn(&mut Config),
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_limits(ServerLimits::default()).await
    }

    pub async fn with_limits(limits: ServerLimits) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let server = boot(&dir, &limits, None, 0, |_| {}).await;
        Self { server: Some(server), dir, limits, password: None, configure: |_| {} }
    }

    /// A server whose configuration `configure` adjusts, at every (re)start.
    pub async fn with_config(configure: fn(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let limits = ServerLimits::default();
        let server = boot(&dir, &limits, None, 0, configure).await;
        Self { server: Some(server), dir, limits, password: None, configure }
    }

    pub async fn with_password(password: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let password = ServerPassword::new(password);
        let limits = ServerLimits::default();
        let server = boot(&dir, &limits, password.clone(), 0, |_| {}).await;
        Self { server: Some(server), dir, limits, password, configure: |_| {} }
    }

    /// The running server.
    pub fn running(&self) -> &RunningServer {
        self.server.as_ref().expect("the server is running")
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().expect("server running").local_addr()
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr())
    }

    /// Stops the server and starts a new one on the same data directory and port.
    pub async fn restart(&mut self) {
        let port = self.addr().port();
        self.stop().await;
        self.server = Some(boot(&self.dir, &self.limits, self.password.clone(), port, self.configure).await);
    }

    /// Starts a server again after [`Self::stop`], on the same data directory (a new port).
    pub async fn restart_stopped(&mut self) {
        assert!(self.server.is_none(), "stop the server first");
        self.server = Some(boot(&self.dir, &self.limits, self.password.clone(), 0, self.configure).await);
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    pub async fn client(&self, nick: &str) -> Client {
        let mut client = Client::connect(&self.url()).await;
        client.hello(nick).await;
        client
    }

    /// The moderator token the server wrote to its data directory (what the host has).
    pub fn moderator_token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(parlor_server::MODERATOR_TOKEN_FILE))
            .expect("the server made its token")
    }

    /// A client that became a moderator with the token.
    pub async fn moderator(&self, nick: &str) -> Client {
        let mut client = self.client(nick).await;
        client.send(&ClientMessage::Moderate { token: self.moderator_token().into() }).await;
        client
            .recv_until(|e| match e {
                ServerEvent::Moderating => Some(()),
                ServerEvent::Error(err) => panic!("moderate refused: {err:?}"),
                _ => None,
            })
            .await;
        client
    }
}

async fn boot(
    dir: &TempDir,
    limits: &ServerLimits,
    password: Option<ServerPassword>,
    port: u16,
    configure: fn(&mut Config),
) -> RunningServer {
    let mut config = Config::new(dir.path());
    config.password = password;
    config.bind = SocketAddr::from(([127, 0, 0, 1], port));
    config.limits = limits.clone();
    // Tests run many servers at once: each answers join codes on a port of its own.
    config.discovery_port = Some(0);
    configure(&mut config);
    parlor_server::start(config).await.expect("server starts")
}

/// A protocol client over a real WebSocket (by default over TCP; any byte stream for in-process connections).
pub struct Client<S = MaybeTlsStream<TcpStream>> {
    pub ws: WebSocketStream<S>,
}

/// Client ids unique across every client of the test process, as real clients' UUIDs are.
static NEXT_CLIENT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
        Self { ws }
    }

    /// Connects with a tiny socket receive buffer, so a client that stops reading fills up quickly.
    pub async fn connect_small_buffer(addr: SocketAddr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("buffer size");
        let stream = socket.connect(addr).await.expect("connect");
        let url = format!("ws://{addr}/ws");
        let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream)).await.expect("handshake");
        Self { ws }
    }
}

/// A connection served in-process by [`RunningServer::serve_stream`], as if it came from `peer` (another computer).
pub async fn client_from(server: &RunningServer, peer: SocketAddr) -> Client<DuplexStream> {
    try_client_from(server, peer).await.expect("handshake")
}

/// [`client_from`], returning a refused handshake as its error text.
pub async fn try_client_from(server: &RunningServer, peer: SocketAddr) -> Result<Client<DuplexStream>, String> {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    server.serve_stream(theirs, peer);
    let (ws, _) = tokio_tungstenite::client_async("ws://parlor.test/ws", ours).await.map_err(|e| e.to_string())?;
    Ok(Client { ws })
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub async fn send(&mut self, message: &ClientMessage) {
        let json = serde_json::to_string(message).expect("encode");
        self.send_raw(&json).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// Sends, returning `false` instead of failing when the connection is gone (for tests that kill the server).
    pub async fn try_send(&mut self, message: &ClientMessage) -> bool {
        let json = serde_json::to_string(message).expect("encode");
        self.ws.send(Message::text(json)).await.is_ok()
    }

    /// The next event, or `None` once the connection has ended; fails the test after [`WAIT`] of silence.
    pub async fn try_recv(&mut self) -> Option<ServerEvent> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next()).await.expect("an event in time");
            match frame {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).expect("a valid event")),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next event, failing the test after [`WAIT`].
    pub async fn recv(&mut self) -> ServerEvent {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next()).await.expect("an event in time");
            match frame.expect("connection open").expect("frame") {
                Message::Text(text) => return serde_json::from_str(&text).expect("a valid event"),
                Message::Close(frame) => panic!("connection closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Skips events until one matches, returning it.
    pub async fn recv_until<T>(&mut self, mut pick: impl FnMut(ServerEvent) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            assert!(tokio::time::Instant::now() < deadline, "the expected event did not come");
            if let Some(found) = pick(self.recv().await) {
                return found;
            }
        }
    }

    /// Asserts that nothing matching arrives within `window`, returning what else came.
    pub async fn expect_none(&mut self, window: Duration, mut bad: impl FnMut(&ServerEvent) -> bool) {
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if let Some(Ok(Message::Text(text))) = frame {
                let event: ServerEvent = serde_json::from_str(&text).expect("a valid event");
                assert!(!bad(&event), "unexpected event: {event:?}");
            } else {
                break;
            }
        }
    }

    pub async fn hello(&mut self, nick: &str) -> Welcome {
        self.send(&ClientMessage::Hello {
            protocol: 1,
            nick: nick.into(),
            client: Some("tests".into()),
            password: None,
            auth: None,
        })
        .await;
        match self.recv().await {
            ServerEvent::Welcome(welcome) => welcome,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn join(&mut self, room: &str, after: Option<u64>) -> Joined {
        self.send(&ClientMessage::Join { room: room.into(), after, after_rev: None, password: None }).await;
        self.recv_until(|e| match e {
            ServerEvent::Joined(joined) => Some(joined),
            ServerEvent::Error(err) => panic!("join refused: {err:?}"),
            _ => None,
        })
        .await
    }

    /// A fresh client id.
    pub fn client_id(&mut self) -> String {
        let n = NEXT_CLIENT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("test-{}-{n}", std::process::id())
    }

    /// Sends a message and waits for its ack, returning the seq.
    pub async fn say(&mut self, room: &str, text: &str) -> u64 {
        let client_id = self.client_id();
        self.say_with_id(room, text, &client_id).await.seq
    }

    pub async fn say_with_id(&mut self, room: &str, text: &str, client_id: &str) -> parlor_protocol::Ack {
        let send = ClientMessage::Send {
            room: room.into(),
            text: text.into(),
            client_id: client_id.into(),
            poll: None,
            reply_to: None,
            announce: false,
        };
        self.send(&send).await;
        let id = client_id.to_owned();
        self.recv_until(|e| match e {
            ServerEvent::Ack(ack) if ack.client_id == id => Some(ack),
            ServerEvent::Error(err) if err.client_id.as_deref() == Some(&id) => panic!("send refused: {err:?}"),
            _ => None,
        })
        .await
    }

    /// Waits for an error with this code, skipping other events.
    pub async fn expect_error(&mut self, code: ErrorCode) -> parlor_protocol::ErrorEvent {
        self.recv_until(|e| match e {
            ServerEvent::Error(err) if err.code == code => Some(err),
            ServerEvent::Error(err) => panic!("expected {code:?}, got {err:?}"),
            _ => None,
        })
        .await
    }

    /// Proves the connection still works: a ping gets its pong.
    pub async fn assert_alive(&mut self) {
        self.send(&ClientMessage::Ping { nonce: Some("alive?".into()) }).await;
        self.recv_until(|e| {
            matches!(e, ServerEvent::Pong { nonce } if nonce.as_deref() == Some("alive?")).then_some(())
        })
        .await;
    }

    /// Waits for the server to close the connection, returning the close code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await.expect("closed in time") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// The text of a chat message event, if it is one.
pub fn message_text(event: &ServerEvent) -> Option<&str> {
    match event {
        ServerEvent::Message(message) => Some(&message.text),
        _ => None,
    }
}
