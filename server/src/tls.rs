//! TLS without a certificate authority: a self-signed certificate made on first start and kept in the data
//! directory, identified to people and clients by its SHA-256 fingerprint.
//!
//! Clients pin the fingerprint (from the join link, or on first use), so the certificate needs no CA and no DNS
//! name: it only has to stay the same. Deleting `tls/` makes a new one, which every client will refuse until its
//! user trusts the new fingerprint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

/// The directory inside the data directory that holds the certificate and its key.
pub const TLS_DIR: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// Why TLS could not be set up.
#[derive(Debug, Error)]
pub enum TlsError {
    /// The certificate or key file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file is damaged.
    #[error("{}: not a valid PEM file ({detail}); delete the {TLS_DIR} directory to make a new certificate", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The certificate could not be generated.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("the certificate cannot be used: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server's certificate, its fingerprint, and the acceptor that serves it.
#[derive(Clone)]
pub(crate) struct TlsIdentity {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) fingerprint: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Loads the certificate from `data_dir/tls`, making one on first start.
    pub(crate) fn load_or_create(data_dir: &Path) -> Result<Self, TlsError> {
        let dir = data_dir.join(TLS_DIR);
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if !cert_path.exists() || !key_path.exists() {
            generate(&dir, &cert_path, &key_path)?;
        }
        let pem = |path: &Path, detail: String| TlsError::Pem { path: path.to_owned(), detail };
        let cert = CertificateDer::from_pem_file(&cert_path).map_err(|err| pem(&cert_path, err.to_string()))?;
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|err| pem(&key_path, err.to_string()))?;
        let fingerprint = Sha256::digest(cert.as_ref()).iter().map(|b| format!("{b:02x}")).collect();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)?;
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint })
    }
}

fn generate(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    let file_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::File { path, source }
    };
    std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    let names = vec!["parlor.local".to_owned(), "localhost".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    write_private(key_path, certified.signing_key.serialize_pem().as_bytes()).map_err(file_error(key_path))?;
    std::fs::write(cert_path, certified.cert.pem()).map_err(file_error(cert_path))?;
    tracing::info!(dir = %dir.display(), "made a new self-signed TLS certificate");
    Ok(())
}

/// Writes a file only this user can read (the private key).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// Groups a hex fingerprint by four digits, for people to compare by eye or read aloud.
pub fn grouped(fingerprint: &str) -> String {
    fingerprint.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let first = TlsIdentity::load_or_create(dir.path()).expect("made");
        assert_eq!(first.fingerprint.len(), 64);
        let again = TlsIdentity::load_or_create(dir.path()).expect("loaded");
        assert_eq!(first.fingerprint, again.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join(TLS_DIR).join(KEY_FILE);
            let mode = std::fs::metadata(key).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the private key is readable by others: {mode:o}");
        }
        std::fs::remove_dir_all(dir.path().join(TLS_DIR)).expect("removed");
        let fresh = TlsIdentity::load_or_create(dir.path()).expect("made again");
        assert_ne!(first.fingerprint, fresh.fingerprint);
        assert_eq!(grouped("abcdef012345").as_str(), "abcd ef01 2345");
    }
}
