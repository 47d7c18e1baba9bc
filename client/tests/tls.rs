//! TLS with a pinned certificate against the real server: `wss://` works with the fingerprint from the join link
//! or on first use, and a swapped certificate is refused with a warning until the user trusts it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use parlor_client::trust::{trust_fingerprint, Fingerprint};
use parlor_client::{ClientEvent, ConnectionState};
use parlor_protocol::{IdentityKind, ServerEvent};
use parlor_server::{Config, RunningServer};

use crate::util::{config, free_port, TestClient};

async fn tls_server(data_dir: &Path, port: u16) -> RunningServer {
    let mut config = Config::new(data_dir);
    config.bind = SocketAddr::from(([127, 0, 0, 1], port));
    config.tls = true;
    parlor_server::start(config).await.expect("server starts")
}

fn join_link(server: &RunningServer) -> String {
    format!("wss://{}/ws#sha256={}", server.local_addr(), server.tls_fingerprint().expect("TLS is on"))
}

async fn untrusted(client: &mut TestClient) -> (String, String, String) {
    let state = client.wait_state("untrusted", |s| matches!(s, ConnectionState::Untrusted { .. })).await;
    let ConnectionState::Untrusted { reason, expected, presented } = state else { unreachable!() };
    (reason, expected, presented)
}

#[tokio::test]
async fn wss_with_the_join_links_fingerprint_chats_and_a_swapped_certificate_is_refused() {
    let server_dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let server = tls_server(server_dir.path(), port).await;
    let link = join_link(&server);
    let first_fingerprint = server.tls_fingerprint().expect("TLS").to_owned();

    let client_dir = tempfile::tempdir().expect("temporary directory");
    let mut ana = TestClient::start_with(config(&link, "ana", client_dir.path()));
    ana.wait_online().await;
    ana.join("lobby").await;
    ana.client.send("lobby", "hello over TLS").expect("send");
    ana.wait_for("ack", |e| matches!(e, ClientEvent::Server { event: ServerEvent::Ack(_) }).then_some(())).await;
    ana.client.shutdown().await;

    // The host deletes the certificate (or someone else answers on that address): a new one is made.
    server.shutdown().await;
    std::fs::remove_dir_all(server_dir.path().join(parlor_server::TLS_DIR)).expect("remove the certificate");
    let server = tls_server(server_dir.path(), port).await;
    let second_fingerprint = server.tls_fingerprint().expect("TLS").to_owned();
    assert_ne!(first_fingerprint, second_fingerprint);

    // The old join link pins the old certificate.
    let mut ana = TestClient::start_with(config(&link, "ana", client_dir.path()));
    let (reason, expected, presented) = untrusted(&mut ana).await;
    assert!(reason.contains("different certificate"), "{reason}");
    assert_eq!(Fingerprint::parse(&expected).expect("grouped").to_string(), first_fingerprint);
    assert_eq!(Fingerprint::parse(&presented).expect("grouped").to_string(), second_fingerprint);

    // Without a fingerprint in the URL, the remembered one (first use) is expected: still refused.
    let plain_url = format!("wss://{}/ws", server.local_addr());
    let mut ana = TestClient::start_with(config(&plain_url, "ana", client_dir.path()));
    untrusted(&mut ana).await;

    // The user checked the new fingerprint with the host and trusts it.
    let target = server.local_addr().to_string();
    trust_fingerprint(client_dir.path(), &target, &Fingerprint::parse(&second_fingerprint).expect("hex"))
        .expect("trusted");
    let mut ana = TestClient::start_with(config(&plain_url, "ana", client_dir.path()));
    ana.wait_online().await;
    ana.client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_first_certificate_is_remembered_when_the_link_has_no_fingerprint() {
    let server_dir = tempfile::tempdir().expect("temporary directory");
    let server = tls_server(server_dir.path(), 0).await;
    let client_dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("wss://{}/ws", server.local_addr());
    let mut bo = TestClient::start_with(config(&url, "bo", client_dir.path()));
    bo.wait_online().await;
    bo.client.shutdown().await;
    let known = std::fs::read_to_string(client_dir.path().join(parlor_client::trust::KNOWN_SERVERS_FILE))
        .expect("known servers written");
    assert!(known.contains(server.tls_fingerprint().expect("TLS")), "{known}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_password_sign_in_is_replaced_by_its_token_for_reconnects() {
    let server_dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let server = tls_server(server_dir.path(), port).await;
    let link = join_link(&server);
    let client_dir = tempfile::tempdir().expect("temporary directory");

    let mut cy = TestClient::start_with(config(&link, "cy", client_dir.path()));
    cy.wait_online().await;
    cy.client.register("a long passphrase").expect("register");
    let token = cy
        .wait_for("registered", |e| match e {
            ClientEvent::Server { event: ServerEvent::Registered { token, .. } } => Some(token.clone()),
            _ => None,
        })
        .await;
    cy.client.shutdown().await;

    // A new client with only the token signs in; after a server restart it reconnects with the token again.
    let mut with_token = config(&link, "cy", client_dir.path());
    with_token.session_token = parlor_client::Password::new(token.expose());
    let mut cy = TestClient::start_with(with_token);
    let identity = cy
        .wait_for("welcome", |e| match e {
            ClientEvent::Server { event: ServerEvent::Welcome(welcome) } => Some(welcome.identity),
            _ => None,
        })
        .await;
    assert_eq!(identity, IdentityKind::Account);
    server.shutdown().await;
    let server = tls_server(server_dir.path(), port).await;
    cy.wait_for_within(Duration::from_secs(15), "welcome again", |e| {
        matches!(e, ClientEvent::Server { event: ServerEvent::Welcome(w) } if w.identity == IdentityKind::Account)
            .then_some(())
    })
    .await;
    cy.client.shutdown().await;

    // Someone else without the password is refused for good, with a sentence saying why.
    let mut eve = TestClient::start(&link, "cy");
    let state = eve.wait_state("offline", |s| matches!(s, ConnectionState::Offline { .. })).await;
    assert!(format!("{state:?}").contains("registered"), "{state:?}");
    server.shutdown().await;
}
