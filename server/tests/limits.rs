//! Limits that keep one client from hurting the others: rate, abuse, slow readers, connection count.

use std::time::Duration;

use futures_util::StreamExt;
use parlor_protocol::{ClientMessage, ErrorCode, LeaveReason, ServerEvent};
use parlor_server::ServerLimits;
use tokio_tungstenite::tungstenite::Message;

use crate::util::{Client, TestServer};

#[tokio::test]
async fn a_fast_sender_is_rate_limited_but_stays_connected() {
    let limits = ServerLimits { rate_per_second: 5, rate_burst: 5, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    for _ in 0..8 {
        ana.send(&ClientMessage::Ping { nonce: None }).await;
    }
    let err = ana.expect_error(ErrorCode::RateLimited).await;
    let wait = err.retry_after_ms.expect("says when to retry");
    assert!(wait > 0 && wait <= 1000, "{wait}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    ana.assert_alive().await;
}

#[tokio::test]
async fn a_client_that_ignores_rate_limits_is_closed_with_1008() {
    let limits = ServerLimits { rate_per_second: 1, rate_burst: 2, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    for _ in 0..20 {
        ana.send(&ClientMessage::Ping { nonce: None }).await;
    }
    assert_eq!(ana.expect_close().await, Some(1008));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_the_others_carry_on() {
    let limits = ServerLimits {
        rate_per_second: 100_000,
        rate_burst: 100_000,
        outbound_queue_bytes: 256 * 1024,
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(limits).await;
    let mut slow = Client::connect_small_buffer(server.addr()).await;
    slow.hello("slow").await;
    slow.join("lobby", None).await;
    let mut cy = server.client("cy").await;
    cy.join("lobby", None).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;

    // Cy reads normally throughout and records what it sees.
    let total = 4000u64;
    let watcher = tokio::spawn(async move {
        let mut next_seq = 1;
        let mut slow_left = false;
        while next_seq <= total || !slow_left {
            match cy.recv().await {
                ServerEvent::Message(m) => {
                    assert_eq!(m.seq, next_seq, "cy gets every message in order");
                    next_seq += 1;
                }
                ServerEvent::MemberLeft { nick, reason, .. } if nick == "slow" => {
                    assert_eq!(reason, LeaveReason::Disconnected);
                    slow_left = true;
                }
                _ => {}
            }
        }
    });

    // Ana sends ~16 MB in windows of 16 messages: far more than the slow client's buffers and queue can hold.
    let text = "x".repeat(4000);
    for window in 0..total / 16 {
        for n in 0..16 {
            let client_id = format!("flood-{window}-{n}");
            let send = ClientMessage::Send {
                room: "lobby".into(),
                text: text.clone(),
                client_id,
                poll: None,
                reply_to: None,
                announce: false,
            };
            ana.send(&send).await;
        }
        let mut acked = 0;
        while acked < 16 {
            if let ServerEvent::Ack(_) = ana.recv().await {
                acked += 1;
            }
        }
    }
    tokio::time::timeout(Duration::from_secs(60), watcher).await.expect("cy saw everything in time").expect("cy");

    // The slow client finds its connection ended when it finally reads.
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match slow.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the slow connection ends");
    assert!(matches!(ended, None | Some(4001)), "closed as a slow consumer, got {ended:?}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_with_1013() {
    let limits = ServerLimits { max_connections: 2, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let _a = server.client("a").await;
    let _b = server.client("b").await;
    let mut third = Client::connect(&server.url()).await;
    assert_eq!(third.expect_close().await, Some(1013));
}
