//! # parlor-server
//!
//! The LAN chat server: one process a teacher's laptop can run for a class, speaking the protocol in
//! `parlor-protocol` (documented in `docs/PROTOCOL.md`) over WebSocket, with history in one SQLite file.
//!
//! ## Layout
//! Each module is one layer, outermost first:
//! - [`server`](crate::start): open the store, bind, accept; shut down cleanly.
//! - `http`: `/health`, and the WebSocket upgrades of `/ws` and `/echo`; `web`: the browser client's static files.
//! - `connection`: one chat socket's read/write/ping loop; `echo`: the echo endpoint's.
//! - `api`: `POST /api/v1/rooms/{room}/messages` for scripts with a bot token (`bots` makes them).
//! - [`demo`]: the demo bots (`parlor-server demo ticker|echo`), clients of a running server.
//! - [`transcript`]: a room's history as Markdown, HTML or JSON (`parlor-server export`).
//! - `accounts`: who may use a nickname — registered accounts (argon2id, session tokens) and device claims.
//! - `session`: what a client's requests mean — greeting, rate limiting, validation, each command.
//! - `hub`: who is online, in which rooms, who is typing (memory only).
//! - `store`: SQLite history — one writer thread with group commit, read-only connections for history pages.
//! - `outbox`: each connection's bounded queue of shared, encoded events.
//! - `tls`: the self-signed certificate and its fingerprint; `per_ip`: connection and rate limits per address.
//! - `rate`, `shutdown`, `config`, `error`: the token bucket, the stop signal, settings and errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), parlor_server::ServerError> {
//! let mut config = parlor_server::Config::new("/tmp/parlor-data");
//! config.bind = "127.0.0.1:0".parse().expect("valid address");
//! let server = parlor_server::start(config).await?;
//! println!("ws://{}/ws", server.local_addr());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod accounts;
mod api;
mod bots;
mod config;
mod connection;
pub mod demo;
mod discovery;
mod echo;
mod error;
mod http;
mod hub;
mod moderator_token;
mod outbox;
mod per_ip;
mod private_file;
mod rate;
mod rules;
mod server;
mod session;
mod shutdown;
mod store;
mod tls;
pub mod transcript;
mod web;

pub use bots::{create_bot_token, BotError};
pub use config::{Config, ServerLimits, ServerPassword, DATABASE_FILE, DEFAULT_BIND};
pub use error::ServerError;
pub use moderator_token::MODERATOR_TOKEN_FILE;
pub use server::{start, RunningServer};
pub use tls::{grouped as grouped_fingerprint, TlsError, TLS_DIR};
