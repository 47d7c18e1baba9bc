//! Errors that stop the server as a whole. A single client's errors never become one of these: they are answered
//! with a protocol `error` event or a close code and end, at most, that client's connection.

use std::path::PathBuf;

use thiserror::Error;

/// Why the server could not start or stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listening address is taken or not ours.
    #[error("cannot listen on {addr}: {source} (is another server already running there? try another port)")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The data directory cannot be created.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened or migrated.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// TLS was asked for but could not be set up.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The storage thread is gone, so nothing more can be stored.
    #[error("the storage thread stopped")]
    StoreClosed,
    /// Some other I/O failure of the server itself.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
