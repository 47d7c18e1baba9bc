//! Reconnecting: exactly the missed messages, no duplicates on resend, explicit gaps, history across restarts.

use std::time::Duration;

use parlor_protocol::{ClientMessage, GapReason, ServerEvent};
use parlor_server::ServerLimits;

use crate::util::{message_text, Client, TestServer};

async fn collect_messages(client: &mut Client, count: usize) -> Vec<(u64, String)> {
    let mut found = Vec::new();
    while found.len() < count {
        if let ServerEvent::Message(m) = client.recv().await {
            found.push((m.seq, m.text));
        }
    }
    found
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed_and_a_resend_is_not_duplicated() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;
    let last_seen = bo.say("lobby", "before the tunnel").await;
    ana.recv_until(|e| message_text(&e).map(|_| ())).await;

    // Bo's connection drops. The ack of a message it sent just before was lost with it.
    let lost_ack_id = bo.client_id();
    bo.send(&ClientMessage::Send {
        room: "lobby".into(),
        text: "sent as the line dropped".into(),
        client_id: lost_ack_id.clone(),
        poll: None,
        reply_to: None,
        announce: false,
    })
    .await;
    drop(bo);
    let mut missed = Vec::new();
    for n in 1..=3 {
        missed.push(ana.say("lobby", &format!("while bo was away {n}")).await);
    }

    let mut bo = server.client("bo").await;
    let joined = bo.join("lobby", Some(last_seen)).await;
    assert_eq!(joined.gap, None);
    let replayed = collect_messages(&mut bo, 4).await;
    let expected_seqs: Vec<u64> = (last_seen + 1..=joined.last_seq).collect();
    assert_eq!(replayed.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), expected_seqs, "in order, nothing missing");
    assert!(replayed.iter().any(|(_, text)| text == "sent as the line dropped"));
    assert!(replayed.iter().filter(|(_, text)| text.starts_with("while bo was away")).count() == 3);

    // Bo's client resends the unacked message with its original id: acked as a duplicate, posted once.
    let ack = bo.say_with_id("lobby", "sent as the line dropped", &lost_ack_id).await;
    assert!(ack.duplicate);
    assert!(ack.seq <= joined.last_seq);
    ana.expect_none(Duration::from_millis(500), |e| message_text(e) == Some("sent as the line dropped")).await;

    // Live messages continue right after the replay.
    let next = ana.say("lobby", "welcome back").await;
    assert_eq!(next, joined.last_seq + 1);
    let live = collect_messages(&mut bo, 1).await;
    assert_eq!(live, [(next, "welcome back".to_owned())]);
}

#[tokio::test]
async fn a_resume_beyond_what_the_server_keeps_reports_the_gap() {
    let limits = ServerLimits { history_limit: 5, resume_max: 3, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    for n in 1..=10 {
        ana.say("lobby", &format!("m{n}")).await;
    }
    let mut bo = server.client("bo").await;
    // Seqs 1–5 were pruned (only 5 are kept); of 6–10, only the newest 3 are replayed.
    let joined = bo.join("lobby", Some(1)).await;
    let gap = joined.gap.expect("a gap is reported");
    assert_eq!((gap.from, gap.to, gap.reason), (2, 7, GapReason::Pruned));
    let replayed = collect_messages(&mut bo, 3).await;
    assert_eq!(replayed.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [8, 9, 10]);

    let joined = bo.join("lobby", Some(6)).await;
    let gap = joined.gap.expect("too many to replay");
    assert_eq!((gap.from, gap.to, gap.reason), (7, 7, GapReason::TooMany));

    let joined = bo.join("lobby", Some(10)).await;
    assert_eq!((joined.gap, joined.last_seq), (None, 10));
}

#[tokio::test]
async fn history_survives_a_restart_and_numbering_continues() {
    let mut server = TestServer::start().await;
    {
        let mut ana = server.client("ana").await;
        ana.send(&ClientMessage::CreateRoom { room: "maths".into(), topic: Some("fractions".into()), password: None })
            .await;
        ana.join("maths", None).await;
        for n in 1..=3 {
            ana.say("maths", &format!("kept {n}")).await;
        }
        ana.say_with_id("@ana", "note to self", "self-1").await;
    }
    server.restart().await;

    let mut ana = server.client("ana").await;
    let joined = ana.join("maths", Some(0)).await;
    assert_eq!((joined.topic.as_str(), joined.last_seq), ("fractions", 3));
    let replayed = collect_messages(&mut ana, 3).await;
    assert_eq!(replayed[2], (3, "kept 3".to_owned()));
    assert_eq!(ana.say("maths", "after the restart").await, 4);
    // The client id is remembered across the restart too.
    assert!(ana.say_with_id("@ana", "note to self", "self-1").await.duplicate);
}
