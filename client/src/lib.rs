//! # parlor-client
//!
//! Parlor's client core: one connection to a Parlor server that reconnects by itself, resumes every room exactly
//! where it left off, and never loses or duplicates a message the user sent. No UI and no Tauri: the desktop app,
//! tests and command-line tools all use it the same way.
//!
//! ```no_run
//! # async fn demo() -> Result<(), parlor_client::ClientError> {
//! let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
//! let config = parlor_client::ClientConfig::new("ws://127.0.0.1:7878/ws", "ana", "/tmp/parlor-client");
//! let client = parlor_client::Client::start(config, events)?;
//! client.join("lobby")?;
//! client.send("lobby", "hello")?; // on disk now; delivered once, even across reconnects and restarts
//! while let Some(event) = received.recv().await {
//!     println!("{}", serde_json::to_string(&event).unwrap_or_default());
//! }
//! client.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## What it guarantees
//! - **Sent means kept.** [`Client::send`] stores the message in the outbox before returning; it stays there until
//!   the server acknowledges it (or refuses it for good, e.g. `no_such_user`, which is forwarded as an `error`).
//! - **Once, in order.** Outbox messages go out one at a time, oldest first, always with their original
//!   `client_id`, so a resend after a lost connection is acknowledged as a duplicate instead of posted twice, and a
//!   refused or dropped message is never overtaken.
//! - **Nothing missed, nothing twice.** After a reconnect every joined room is rejoined with `after` = the last
//!   `seq` held, and unread direct conversations from `welcome.dms` are caught up; any `message` at or below the
//!   held `seq` is dropped before it reaches the application.
//! - **Retries forever, except when pointless.** Connection losses are retried with exponential backoff and jitter;
//!   a wrong or missing password, an invalid nickname, an unsupported version, a nickname taken at the first
//!   connection, or a close code meaning "client bug" (1007, 1008, 1009) end in a final `offline` state.
//!
//! ## Layout
//! - [`client`](Client): the handle: start, commands, shutdown.
//! - `connection`: the task: connect, `hello`, serve; after a loss, wait with backoff and try again.
//! - `outcome`: what a refusal, close code or network error means — retry or give up — in words for people.
//! - `session`: one connection's protocol logic without I/O: rejoin and resume, pace frames, send the outbox one
//!   message at a time, act on `ack`s and errors.
//! - `shared`: the commands the handle sends the task, and the state that outlives connections.
//! - `tracker`: joined rooms and the last `seq` per room, which drops duplicates and drives resuming.
//! - `outbox`: unacknowledged messages in SQLite (`outbox.sqlite3`), so they survive restarts.
//! - `pacing`: the token bucket that keeps below the server's rate limit.
//! - [`backoff`](Backoff): reconnect timing. [`config`](ClientConfig), [`event`](ClientEvent),
//!   [`error`](ClientError): settings, what the application is told, and what can fail.

mod backoff;
mod client;
mod config;
mod connection;
mod error;
mod event;
pub mod join_code;
mod outbox;
mod outcome;
mod pacing;
mod session;
mod shared;
mod tracker;
pub mod trust;

pub use backoff::Backoff;
pub use client::{Client, Draft};
pub use config::{ClientConfig, Password, DEFAULT_CLIENT_NAME};
pub use error::ClientError;
pub use event::{ClientEvent, ConnectionState};
pub use outbox::{PendingMessage, OUTBOX_FILE};
