//! Starting and stopping a server: open the store, bind, accept, and on shutdown close every connection and flush.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::accounts::{Accounts, AccountsError};
use crate::config::{Config, ServerLimits, ServerPassword, DATABASE_FILE};
use crate::error::ServerError;
use crate::hub::Hub;
use crate::per_ip::PerIp;
use crate::shutdown::{self, Shutdown, ShutdownTrigger};
use crate::store::{Store, StoreError, WriterThread};
use crate::tls::TlsIdentity;

/// How long shutdown waits for connections to say goodbye before the store is closed regardless.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// State every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Presence: who is online, in which rooms, typing.
    pub(crate) hub: Arc<Hub>,
    /// Persistent history.
    pub(crate) store: Store,
    /// Limits enforced on every connection.
    pub(crate) limits: ServerLimits,
    /// tokio-tungstenite settings derived from the limits.
    pub(crate) ws_config: WebSocketConfig,
    /// One permit per open WebSocket; its size is the connection limit, and draining it means all are closed.
    pub(crate) connections: Arc<Semaphore>,
    /// For `/health`'s uptime.
    pub(crate) started: Instant,
    /// The password `hello` must carry, if the host set one.
    pub(crate) password: Option<ServerPassword>,
    /// Registered nicknames and device claims.
    pub(crate) accounts: Accounts,
    /// The TLS certificate, when TLS is on.
    pub(crate) tls: Option<TlsIdentity>,
    /// With TLS on, whether other computers may still use plain `ws://`.
    pub(crate) allow_plain: bool,
    /// Browser origins allowed besides the server's own.
    pub(crate) allowed_origins: Vec<String>,
    /// Connections and request budgets per client address.
    pub(crate) per_ip: Arc<PerIp>,
    /// What `moderate` must carry.
    pub(crate) moderator_token: ServerPassword,
}

/// How a connection reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Plain TCP.
    Plain,
    /// TLS.
    Tls,
}

impl Shared {
    /// Open WebSocket connections right now.
    pub(crate) fn connection_count(&self) -> usize {
        self.limits.max_connections.saturating_sub(self.connections.available_permits())
    }
}

/// The tokio-tungstenite settings for our traffic: a small read buffer (the library's default is 128 KiB per
/// connection, allocated up front and idle almost always; requests are small, and a larger frame grows the buffer
/// as it arrives), writes batched up to 64 KiB per flush, and the hard frame limit enforced while reading so an
/// oversized frame is never buffered whole.
fn ws_config(limits: &ServerLimits) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(limits.outbound_queue_bytes.saturating_mul(2).max(1024 * 1024))
        .max_message_size(Some(limits.hard_frame_bytes))
        .max_frame_size(Some(limits.hard_frame_bytes))
}

/// A server that is running; stop it with [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    trigger: ShutdownTrigger,
    task: JoinHandle<()>,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    /// The join code and the UDP address answering it, when join codes are on.
    join: Option<(String, SocketAddr)>,
}

impl RunningServer {
    /// The address actually bound: with port 0 in the configuration, this names the port the OS picked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The SHA-256 fingerprint (64 hex digits) of the TLS certificate, when TLS is on: put it in the join link
    /// (`wss://HOST:PORT/ws#sha256=…`) so clients can check they reached this server.
    pub fn tls_fingerprint(&self) -> Option<&str> {
        self.shared.tls.as_ref().map(|tls| tls.fingerprint.as_str())
    }

    /// The join code students can type instead of the address (e.g. `K7P3QX`; show it with
    /// [`parlor_protocol::join_code::display`]), when join codes are on and their port was free.
    pub fn join_code(&self) -> Option<&str> {
        self.join.as_ref().map(|(code, _)| code.as_str())
    }

    /// Where the join code is answered (UDP), for clients that look on this computer or a chosen port.
    pub fn join_code_addr(&self) -> Option<SocketAddr> {
        self.join.as_ref().map(|(_, addr)| *addr)
    }

    /// The moderator token (also in the data directory's `moderator-token`), so an app that embeds the server can
    /// moderate it without reading the file again.
    pub fn moderator_token(&self) -> &ServerPassword {
        &self.shared.moderator_token
    }

    /// Serves one already-open byte stream exactly as an accepted TCP connection from `peer`: HTTP, the WebSocket
    /// upgrade, the protocol. It lets fuzzers and in-process tests drive the whole stack over `tokio::io::duplex`
    /// without sockets, so they run thousands of times faster than over loopback.
    #[doc(hidden)]
    pub fn serve_stream<S>(&self, io: S, peer: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        tokio::spawn(serve_http(io, peer, Transport::Plain, self.shared.clone(), self.shutdown.clone()));
    }

    /// Stops accepting, closes every connection with 1001, stores what was acked and checkpoints the database.
    pub async fn shutdown(self) {
        self.trigger.trigger();
        if let Err(err) = self.task.await {
            tracing::error!(%err, "the server task failed while stopping");
        }
    }
}

