//! `known-servers.json`: the certificate fingerprint last trusted for each `host:port`.
//!
//! Fingerprints are public (they identify, they do not authenticate), so a plain file is the right place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Fingerprint;
use crate::error::ClientError;

/// The file inside the client's data directory.
pub const KNOWN_SERVERS_FILE: &str = "known-servers.json";

/// The remembered fingerprints of one data directory.
#[derive(Debug)]
pub(super) struct KnownServers {
    path: PathBuf,
    servers: BTreeMap<String, String>,
}

impl KnownServers {
    /// Reads the file; a missing or damaged file is an empty one (the next connection is then first use).
    pub(super) fn load(data_dir: &Path) -> Self {
        let path = data_dir.join(KNOWN_SERVERS_FILE);
        let servers =
            std::fs::read(&path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default();
        Self { path, servers }
    }

    pub(super) fn get(&self, host_port: &str) -> Option<Fingerprint> {
        self.servers.get(host_port).and_then(|hex| Fingerprint::parse(hex).ok())
    }

    /// Stores `fingerprint` for `host_port`, writing a temporary file and renaming it so a crash leaves the old file.
    pub(super) fn remember(mut self, host_port: &str, fingerprint: &Fingerprint) -> Result<(), ClientError> {
        self.servers.insert(host_port.to_owned(), fingerprint.to_string());
        let json = serde_json::to_vec_pretty(&self.servers).map_err(|err| ClientError::Storage(err.to_string()))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| ClientError::Storage(err.to_string()))?;
        }
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(|err| ClientError::Storage(err.to_string()))?;
        std::fs::rename(&temporary, &self.path).map_err(|err| ClientError::Storage(err.to_string()))
    }
}
