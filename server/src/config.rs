//! Settings for one server: where it listens, where it keeps data, and the limits it enforces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use parlor_protocol::{names, Limits};

/// The address the server binds when none is given: loopback only, so opening a laptop to the LAN is a choice.
pub const DEFAULT_BIND: &str = "127.0.0.1:7878";

/// The SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "parlor.sqlite3";

/// Everything [`crate::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port to listen on; port 0 picks a free port (see [`crate::RunningServer::local_addr`]).
    pub bind: SocketAddr,
    /// Directory holding the database; created if missing.
    pub data_dir: PathBuf,
    /// Limits, with defaults fit for a classroom.
    pub limits: ServerLimits,
    /// A password every client must give in `hello`; `None` lets anyone who can reach the server in.
    pub password: Option<ServerPassword>,
    /// Serve TLS (`wss://`) with a self-signed certificate kept in `data_dir/tls`, made on first start.
    pub tls: bool,
    /// With TLS on, still accept plain `ws://` from other computers (it is always accepted from this one).
    pub allow_plain: bool,
    /// Web page origins (e.g. `http://10.0.0.5:8080`) allowed to open WebSockets besides the server's own pages;
    /// any other browser page is refused, so a site a student visits cannot talk to the server in their name.
    pub allowed_origins: Vec<String>,
    /// The UDP port to answer join codes on ([`parlor_protocol::join_code`]), on the same address as `bind`;
    /// `None` turns join codes off, port 0 picks a free port (for tests).
    pub discovery_port: Option<u16>,
}

/// The server password. Its `Debug` output is redacted so it never reaches a log.
#[derive(Clone)]
pub struct ServerPassword(String);

impl ServerPassword {
    /// Wraps a password; an empty one means no password.
    pub fn new(password: impl Into<String>) -> Option<Self> {
        let password = password.into();
        (!password.is_empty()).then_some(Self(password))
    }

    /// The secret itself, for the one place that must send it (an embedding app's own `moderate`); never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the two differ, so timing does not reveal a prefix.
    pub fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for ServerPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerPassword(<redacted>)")
    }
}

impl Config {
    /// A configuration with default limits, listening on [`DEFAULT_BIND`].
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let bind = DEFAULT_BIND.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 7878)));
        Self {
            bind,
            data_dir: data_dir.into(),
            limits: ServerLimits::default(),
            password: None,
            tls: false,
            allow_plain: false,
            allowed_origins: Vec::new(),
            discovery_port: Some(parlor_protocol::join_code::DISCOVERY_PORT),
        }
    }

    /// The per-user data directory of this OS (e.g. `~/.local/share/parlor` on Linux), if the OS has one.
    pub fn default_data_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("org", "Parlor", "Parlor").map(|dirs| dirs.data_dir().to_path_buf())
    }
}

/// Limits the server enforces. Each keeps one client from degrading the room for everyone else.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Largest request frame answered normally; larger ones (up to `hard_frame_bytes`) get `frame_too_large`.
    pub max_frame_bytes: usize,
    /// Largest frame read at all; tungstenite refuses more while reading, so memory stays bounded, and the
    /// connection is closed with 1009.
    pub hard_frame_bytes: usize,
    /// Deepest nesting of JSON arrays and objects in a request; deeper frames get `too_deep` before any parsing.
    pub max_json_depth: usize,
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Longest topic, in characters.
    pub max_topic_chars: usize,
    /// Sustained frames per second per connection.
    pub rate_per_second: u32,
    /// Frames allowed at once above the sustained rate.
    pub rate_burst: u32,
    /// Most messages in one history page.
    pub history_page_max: u32,
    /// Most messages replayed on one resume.
    pub resume_max: u32,
    /// How long `typing: true` lasts unless repeated.
    pub typing_ttl: Duration,
    /// Most WebSocket connections at once; more are closed with 1013.
    pub max_connections: usize,
    /// Most WebSocket connections from one address; more are closed with 4003. 0 means no limit.
    pub max_connections_per_ip: usize,
    /// Sustained requests per second from one address across all its connections. 0 means no limit.
    pub ip_rate_per_second: u32,
    /// Requests one address may send at once above its sustained rate.
    pub ip_rate_burst: u32,
    /// Most rooms on the server.
    pub max_rooms: usize,
    /// Messages kept per room or direct conversation; older ones are pruned.
    pub history_limit: u64,
    /// Bytes of events that may wait for one slow reader before it is disconnected.
    pub outbound_queue_bytes: usize,
    /// Time allowed between connecting and a successful `hello`.
    pub hello_timeout: Duration,
    /// How often the server pings an otherwise quiet connection.
    pub ping_interval: Duration,
    /// Silence after which a connection is considered dead.
    pub idle_timeout: Duration,
    /// Longest a single write to a client may block before the client is treated as gone.
    pub write_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 16 * 1024,
            hard_frame_bytes: 1024 * 1024,
            max_json_depth: parlor_protocol::DEFAULT_MAX_JSON_DEPTH,
            max_text_chars: 4000,
            max_topic_chars: 200,
            rate_per_second: 10,
            rate_burst: 20,
            history_page_max: 200,
            resume_max: 500,
            typing_ttl: Duration::from_secs(5),
            max_connections: 1024,
            max_connections_per_ip: 32,
            ip_rate_per_second: 50,
            ip_rate_burst: 100,
            max_rooms: 1000,
            history_limit: 100_000,
            outbound_queue_bytes: 1024 * 1024,
            hello_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            write_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// The most bytes one reply of stored messages (a `history` page, a resume's replay) may hold: half the
    /// outbound queue, so a reply always fits beside what others send meanwhile. Longer replies are cut short
    /// (`has_more`, a `too_many` gap) and the client asks for the rest.
    pub fn reply_budget(&self) -> usize {
        self.outbound_queue_bytes / 2
    }

    /// The limits as announced to clients in `welcome`.
    pub fn to_wire(&self) -> Limits {
        Limits {
            max_frame_bytes: self.max_frame_bytes,
            max_text_chars: self.max_text_chars,
            max_nick_chars: names::MAX_NICK_CHARS,
            max_room_chars: names::MAX_ROOM_CHARS,
            max_topic_chars: self.max_topic_chars,
            rate_per_second: self.rate_per_second,
            rate_burst: self.rate_burst,
            history_page_max: self.history_page_max,
            resume_max: self.resume_max,
            typing_ttl_ms: u64::try_from(self.typing_ttl.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_compare_exactly_and_never_print() {
        let password = ServerPassword::new("s3cret").expect("not empty");
        assert!(password.matches("s3cret"));
        assert!(!password.matches("s3cre"));
        assert!(!password.matches("s3cres"));
        assert!(!format!("{password:?}").contains("s3cret"));
        assert!(ServerPassword::new("").is_none());
    }
}
