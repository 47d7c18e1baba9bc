//! Reconnecting resumes: rooms are rejoined and exactly what was missed is replayed; unread direct messages are
//! fetched at the next start.

use std::time::Duration;

use parlor_client::{Backoff, ClientEvent, ConnectionState};
use parlor_protocol::{ClientMessage, ServerEvent};

use crate::util::{config, RawClient, TestClient, TestServer};

#[tokio::test]
async fn a_restarted_server_is_rejoined_and_what_was_missed_replayed() {
    let mut server = TestServer::start().await;
    let url = server.url();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut settings = config(&url, "ana", dir.path());
    // A slow first retry, so bob is back and has posted before ana returns.
    settings.backoff = Backoff { initial: Duration::from_secs(2), jitter: 0.0, ..Backoff::default() };
    let mut ana = TestClient::start_with(settings);
    ana.wait_online().await;
    ana.join("lobby").await;
    let mut bob = RawClient::connect(&url, "bob").await;
    bob.join("lobby").await;
    bob.say("lobby", "m1").await;
    bob.say("lobby", "m2").await;
    ana.wait_messages("lobby", 2, Duration::from_secs(5)).await;

    // Bob hangs up first, so the shutdown is not kept waiting for his goodbye.
    drop(bob);
    server.restart().await;
    let lost = ana.wait_state("reconnecting", |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
    let reason = "the server closed the connection: server is shutting down";
    assert_eq!(lost, ConnectionState::Reconnecting { attempt: 1, retry_in_ms: 2000, reason: reason.into() });
    let mut bob = RawClient::connect(&url, "bob").await;
    bob.join("lobby").await;
    for text in ["m3", "m4", "m5"] {
        bob.say("lobby", text).await;
    }
    assert_ne!(ana.client.state(), ConnectionState::Online, "bob posted while ana was away");
    ana.wait_online().await;
    ana.wait_messages("lobby", 5, Duration::from_secs(5)).await;
    bob.say("lobby", "m6").await;
    let messages = ana.wait_messages("lobby", 6, Duration::from_secs(5)).await;
    ana.settle(Duration::from_millis(200)).await;
    let got: Vec<(u64, &str)> = messages.iter().map(|m| (m.seq, m.text.as_str())).collect();
    assert_eq!(got, [(1, "m1"), (2, "m2"), (3, "m3"), (4, "m4"), (5, "m5"), (6, "m6")]);
    assert_eq!(crate::util::messages(&ana.log, "lobby").len(), 6, "no duplicate");

    let states = ana.states();
    let reconnect = states.iter().position(|s| matches!(s, ConnectionState::Reconnecting { .. })).expect("lost");
    let (last, retrying) = states[reconnect..].split_last().expect("states");
    assert_eq!(*last, ConnectionState::Online, "{states:?}");
    assert!(retrying.iter().all(|s| matches!(s, ConnectionState::Reconnecting { .. })), "{states:?}");
    // The replayed room was announced again, so the UI can refresh its member list.
    let joins = ana
        .log
        .iter()
        .filter(|e| matches!(e, ClientEvent::Server { event: ServerEvent::Joined(j) } if j.room == "lobby"))
        .count();
    assert_eq!(joins, 2);
    ana.client.shutdown().await;
}

#[tokio::test]
async fn direct_messages_sent_while_away_arrive_at_the_next_start() {
    let server = TestServer::start().await;
    let url = server.url();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut ana = TestClient::start_with(config(&url, "Ana", dir.path()));
    ana.wait_online().await;
    ana.client.shutdown().await;

    let mut bob = RawClient::connect(&url, "bob").await;
    for (n, text) in ["are you there?", "call me"].into_iter().enumerate() {
        let client_id = format!("dm-{n}");
        bob.send(&ClientMessage::Send {
            room: "@ana".into(),
            text: text.into(),
            client_id,
            poll: None,
            reply_to: None,
            announce: false,
        })
        .await;
        bob.recv_until(|e| matches!(e, ServerEvent::Ack(_)).then_some(())).await;
    }

    let mut ana = TestClient::start_with(config(&url, "Ana", dir.path()));
    let messages = ana.wait_messages("@bob", 2, Duration::from_secs(5)).await;
    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["are you there?", "call me"]);
    // A live one continues the conversation.
    bob.send(&ClientMessage::Send {
        room: "@ana".into(),
        text: "hello?".into(),
        client_id: "dm-3".into(),
        poll: None,
        reply_to: None,
        announce: false,
    })
    .await;
    let messages = ana.wait_messages("@bob", 3, Duration::from_secs(5)).await;
    assert_eq!(messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    ana.client.shutdown().await;
}
