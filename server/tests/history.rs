//! Paging through stored history.

use parlor_protocol::{ClientMessage, HistoryPage, ServerEvent};

use crate::util::{Client, TestServer};

async fn page(client: &mut Client, before: Option<u64>, after: Option<u64>, limit: u32) -> HistoryPage {
    client.send(&ClientMessage::History { room: "lobby".into(), before, after, limit: Some(limit) }).await;
    client
        .recv_until(|e| match e {
            ServerEvent::History(page) => Some(page),
            _ => None,
        })
        .await
}

fn seqs(page: &HistoryPage) -> Vec<u64> {
    page.messages.iter().map(|m| m.seq).collect()
}

#[tokio::test]
async fn history_pages_backwards_and_forwards() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    for n in 1..=7 {
        ana.say("lobby", &format!("message {n}")).await;
    }
    let latest = page(&mut ana, None, None, 3).await;
    assert_eq!((seqs(&latest), latest.has_more), (vec![5, 6, 7], true));
    assert_eq!(latest.messages[0].text, "message 5");
    let older = page(&mut ana, Some(5), None, 3).await;
    assert_eq!((seqs(&older), older.has_more), (vec![2, 3, 4], true));
    let oldest = page(&mut ana, Some(2), None, 3).await;
    assert_eq!((seqs(&oldest), oldest.has_more), (vec![1], false));
    let newer = page(&mut ana, None, Some(4), 2).await;
    assert_eq!((seqs(&newer), newer.has_more), (vec![5, 6], true));
    let newest = page(&mut ana, None, Some(5), 10).await;
    assert_eq!((seqs(&newest), newest.has_more), (vec![6, 7], false));

    // History can be read without joining.
    let mut bo = server.client("bo").await;
    assert_eq!(seqs(&page(&mut bo, None, None, 50).await), (1..=7).collect::<Vec<_>>());
}

/// Long messages: a `history` page and a resume's replay hold at most half the outbound queue, cut short with
/// `has_more` and a `too_many` gap instead of cutting off a client that reads (a fuzz finding: 4001 "you stopped
/// reading" for a client that asked for one page). A client asking for many such pages without reading is held
/// back, not disconnected, and gets every page once it reads.
#[tokio::test]
async fn long_replies_are_cut_to_fit_and_never_disconnect_a_reader() {
    let limits = parlor_server::ServerLimits {
        rate_per_second: 10_000,
        rate_burst: 10_000,
        outbound_queue_bytes: 256 * 1024,
        ..parlor_server::ServerLimits::default()
    };
    let budget = limits.reply_budget();
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let long = "😀".repeat(4000); // 16 000 bytes on the wire
    let total = 60u64; // ~960 kB: several times the budget
    for _ in 0..total {
        ana.say("lobby", &long).await;
    }

    // One page of 200 asked: as many of the newest as fit, and `has_more`.
    let latest = page(&mut ana, None, None, 200).await;
    let bytes: usize = latest.messages.iter().map(|m| m.text.len()).sum();
    assert!(bytes <= budget && latest.has_more, "{} messages, {bytes} bytes", latest.messages.len());
    assert_eq!(latest.messages.last().map(|m| m.seq), Some(total));
    // Paging back collects every message exactly once.
    let mut seen = seqs(&latest);
    let mut more = latest.has_more;
    while more {
        let older = page(&mut ana, seen.first().copied(), None, 200).await;
        assert!(!older.messages.is_empty());
        seen.splice(0..0, seqs(&older));
        more = older.has_more;
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());

    // A resume from the start replays the newest that fit and reports the rest as a `too_many` gap.
    let mut bo = server.client("bo").await;
    let joined = bo.join("lobby", Some(0)).await;
    let gap = joined.gap.expect("a gap for what did not fit");
    assert_eq!((gap.from, gap.reason), (1, parlor_protocol::GapReason::TooMany));
    let mut replayed = Vec::new();
    while replayed.last() != Some(&total) {
        match bo.recv().await {
            ServerEvent::Message(m) => replayed.push(m.seq),
            other => panic!("expected the replay, got {other:?}"),
        }
    }
    assert_eq!(replayed, (gap.to + 1..=total).collect::<Vec<_>>());

    // Twenty pages asked at once (~2.5 MB of replies, ten times the queue): all arrive, the connection lives.
    for _ in 0..20 {
        bo.send(&ClientMessage::History { room: "lobby".into(), before: None, after: None, limit: Some(200) }).await;
    }
    for n in 0..20 {
        let reply = bo
            .recv_until(|e| match e {
                ServerEvent::History(page) => Some(page),
                _ => None,
            })
            .await;
        assert_eq!(reply.messages.last().map(|m| m.seq), Some(total), "page {n}");
    }
    bo.assert_alive().await;
}
