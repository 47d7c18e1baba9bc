//! Opening benchmark connections: a TCP socket bound to a loopback source address, the WebSocket handshake, and for
//! Parlor the `hello` + `join` greeting.
//!
//! One source address has only ~28k ephemeral ports, and a closed connection keeps its port in TIME_WAIT for a
//! minute, so [`Sources`] hands out addresses 127.0.0.1, 127.0.0.2, … in turn, a fixed number of connections each,
//! never going back to an address during a run. Everything stays on loopback.

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::wire::{self, Event};

/// A benchmark client's WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// How long connecting and greeting one client may take.
pub const GREET_TIMEOUT: Duration = Duration::from_secs(60);

/// Loopback source addresses, each used for at most `per_address` connections.
#[derive(Debug)]
pub struct Sources {
    per_address: u64,
    taken: Cell<u64>,
}

impl Sources {
    /// Uses at most `per_address` ports of each source address.
    pub fn new(per_address: u64) -> Self {
        Self { per_address: per_address.max(1), taken: Cell::new(0) }
    }

    /// The source address for the next connection.
    pub fn next(&self) -> IpAddr {
        let index = self.taken.get() / self.per_address;
        self.taken.set(self.taken.get() + 1);
        loopback(index)
    }

    /// How many addresses have been used so far.
    pub fn addresses_used(&self) -> u64 {
        self.taken.get().div_ceil(self.per_address)
    }
}

/// The `index`-th loopback address: 127.0.0.1 … 127.0.0.254, then 127.0.1.1 …, never an address ending in .0 or
/// .255 and never outside 127.0.0.0/8.
fn loopback(index: u64) -> IpAddr {
    let host = index % 254 + 1;
    let net = (index / 254) % 65_536;
    IpAddr::V4(Ipv4Addr::new(127, (net >> 8) as u8, (net & 0xff) as u8, host as u8))
}

/// The client's tungstenite settings: a small read buffer (it is allocated up front, and the idle scenario holds
/// a hundred thousand of these).
pub fn ws_config(read_buffer: usize) -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(read_buffer)
}

/// Opens a WebSocket to `server` from `source`.
pub async fn connect(server: SocketAddr, source: IpAddr, config: WebSocketConfig) -> anyhow::Result<Ws> {
    if !server.ip().is_loopback() || !source.is_loopback() {
        bail!("the benchmark only ever uses loopback addresses ({source} -> {server})");
    }
    let socket = TcpSocket::new_v4().context("creating a socket (out of file descriptors?)")?;
    socket.bind(SocketAddr::new(source, 0)).with_context(|| format!("binding a port on {source}"))?;
    let stream = socket.connect(server).await.with_context(|| format!("connecting to {server} from {source}"))?;
    stream.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(format!("ws://{server}/ws"), stream, Some(config))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

/// Greets as `nick` and joins `room`, pipelined; returns the room's `last_seq` from `joined`.
pub async fn greet(ws: &mut Ws, nick: &str, room: &str) -> anyhow::Result<u64> {
    ws.feed(Message::text(wire::hello(nick))).await?;
    join(ws, room).await.with_context(|| format!("greeting as {nick}"))
}

/// Greets as `nick` without joining a room, and waits for `welcome`.
pub async fn hello(ws: &mut Ws, nick: &str) -> anyhow::Result<()> {
    ws.send(Message::text(wire::hello(nick))).await?;
    loop {
        match next_event(ws).await? {
            Event::Welcome => return Ok(()),
            Event::Error { code } => bail!("{nick} was refused: {code}"),
            _ => {}
        }
    }
}

/// Joins `room` on a greeted connection (anything fed before is flushed with it); returns its `last_seq`.
pub async fn join(ws: &mut Ws, room: &str) -> anyhow::Result<u64> {
    ws.feed(Message::text(wire::join(room))).await?;
    ws.flush().await?;
    loop {
        match next_event(ws).await? {
            Event::Joined { last_seq } => return Ok(last_seq),
            Event::Error { code } => bail!("joining {room} was refused: {code}"),
            _ => {}
        }
    }
}

/// Creates `rooms` (an existing one is fine) and waits until the server has answered for each.
pub async fn create_rooms(ws: &mut Ws, rooms: &[String]) -> anyhow::Result<()> {
    for room in rooms {
        ws.feed(Message::text(wire::create_room(room))).await?;
    }
    ws.flush().await?;
    let mut answered = 0;
    while answered < rooms.len() {
        match next_event(ws).await? {
            Event::RoomCreated => answered += 1,
            Event::Error { code } if code == "room_exists" => answered += 1,
            Event::Error { code } => bail!("creating rooms was refused: {code}"),
            _ => {}
        }
    }
    Ok(())
}

/// The next text frame as an event; an error once the connection ends.
pub async fn next_event(ws: &mut Ws) -> anyhow::Result<Event> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(wire::scan(text.as_str())),
            Some(Ok(Message::Close(frame))) => bail!("the server closed the connection: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err).context("reading from the server"),
            None => bail!("the server closed the connection"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_rotate_within_loopback() {
        let sources = Sources::new(2);
        let taken: Vec<IpAddr> = (0..5).map(|_| sources.next()).collect();
        let expected = ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.3"];
        assert_eq!(taken, expected.map(|ip| ip.parse::<IpAddr>().expect("an address")));
        assert_eq!(sources.addresses_used(), 3);
        assert_eq!(loopback(253), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 254)));
        assert_eq!(loopback(254), IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)));
        assert!((0..200_000).step_by(997).all(|i| loopback(i).is_loopback()));
    }
}
