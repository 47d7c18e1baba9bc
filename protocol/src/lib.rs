//! # parlor-protocol
//!
//! The wire format of Parlor, version [`PROTOCOL_VERSION`]: JSON text frames over WebSocket, each an object tagged by
//! its `"type"`. Both the server and every Rust client use these types, so the two cannot drift apart; clients in
//! other languages follow `docs/PROTOCOL.md`, which documents the same messages.
//!
//! ## Layout
//! - [`client`]: what a client sends ([`ClientMessage`]) and [`decode`], which turns a frame into one or a coded error.
//! - [`server`]: what the server sends ([`ServerEvent`]) and the records inside it.
//! - [`extras`]: what a message carries besides text (polls, reactions, quotes) and its rules.
//! - [`series`]: live data points (`publish`, `data`) for charts.
//! - [`join_code`]: the short code a student types to find the host's server on the LAN.
//! - [`code`]: stable error codes ([`ErrorCode`]) and WebSocket close codes ([`CloseCode`]).
//! - [`secret`]: [`Secret`], a string that never prints; [`depth`]: the JSON nesting check run before parsing.
//! - [`names`]: the rules for nicknames, room names, message text and client ids, shared so a client can check
//!   input before sending it.
//!
//! This crate has no async runtime and no I/O: it is the contract, nothing else.

pub mod client;
pub mod code;
pub mod depth;
pub mod encode;
pub mod extras;
pub mod join_code;
pub mod names;
pub mod secret;
pub mod series;
pub mod server;

pub use client::{decode, decode_with_depth, Auth, ClientMessage, DecodeError, MIN_ACCOUNT_PASSWORD_CHARS};
pub use code::{CloseCode, ErrorCode};
pub use depth::DEFAULT_MAX_JSON_DEPTH;
pub use extras::{Announcement, ExtrasError, Poll, PollOption, PollSpec, Quote, Reaction};
pub use names::{Conversation, NameError};
pub use secret::Secret;
pub use series::{DataPoints, Points};
pub use server::{
    Ack, ChatMessage, DmInfo, ErrorEvent, Gap, GapReason, HistoryPage, IdentityKind, Joined, LeaveReason, Limits,
    RoomInfo, RoomState, ServerEvent, Welcome,
};

/// The protocol version this crate speaks. A client states it in `hello`; the server refuses a version it does not
/// know with [`ErrorCode::UnsupportedVersion`] instead of guessing, so old clients fail clearly after a breaking change.
pub const PROTOCOL_VERSION: u32 = 1;
