//! Helpers shared by the integration tests: servers (in-process or a real process to kill), a raw protocol client,
//! and a `parlor_client::Client` wrapper that records what it was told.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parlor_client::{Backoff, Client, ClientConfig, ClientEvent, ConnectionState};
use parlor_protocol::{ChatMessage, ClientMessage, ServerEvent};
use parlor_server::{Config, RunningServer, ServerLimits, ServerPassword};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(10);

/// A port nothing listens on right now (bound, then released), to start a server on later.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

pub fn url_of(addr: SocketAddr) -> String {
    format!("ws://{addr}/ws")
}

/// A server inside the test process.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: TempDir,
    pub limits: ServerLimits,
    pub password: Option<ServerPassword>,
    pub port: u16,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::build(ServerLimits::default(), None, 0).await
    }

    pub async fn on_port(port: u16) -> Self {
        Self::build(ServerLimits::default(), None, port).await
    }

    pub async fn with_limits(limits: ServerLimits) -> Self {
        Self::build(limits, None, 0).await
    }

    pub async fn with_password(password: &str) -> Self {
        Self::build(ServerLimits::default(), ServerPassword::new(password), 0).await
    }

    async fn build(limits: ServerLimits, password: Option<ServerPassword>, port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let server = boot(dir.path(), &limits, password.clone(), port).await;
        let port = server.local_addr().port();
        Self { server: Some(server), dir, limits, password, port }
    }

    pub fn url(&self) -> String {
        url_of(SocketAddr::from(([127, 0, 0, 1], self.port)))
    }

    /// Shuts down cleanly (clients get 1001) and starts again on the same port and data.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        self.server = Some(boot(self.dir.path(), &self.limits, self.password.clone(), self.port).await);
    }
}

