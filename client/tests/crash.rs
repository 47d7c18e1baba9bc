//! A server killed without warning while a client is sending: nothing lost, nothing twice, nothing out of order.

use std::time::Duration;

use parlor_client::{ClientEvent, ConnectionState};
use parlor_protocol::{ChatMessage, ServerEvent};

use crate::util::{ServerProcess, TestClient};

const COUNT: usize = 60;

fn text(n: usize) -> String {
    format!("message {n:02}")
}

/// The texts and seqs are exactly `text(0..COUNT)` and `1..=COUNT`.
fn assert_complete(messages: &[ChatMessage], who: &str) {
    let texts: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let expected: Vec<String> = (0..COUNT).map(text).collect();
    assert_eq!(texts, expected, "{who}: every message once, in send order");
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
    let contiguous: Vec<u64> = (1..=COUNT as u64).collect();
    assert_eq!(seqs, contiguous, "{who}: seqs contiguous");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_loses_and_duplicates_nothing() {
    let data = tempfile::tempdir().expect("temporary directory");
    let mut server = ServerProcess::start(data.path(), 0).await;
    let url = server.url();
    let mut bob = TestClient::start(&url, "bob");
    bob.wait_online().await;
    bob.join("lobby").await;
    let mut ana = TestClient::start(&url, "ana");
    ana.wait_online().await;
    ana.join("lobby").await;

    // A steady stream of sends; the server dies a third of the way in and comes back a second later.
    let mut killed_at = None;
    for n in 0..COUNT {
        ana.client.send("lobby", &text(n)).expect("queued");
        if n == COUNT / 3 {
            server.kill().await;
            killed_at = Some(tokio::time::Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(killed_at) = killed_at {
        tokio::time::sleep_until(killed_at + Duration::from_secs(1)).await;
    }
    server.restart().await;

    let received = bob.wait_messages("lobby", COUNT, Duration::from_secs(30)).await;
    assert_complete(&received, "bob");
    ana.wait_messages("lobby", COUNT, Duration::from_secs(10)).await;
    ana.wait_outbox_empty().await;
    // Nothing more trickles in: no late duplicate.
    bob.settle(Duration::from_millis(300)).await;
    ana.settle(Duration::from_millis(100)).await;
    assert_complete(&crate::util::messages(&bob.log, "lobby"), "bob, after settling");
    assert_complete(&crate::util::messages(&ana.log, "lobby"), "ana's own copies");
    for who in [&bob, &ana] {
        let states = who.states();
        let lost = states.iter().position(|s| matches!(s, ConnectionState::Reconnecting { .. }));
        let back = states.iter().rposition(|s| *s == ConnectionState::Online);
        assert!(matches!((lost, back), (Some(l), Some(b)) if l < b), "reconnected: {states:?}");
    }
    // Every message was queued once and acknowledged once.
    let queued = ana.log.iter().filter(|e| matches!(e, ClientEvent::Queued { .. })).count();
    let acked = ana.log.iter().filter(|e| matches!(e, ClientEvent::Server { event: ServerEvent::Ack(_) })).count();
    assert_eq!((queued, acked), (COUNT, COUNT));

    // The server's own record: the room holds each text once, in order (two pages of history).
    bob.client.history("lobby", None, None).expect("online");
    let newest = bob.wait_for("a history page", history_page).await;
    let first_seq = newest.first().map(|m| m.seq).expect("a page");
    bob.client.history("lobby", Some(first_seq), None).expect("online");
    let mut stored = bob.wait_for("an older history page", history_page).await;
    stored.extend(newest);
    assert_complete(&stored, "the stored room");
    bob.client.shutdown().await;
    ana.client.shutdown().await;
}

fn history_page(event: &ClientEvent) -> Option<Vec<ChatMessage>> {
    match event {
        ClientEvent::Server { event: ServerEvent::History(page) } if page.room == "lobby" => {
            Some(page.messages.clone())
        }
        _ => None,
    }
}
