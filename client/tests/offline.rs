//! Messages written while no server is reachable survive the app closing, and go out once when it comes back.

use std::time::Duration;

use parlor_client::{ClientError, ClientEvent, ConnectionState};

use crate::util::{config, free_port, url_of, RawClient, TestClient, TestServer};

#[tokio::test]
async fn messages_queued_offline_survive_a_restart_of_the_client() {
    let port = free_port();
    let url = url_of(([127, 0, 0, 1], port).into());
    let data = tempfile::tempdir().expect("temporary directory");

    let mut ana = TestClient::start_with(config(&url, "ana", data.path()));
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(ana.client.send("Lobby", text).expect("queued while offline"));
    }
    for (id, text) in ids.iter().zip(["one", "two", "three"]) {
        let queued = ana
            .wait_for("queued", |e| match e {
                ClientEvent::Queued { client_id, room, text, .. } => {
                    Some((client_id.clone(), room.clone(), text.clone()))
                }
                _ => None,
            })
            .await;
        assert_eq!(queued, (id.clone(), "lobby".to_owned(), text.to_owned()));
    }
    let state = ana.wait_state("reconnecting", |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
    let ConnectionState::Reconnecting { reason, .. } = state else { unreachable!() };
    assert!(reason.contains("connection refused"), "{reason}");
    assert!(matches!(ana.client.history("lobby", None, None), Err(ClientError::NotConnected)));
    assert_eq!(ana.client.pending().expect("outbox").len(), 3);
    ana.client.shutdown().await;

    let server = TestServer::on_port(port).await;
    let mut bob = RawClient::connect(&server.url(), "bob").await;
    bob.join("lobby").await;
    // A new client with the same data directory and nickname: the app restarted.
    let mut ana = TestClient::start_with(config(&url, "ana", data.path()));
    ana.wait_for("queued again", |e| matches!(e, ClientEvent::Queued { .. }).then_some(())).await;
    let received = ana.wait_messages("lobby", 3, Duration::from_secs(10)).await;
    let texts: Vec<&str> = received.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    let client_ids: Vec<&str> = received.iter().map(|m| m.client_id.as_str()).collect();
    assert_eq!(client_ids, ids.iter().map(String::as_str).collect::<Vec<_>>(), "sent with their original ids");
    ana.wait_outbox_empty().await;

    let mut seen = Vec::new();
    for _ in 0..3 {
        let message = bob
            .recv_until(|e| match e {
                parlor_protocol::ServerEvent::Message(m) => Some((m.seq, m.text)),
                _ => None,
            })
            .await;
        seen.push(message);
    }
    assert_eq!(seen, [(1, "one".to_owned()), (2, "two".to_owned()), (3, "three".to_owned())]);
    // Exactly once: a fourth message from bob arrives next, with seq 4.
    assert_eq!(bob.say("lobby", "four").await, 4);
    ana.client.shutdown().await;
}
