//! Integration tests: a real server on a loopback port picked by the OS, real SQLite files in temporary
//! directories, and real tokio-tungstenite clients.

mod process;
mod util;

mod abuse;
mod accounts;
mod changes;
mod chat;
mod corpus;
mod crash;
mod errors;
mod fuzz_connection;
mod history;
mod interop;
mod lifecycle;
mod limits;
mod live;
mod moderation;
mod polls;
mod resume;
mod room_passwords;
mod search;
mod security;
mod storage;
mod transcript;
mod web;
