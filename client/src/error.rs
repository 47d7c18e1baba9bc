//! What can go wrong when the application asks the client for something. Connection trouble is not an error here: it
//! is reported as [`crate::ConnectionState`] events, because the client keeps trying by itself.

use std::path::PathBuf;

/// Why a [`crate::Client`] method refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The input breaks the protocol's rules (a bad room name, empty text, …); the message says what to fix.
    #[error("{0}")]
    InvalidInput(String),
    /// The outbox database failed, so a message could not be kept safely.
    #[error("the outbox database failed: {0}")]
    Outbox(#[from] rusqlite::Error),
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The list of trusted server certificates (`known-servers.json`) could not be written.
    #[error("cannot save the server's certificate fingerprint: {0}")]
    Storage(String),
    /// A request that only makes sense online (history, who, …) while the connection is down.
    #[error("not connected to the server")]
    NotConnected,
    /// [`crate::Client::start`] was called outside a tokio runtime.
    #[error("the client must be started inside a tokio runtime")]
    NoRuntime,
    /// The connection task has ended (after `shutdown` or a final `offline` state).
    #[error("the client has stopped; connect again")]
    Stopped,
}

impl ClientError {
    /// A stable code for the UI bridge (`docs/APP-BRIDGE.md`), so the UI can branch without parsing sentences.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Outbox(_) | Self::DataDir { .. } | Self::Storage(_) => "storage",
            Self::NotConnected | Self::Stopped => "not_connected",
            Self::NoRuntime => "internal",
        }
    }
}
