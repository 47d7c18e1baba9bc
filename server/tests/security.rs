//! Transport and abuse limits: TLS on one port with plain refused from other computers, browser origins,
//! connections and requests per address, and JSON nesting.

use std::net::SocketAddr;
use std::sync::Arc;

use parlor_protocol::{ClientMessage, ErrorCode, ServerEvent};
use rustls::pki_types::ServerName;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::util::{client_from, try_client_from, Client, TestServer};

/// A computer on the LAN, as the in-process connections pretend to come from.
fn lan(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from(([192, 168, 1, last], port))
}

#[tokio::test]
async fn connections_and_requests_are_limited_per_other_computer_but_not_for_this_one() {
    let limits = parlor_server::ServerLimits {
        max_connections_per_ip: 3,
        ip_rate_per_second: 5,
        ip_rate_burst: 5,
        ..Default::default()
    };
    let server = TestServer::with_limits(limits).await;
    let running = server.server.as_ref().expect("running");

    let mut held = Vec::new();
    for port in 0..3 {
        let mut client = client_from(running, lan(7, 1000 + port)).await;
        client.hello(&format!("s{port}")).await;
        held.push(client);
    }
    let mut fourth = client_from(running, lan(7, 2000)).await;
    assert_eq!(fourth.expect_close().await, Some(4003), "a fourth connection from one computer");
    let mut elsewhere = client_from(running, lan(8, 2000)).await;
    elsewhere.hello("other").await;

    // Five requests shared by the three connections of 192.168.1.7 pass; the next is refused on any of them.
    let ping = ClientMessage::Ping { nonce: None };
    let mut refused = 0;
    for round in 0..4 {
        for client in &mut held {
            client.send(&ping).await;
            match client.recv().await {
                ServerEvent::Pong { .. } => {}
                ServerEvent::Error(error) if error.code == ErrorCode::RateLimited => refused += 1,
                other => panic!("round {round}: {other:?}"),
            }
        }
    }
    assert!(refused >= 12 - 5 - 1, "only {refused} of 12 refused");
    elsewhere.assert_alive().await;

    let mut local = Vec::new();
    for n in 0..6 {
        let mut client = Client::connect(&server.url()).await;
        client.hello(&format!("local{n}")).await;
        local.push(client);
    }
}

#[tokio::test]
async fn nesting_beyond_the_limit_is_refused_before_parsing_and_the_connection_lives() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let deep = format!(r#"{{"type":"ping","nonce":"x","extra":{}1{}}}"#, "[".repeat(5_000), "]".repeat(5_000));
    ana.send_raw(&deep).await;
    ana.expect_error(ErrorCode::TooDeep).await;
    ana.assert_alive().await;
}

#[tokio::test]
async fn a_page_from_another_site_cannot_open_a_websocket() {
    let server =
        TestServer::with_config(|config| config.allowed_origins = vec!["http://teacher.lan:8080".into()]).await;
    let open = |origin: Option<&'static str>| {
        let url = server.url();
        let host = server.addr().to_string();
        async move {
            let mut request = url.into_client_request().expect("request");
            if let Some(origin) = origin {
                let origin = origin.replace("HOST", &host);
                request.headers_mut().insert("Origin", HeaderValue::from_str(&origin).expect("header"));
            }
            tokio_tungstenite::connect_async(request).await.map(|_| ()).map_err(|err| err.to_string())
        }
    };
    assert!(open(None).await.is_ok(), "clients that are not browsers send no origin");
    assert!(open(Some("http://HOST")).await.is_ok(), "the server's own pages");
    assert!(open(Some("http://teacher.lan:8080")).await.is_ok(), "an origin the host allowed");
    let refused = open(Some("https://evil.example")).await.expect_err("another site");
    assert!(refused.contains("403"), "{refused}");

    // DNS rebinding: a page from evil.example whose name now points at this server has a matching Host header.
    let mut request = server.url().into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert("Host", HeaderValue::from_static("evil.example:7878"));
    headers.insert("Origin", HeaderValue::from_static("http://evil.example:7878"));
    let rebound = tokio_tungstenite::connect_async(request).await.map(|_| ()).map_err(|err| err.to_string());
    assert!(rebound.expect_err("a rebinding page").contains("403"));
}

/// A TLS client that trusts any certificate, to look at what the server presents (the real client pins it).
fn tls_connector() -> tokio_rustls::TlsConnector {
    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn with_tls_one_port_serves_wss_and_plain_only_to_this_computer() {
    let server = TestServer::with_config(|config| config.tls = true).await;
    let running = server.server.as_ref().expect("running");
    let fingerprint = running.tls_fingerprint().expect("a fingerprint").to_owned();

    let tcp = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    let name = ServerName::try_from("parlor.local").expect("name");
    let tls = tls_connector().connect(name, tcp).await.expect("TLS handshake");
    let presented = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).expect("a certificate").clone();
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(presented.as_ref()).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(digest, fingerprint, "the certificate presented is the one whose fingerprint is shown");
    let url = format!("wss://{}/ws", server.addr());
    let (ws, _) = tokio_tungstenite::client_async(url, tls).await.expect("WebSocket over TLS");
    let mut ana = Client { ws };
    ana.hello("ana").await;
    ana.join("lobby", None).await;
    ana.say("lobby", "over TLS").await;

    let mut local = Client::connect(&server.url()).await;
    local.hello("local").await;

    let refused = try_client_from(running, lan(9, 4000)).await.err().expect("plain ws from the LAN is refused");
    assert!(refused.contains("403"), "{refused}");
}

#[tokio::test]
async fn the_host_may_allow_plain_connections_from_the_lan_next_to_tls() {
    let server = TestServer::with_config(|config| {
        config.tls = true;
        config.allow_plain = true;
    })
    .await;
    let mut student = client_from(server.server.as_ref().expect("running"), lan(9, 4000)).await;
    student.hello("student").await;
}