/// Starts a server, retrying briefly if the port is still held by a previous one.
async fn boot(dir: &Path, limits: &ServerLimits, password: Option<ServerPassword>, port: u16) -> RunningServer {
    let mut config = Config::new(dir);
    config.bind = SocketAddr::from(([127, 0, 0, 1], port));
    config.limits = limits.clone();
    config.password = password;
    for _ in 0..50 {
        match parlor_server::start(config.clone()).await {
            Ok(server) => return server,
            Err(err) => {
                eprintln!("server start failed, retrying: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("the server did not start on port {port}");
}

/// The real `parlor-server` binary as a child process, so it can be killed without a goodbye.
pub struct ServerProcess {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    data_dir: PathBuf,
}

impl ServerProcess {
    /// `PARLOR_SERVER_BIN`, or `parlor-server` beside the test binary's directory (`target/debug`).
    fn binary() -> PathBuf {
        if let Some(path) = std::env::var_os("PARLOR_SERVER_BIN") {
            return path.into();
        }
        let exe = std::env::current_exe().expect("the test binary's path");
        let path = exe.parent().and_then(Path::parent).map(|dir| dir.join("parlor-server")).expect("target dir");
        assert!(path.exists(), "{} is missing; build it first: cargo build -p parlor-server", path.display());
        path
    }

    /// Starts the server on `port` (0: any), retrying while the port is briefly busy.
    pub async fn start(data_dir: &Path, port: u16) -> Self {
        for _ in 0..50 {
            if let Some(server) = Self::try_start(data_dir, port).await {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("parlor-server did not start on port {port}");
    }

    async fn try_start(data_dir: &Path, port: u16) -> Option<Self> {
        let mut child = tokio::process::Command::new(Self::binary())
            .args(["--bind", &format!("127.0.0.1:{port}"), "--log-level", "warn", "--data-dir"])
            .arg(data_dir)
            .env_remove("PARLOR_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("parlor-server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        // "Parlor server listening on ws://ADDR/ws (history in …)"; nothing (EOF) means it could not bind.
        let line = tokio::time::timeout(WAIT, lines.next_line()).await.expect("the server starts in time");
        let Ok(Some(line)) = line else {
            let _ = child.wait().await;
            return None;
        };
        let addr = line
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split("/ws").next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Some(Self { child, addr, data_dir: data_dir.to_path_buf() })
    }

    pub fn url(&self) -> String {
        url_of(self.addr)
    }

    /// SIGKILL: no close frames, no flushing beyond what SQLite committed.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }

    /// Starts again on the same port and data directory.
    pub async fn restart(&mut self) {
        *self = Self::start(&self.data_dir.clone(), self.addr.port()).await;
    }
}

/// The options every test client uses: quick retries, so tests do not wait long for a restarted server.
pub fn config(url: &str, nick: &str, data_dir: &Path) -> ClientConfig {
    let mut config = ClientConfig::new(url, nick, data_dir);
    config.client_name = "client-tests".into();
    config.backoff = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(1), ..Backoff::default() };
    config
}

/// A `parlor_client::Client` and everything it emitted.
pub struct TestClient {
    pub client: Client,
    events: mpsc::UnboundedReceiver<ClientEvent>,
    /// Every event taken from the stream so far, in order.
    pub log: Vec<ClientEvent>,
    _dir: Option<TempDir>,
}

impl TestClient {
    /// A client with its own temporary data directory.
    pub fn start(url: &str, nick: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut client = Self::start_with(config(url, nick, dir.path()));
        client._dir = Some(dir);
        client
    }

    pub fn start_with(config: ClientConfig) -> Self {
        let (events_tx, events) = mpsc::unbounded_channel();
        let client = Client::start(config, events_tx).expect("the client starts");
        Self { client, events, log: Vec::new(), _dir: None }
    }

    /// Takes events until `pick` returns something, failing the test after `within`.
    pub async fn wait_for_within<T>(
        &mut self,
        within: Duration,
        what: &str,
        mut pick: impl FnMut(&ClientEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => panic!("the event stream ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; last events: {:?}", self.log.iter().rev().take(5)),
            };
            let found = pick(&event);
            self.log.push(event);
            if let Some(found) = found {
                return found;
            }
        }
    }

    pub async fn wait_for<T>(&mut self, what: &str, pick: impl FnMut(&ClientEvent) -> Option<T>) -> T {
        self.wait_for_within(WAIT, what, pick).await
    }

    /// Collects events for `window`, expecting the stream to stay open.
    pub async fn settle(&mut self, window: Duration) {
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            self.log.push(event);
        }
    }

    pub async fn wait_state(&mut self, what: &str, pick: impl Fn(&ConnectionState) -> bool) -> ConnectionState {
        self.wait_for(what, |e| match e {
            ClientEvent::State(state) if pick(state) => Some(state.clone()),
            _ => None,
        })
        .await
    }

    pub async fn wait_online(&mut self) {
        self.wait_state("online", |s| *s == ConnectionState::Online).await;
    }

    /// Joins `room` and waits for the `joined`.
    pub async fn join(&mut self, room: &str) {
        self.client.join(room).expect("join");
        self.wait_for(&format!("joined {room}"), |e| match e {
            ClientEvent::Server { event: ServerEvent::Joined(joined) } if joined.room == room => Some(()),
            _ => None,
        })
        .await;
    }

    /// Waits until `count` messages of `room` were delivered in all, returning them all.
    pub async fn wait_messages(&mut self, room: &str, count: usize, within: Duration) -> Vec<ChatMessage> {
        let mut have = messages(&self.log, room).len();
        if have < count {
            self.wait_for_within(within, &format!("{count} messages in {room}"), |e| {
                have +=
                    usize::from(matches!(e, ClientEvent::Server { event: ServerEvent::Message(m) } if m.room == room));
                (have >= count).then_some(())
            })
            .await;
        }
        messages(&self.log, room)
    }

    /// Waits until the outbox is empty (every message acknowledged or refused).
    pub async fn wait_outbox_empty(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.client.pending().expect("outbox").is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the outbox still holds {:?}", self.client.pending());
            self.settle(Duration::from_millis(50)).await;
        }
    }

    /// The states reported so far.
    pub fn states(&self) -> Vec<ConnectionState> {
        self.log.iter().filter_map(|e| if let ClientEvent::State(s) = e { Some(s.clone()) } else { None }).collect()
    }
}

/// The chat messages of `room` in an event log, in delivery order.
pub fn messages(log: &[ClientEvent], room: &str) -> Vec<ChatMessage> {
    log.iter()
        .filter_map(|e| match e {
            ClientEvent::Server { event: ServerEvent::Message(m) } if m.room == room => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// A bare protocol client over tokio-tungstenite, for a second user that must act at a precise moment.
pub struct RawClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Client ids unique across every raw client of the test process, as real clients' UUIDs are.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl RawClient {
    /// Connects and greets as `nick`.
    pub async fn connect(url: &str, nick: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
        let mut client = Self { ws };
        client
            .send(&ClientMessage::Hello { protocol: 1, nick: nick.into(), client: None, password: None, auth: None })
            .await;
        client.recv_until(|e| matches!(e, ServerEvent::Welcome(_)).then_some(())).await;
        client
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        let json = serde_json::to_string(message).expect("encode");
        self.ws.send(Message::text(json)).await.expect("send");
    }

    pub async fn recv_until<T>(&mut self, mut pick: impl FnMut(ServerEvent) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next()).await.expect("an event in time");
            if let Message::Text(text) = frame.expect("connection open").expect("frame") {
                let event: ServerEvent = serde_json::from_str(text.as_str()).expect("a valid event");
                if let ServerEvent::Error(error) = &event {
                    panic!("refused: {error:?}");
                }
                if let Some(found) = pick(event) {
                    return found;
                }
            }
        }
    }

    pub async fn join(&mut self, room: &str) {
        self.send(&ClientMessage::Join { room: room.into(), after: None, after_rev: None, password: None }).await;
        self.recv_until(|e| matches!(e, ServerEvent::Joined(j) if j.room == room).then_some(())).await;
    }

    /// Posts and waits for the ack, returning the seq.
    pub async fn say(&mut self, room: &str, text: &str) -> u64 {
        let n = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let client_id = format!("raw-{}-{n}", std::process::id());
        let send = ClientMessage::Send {
            room: room.into(),
            text: text.into(),
            client_id: client_id.clone(),
            poll: None,
            reply_to: None,
            announce: false,
        };
        self.send(&send).await;
        self.recv_until(|e| match e {
            ServerEvent::Ack(ack) if ack.client_id == client_id => Some(ack.seq),
            _ => None,
        })
        .await
    }
}
