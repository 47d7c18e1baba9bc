//! The rustls certificate check: the server's certificate is trusted by its fingerprint, not by a CA chain.
//!
//! Handshake signatures are still verified with the certificate's public key, so a man in the middle cannot replay
//! the genuine certificate without its private key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error as TlsError, SignatureScheme};

use super::{Fingerprint, Trust};

/// Accepts exactly the expected certificate, or on first use any, recording what was presented in [`Trust`].
#[derive(Debug)]
pub(crate) struct PinningVerifier {
    trust: Arc<Trust>,
    provider: Arc<CryptoProvider>,
}

impl PinningVerifier {
    pub(crate) fn new(trust: Arc<Trust>) -> Self {
        Self { trust, provider: Arc::new(rustls::crypto::ring::default_provider()) }
    }

    /// A rustls client configuration that uses this verifier.
    pub(crate) fn client_config(self) -> Result<rustls::ClientConfig, TlsError> {
        let provider = self.provider.clone();
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(self))
            .with_no_client_auth())
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let presented = Fingerprint::of(end_entity.as_ref());
        self.trust.saw(presented.clone());
        match self.trust.expected() {
            Some(expected) if expected != presented => Err(TlsError::General(format!(
                "the server's certificate changed (expected {expected}, got {presented})"
            ))),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
