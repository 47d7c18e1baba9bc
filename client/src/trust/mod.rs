//! Trusting a server's TLS certificate without a certificate authority: pinning by SHA-256 fingerprint.
//!
//! A classroom server makes its own self-signed certificate, so there is no CA to ask. Instead the join link
//! carries the certificate's fingerprint (`wss://HOST:PORT/ws#sha256=…`); without one, the first certificate seen
//! is remembered (trust on first use). Either way the fingerprint is kept per `host:port` in
//! `known-servers.json`, and a different certificate later is refused with [`ConnectionState::Untrusted`]: the user
//! must check the new fingerprint with the host and trust it explicitly ([`trust_fingerprint`]).
//!
//! [`ConnectionState::Untrusted`]: crate::ConnectionState::Untrusted

mod fingerprint;
mod known;
mod verifier;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use fingerprint::{Fingerprint, FingerprintError};
pub use known::KNOWN_SERVERS_FILE;
pub(crate) use verifier::PinningVerifier;

use crate::error::ClientError;

/// A server URL split into what is dialled and the fingerprint its fragment pins, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The URL without its fragment: what is connected to, and what keys the outbox.
    pub url: String,
    /// `#sha256=…` from a join link.
    pub pinned: Option<Fingerprint>,
}

impl ServerUrl {
    /// Splits `url`; a fragment other than `sha256=<64 hex digits>` is an error, so a mistyped pin is not ignored.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let Some((base, fragment)) = url.split_once('#') else {
            return Ok(Self { url: url.to_owned(), pinned: None });
        };
        let invalid =
            |why: String| ClientError::InvalidInput(format!("the join link's fingerprint is not valid: {why}"));
        let value = fragment.strip_prefix("sha256=").ok_or_else(|| invalid("expected #sha256=…".into()))?;
        let pinned = Fingerprint::parse(value).map_err(|err| invalid(err.to_string()))?;
        if !base.starts_with("wss://") {
            return Err(invalid("a fingerprint needs a secure address: use wss:// instead of ws://".into()));
        }
        Ok(Self { url: base.to_owned(), pinned: Some(pinned) })
    }
}

/// Trusts `fingerprint` for `host_port` from now on, replacing what was known (the user checked it with the host).
pub fn trust_fingerprint(data_dir: &Path, host_port: &str, fingerprint: &Fingerprint) -> Result<(), ClientError> {
    known::KnownServers::load(data_dir).remember(host_port, fingerprint)
}

/// What a connection found out about the certificate it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Matches what was expected, or nothing was expected (first use).
    Trusted,
    /// Differs from the fingerprint pinned or remembered.
    Changed { expected: Fingerprint, presented: Fingerprint },
}

/// The trust state of one client: what it expects of one server and what the last handshake presented.
#[derive(Debug)]
pub(crate) struct Trust {
    data_dir: PathBuf,
    host_port: String,
    pinned: Option<Fingerprint>,
    /// What `known-servers.json` holds for this server: read once, updated by [`Trust::confirm`].
    known: Mutex<Option<Fingerprint>>,
    presented: Mutex<Option<Fingerprint>>,
}

impl Trust {
    pub(crate) fn new(data_dir: &Path, host_port: &str, pinned: Option<Fingerprint>) -> Arc<Self> {
        Arc::new(Self {
            data_dir: data_dir.to_owned(),
            host_port: host_port.to_owned(),
            pinned,
            known: Mutex::new(known::KnownServers::load(data_dir).get(host_port)),
            presented: Mutex::new(None),
        })
    }

    /// What the next handshake must present: the join link's pin, else what this server showed before.
    pub(crate) fn expected(&self) -> Option<Fingerprint> {
        self.pinned.clone().or_else(|| self.known.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// Records the certificate a handshake presented (called by the verifier).
    pub(crate) fn saw(&self, fingerprint: Fingerprint) {
        *self.presented.lock().unwrap_or_else(PoisonError::into_inner) = Some(fingerprint);
    }

    /// Compares what the last handshake presented with what was expected.
    pub(crate) fn verdict(&self) -> Verdict {
        let presented = self.presented.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match (self.expected(), presented) {
            (Some(expected), Some(presented)) if expected != presented => Verdict::Changed { expected, presented },
            _ => Verdict::Trusted,
        }
    }

    /// After a successful TLS connection: remember the certificate, so the next connection expects it.
    pub(crate) fn confirm(&self) {
        let presented = self.presented.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(presented) = presented else { return };
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.as_ref() == Some(&presented) {
            return;
        }
        match known::KnownServers::load(&self.data_dir).remember(&self.host_port, &presented) {
            Ok(()) => *known = Some(presented),
            Err(err) => tracing::warn!(%err, "could not remember the server's certificate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_link_pins_a_fingerprint() {
        let hex = "ab".repeat(32);
        let parsed = ServerUrl::parse(&format!("wss://10.0.0.2:7878/ws#sha256={hex}")).expect("valid");
        assert_eq!(parsed.url, "wss://10.0.0.2:7878/ws");
        assert_eq!(parsed.pinned.expect("pinned").to_string(), hex);
        assert_eq!(ServerUrl::parse("ws://h:1/ws").expect("valid").pinned, None);
        assert!(ServerUrl::parse("wss://h:1/ws#sha256=abc").is_err());
        assert!(ServerUrl::parse("wss://h:1/ws#md5=abc").is_err());
        assert!(ServerUrl::parse(&format!("ws://h:1/ws#sha256={hex}")).is_err(), "a pin on plain ws");
    }

    #[test]
    fn first_use_is_remembered_and_a_change_is_a_verdict() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let first = Fingerprint::of(b"certificate one");
        let second = Fingerprint::of(b"certificate two");
        let trust = Trust::new(dir.path(), "10.0.0.2:7878", None);
        assert_eq!(trust.expected(), None);
        trust.saw(first.clone());
        assert_eq!(trust.verdict(), Verdict::Trusted);
        trust.confirm();

        let later = Trust::new(dir.path(), "10.0.0.2:7878", None);
        assert_eq!(later.expected(), Some(first.clone()));
        later.saw(second.clone());
        assert_eq!(later.verdict(), Verdict::Changed { expected: first, presented: second.clone() });

        trust_fingerprint(dir.path(), "10.0.0.2:7878", &second).expect("trusted");
        let after = Trust::new(dir.path(), "10.0.0.2:7878", None);
        after.saw(second);
        assert_eq!(after.verdict(), Verdict::Trusted);
    }
}
