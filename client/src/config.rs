//! What a [`crate::Client`] needs to know: where the server is, who the user is, where the outbox lives, and how
//! patiently to reconnect.

use std::path::PathBuf;

use parlor_protocol::Limits;

use crate::backoff::Backoff;

/// The client name sent in `hello` unless the application sets its own, so server logs show what connected.
pub const DEFAULT_CLIENT_NAME: &str = concat!("parlor-client/", env!("CARGO_PKG_VERSION"));

/// Everything [`crate::Client::start`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's chat endpoint, e.g. `ws://127.0.0.1:7878/ws`. It also keys the outbox, so pass the same
    /// (normalised) URL every time for one server, or messages queued for it are not found after a restart.
    pub url: String,
    /// The nickname to greet with; together with `url` it keys the outbox.
    pub nick: String,
    /// The server password, when the host set one.
    pub password: Option<Password>,
    /// The password of a registered nickname, to sign in; replaced by a session token after the first welcome.
    pub account_password: Option<Password>,
    /// A session token from an earlier sign-in (the desktop app keeps it in the OS keyring).
    pub session_token: Option<Password>,
    /// This device's random key, which keeps an unregistered nickname for this device (kept in the OS keyring).
    pub device_key: Option<Password>,
    /// The server's moderator token (its data directory's `moderator-token`): the app passes it when it hosts, so
    /// the host moderates its own server. Sent after every `welcome`.
    pub moderator_token: Option<Password>,
    /// The directory holding the outbox database (`outbox.sqlite3`); created if missing.
    pub data_dir: PathBuf,
    /// Client name and version for the server's logs, e.g. `parlor-desktop/0.1.0`.
    pub client_name: String,
    /// How long to wait between reconnection attempts.
    pub backoff: Backoff,
}

impl ClientConfig {
    /// A configuration without password, with the default client name and backoff.
    pub fn new(url: impl Into<String>, nick: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            nick: nick.into(),
            password: None,
            account_password: None,
            session_token: None,
            device_key: None,
            moderator_token: None,
            data_dir: data_dir.into(),
            client_name: DEFAULT_CLIENT_NAME.to_owned(),
            backoff: Backoff::default(),
        }
    }
}

/// A password, token or key. Its `Debug` output is redacted so it can never reach a log through a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password; an empty one means "no password" (`None`), as in the connect form.
    pub fn new(password: impl Into<String>) -> Option<Self> {
        let password = password.into();
        (!password.is_empty()).then_some(Self(password))
    }

    /// The password itself, for `hello` only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The limits documented in `docs/PROTOCOL.md` §15, used to check input until a `welcome` states the server's own.
pub(crate) fn default_limits() -> Limits {
    Limits {
        max_frame_bytes: 16384,
        max_text_chars: 4000,
        max_nick_chars: 32,
        max_room_chars: 32,
        max_topic_chars: 200,
        rate_per_second: 10,
        rate_burst: 20,
        history_page_max: 200,
        resume_max: 500,
        typing_ttl_ms: 5000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_prints() {
        let mut config = ClientConfig::new("ws://127.0.0.1:7878/ws", "ana", "/tmp/x");
        config.password = Password::new("s3cret");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("<redacted>"));
        assert_eq!(config.password.as_ref().map(Password::expose), Some("s3cret"));
        assert!(Password::new("").is_none());
    }
}