/// Opens the data directory and database, binds the address, and starts serving on the current tokio runtime.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let Config { bind, data_dir, limits, password, tls, allow_plain, allowed_origins, discovery_port } = config;
    std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::DataDir { path: data_dir.clone(), source })?;
    let path = data_dir.join(DATABASE_FILE);
    let store_limits = limits.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open(&path, store_limits))
        .await
        .map_err(|_| ServerError::StoreClosed)?;
    let (store, hub, writer) = opened.map_err(|err| match err {
        StoreError::Sqlite(err) => ServerError::Database(err),
        StoreError::Thread(err) => ServerError::Io(err),
        StoreError::Closed => ServerError::StoreClosed,
    })?;
    let accounts = Accounts::open(&data_dir).map_err(|err| match err {
        AccountsError::Sqlite(err) => ServerError::Database(err),
        AccountsError::Random | AccountsError::Task => ServerError::StoreClosed,
    })?;
    let tls = if tls {
        let dir = data_dir.clone();
        let identity = tokio::task::spawn_blocking(move || TlsIdentity::load_or_create(&dir))
            .await
            .map_err(|_| ServerError::StoreClosed)??;
        Some(identity)
    } else {
        None
    };
    let dir = data_dir.clone();
    let moderator_token = tokio::task::spawn_blocking(move || crate::moderator_token::load_or_create(&dir))
        .await
        .map_err(|_| ServerError::StoreClosed)?
        .map_err(|source| ServerError::DataDir { path: data_dir.clone(), source })?;
    let listener = listen(bind).map_err(|source| ServerError::Bind { addr: bind, source })?;
    let local_addr = listener.local_addr()?;
    let per_ip = PerIp::new(limits.max_connections_per_ip, limits.ip_rate_per_second, limits.ip_rate_burst);
    let shared = Arc::new(Shared {
        hub,
        store,
        ws_config: ws_config(&limits),
        connections: Arc::new(Semaphore::new(limits.max_connections)),
        limits,
        started: Instant::now(),
        password,
        accounts,
        tls,
        allow_plain,
        allowed_origins,
        per_ip,
        moderator_token,
    });
    let (trigger, shutdown) = shutdown::channel();
    tracing::info!(%local_addr, data_dir = %data_dir.display(), "listening");
    let join = match discovery_port {
        Some(port) => answer_join_codes(SocketAddr::new(bind.ip(), port), local_addr.port(), &shared, &shutdown).await,
        None => None,
    };
    let task = tokio::spawn(run(listener, shared.clone(), shutdown.clone(), writer));
    Ok(RunningServer { local_addr, trigger, task, shared, shutdown, join })
}

/// Starts answering this server's join code on `addr` (UDP). A busy port (another server on this computer) only
/// costs the join code: the server runs on, reachable by address and link.
async fn answer_join_codes(
    addr: SocketAddr,
    chat_port: u16,
    shared: &Arc<Shared>,
    shutdown: &Shutdown,
) -> Option<(String, SocketAddr)> {
    let code = crate::discovery::new_code()?;
    let socket = match tokio::net::UdpSocket::bind(addr).await {
        Ok(socket) => Arc::new(socket),
        Err(err) => {
            tracing::warn!(%err, %addr, "cannot answer join codes (is another Parlor server running here?)");
            return None;
        }
    };
    let local = socket.local_addr().ok()?;
    let fingerprint = shared.tls.as_ref().map(|tls| tls.fingerprint.clone());
    let answer = parlor_protocol::join_code::JoinAnswer { port: chat_port, fingerprint };
    tokio::spawn(crate::discovery::serve(socket, code.clone(), answer, shutdown.clone()));
    Some((code, local))
}

/// Connections the kernel may queue before they are accepted. tokio's default (128) overflows when a whole class
/// reconnects at once after the Wi-Fi drops: clients then stall a second or more on SYN retransmits.
const LISTEN_BACKLOG: u32 = 1024;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn run(listener: TcpListener, shared: Arc<Shared>, mut shutdown: Shutdown, writer: WriterThread) {
    let sweeper = tokio::spawn(sweep_timers(shared.clone(), shutdown.clone()));
    loop {
        tokio::select! {
            () = shutdown.recv() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_tcp(stream, peer, shared.clone(), shutdown.clone()));
                }
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let max = u32::try_from(shared.limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, shared.connections.acquire_many(max)).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    let _ = sweeper.await;
    shared.store.shutdown(writer).await;
    tracing::info!("stopped");
}

/// How long a client may take to start and finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// With TLS on, one port serves both: a connection whose first byte starts a TLS handshake (0x16) gets TLS, any
/// other plain HTTP (refused for chat from other computers unless the host allows it, see `http`).
async fn serve_tcp(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, shutdown: Shutdown) {
    let Some(tls) = shared.tls.clone() else {
        return serve_http(stream, peer, Transport::Plain, shared, shutdown).await;
    };
    let mut first = [0u8; 1];
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == 0x16 => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve_http(stream, peer, Transport::Tls, shared, shutdown).await,
                Ok(Err(err)) => tracing::debug!(%err, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        Ok(Ok(1)) => serve_http(stream, peer, Transport::Plain, shared, shutdown).await,
        _ => {}
    }
}

async fn serve_http<S>(stream: S, peer: SocketAddr, transport: Transport, shared: Arc<Shared>, shutdown: Shutdown)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut stop = shutdown.clone();
    let service = service_fn(move |req| crate::http::route(req, shared.clone(), shutdown.clone(), peer, transport));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%err, %peer, "HTTP connection ended with an error");
            }
        }
        () = stop.recv() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// How often the search index takes a background step.
const INDEX_PERIOD: Duration = Duration::from_secs(1);

async fn sweep_timers(shared: Arc<Shared>, mut shutdown: Shutdown) {
    let period = (shared.limits.typing_ttl / 4).max(Duration::from_millis(50));
    let mut tick = tokio::time::interval(period);
    let mut next_index = Instant::now();
    loop {
        tokio::select! {
            () = shutdown.recv() => break,
            _ = tick.tick() => {
                let now = Instant::now();
                shared.hub.expire_typing(now);
                shared.hub.expire_locks(now);
                if now >= next_index {
                    shared.store.index_some();
                    next_index = now + INDEX_PERIOD;
                }
            }
        }
    }
}
