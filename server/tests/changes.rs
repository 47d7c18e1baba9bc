//! Changes to stored messages besides polls: reactions, replies that quote, edits and deletions — each told to the
//! conversation as `message_updated`, shown as it is now in history, and re-sent to a client that resumes with
//! `after_rev`.

use parlor_protocol::{ChatMessage, ClientMessage, ErrorCode, ServerEvent};
use parlor_server::ServerLimits;

use crate::polls::{all_see, updated};
use crate::util::{Client, TestServer};

fn react(seq: u64, emoji: &str, on: bool) -> ClientMessage {
    ClientMessage::React { room: "lobby".into(), seq, emoji: emoji.into(), on }
}

async fn reply(client: &mut Client, room: &str, text: &str, to: u64) -> Result<u64, ErrorCode> {
    let client_id = client.client_id();
    let send = ClientMessage::Send {
        room: room.into(),
        text: text.into(),
        client_id: client_id.clone(),
        poll: None,
        reply_to: Some(to),
        announce: false,
    };
    client.send(&send).await;
    client
        .recv_until(|e| match e {
            ServerEvent::Ack(ack) if ack.client_id == client_id => Some(Ok(ack.seq)),
            ServerEvent::Error(err) if err.client_id.as_deref() == Some(&client_id) => Some(Err(err.code)),
            _ => None,
        })
        .await
}

async fn history(client: &mut Client, room: &str) -> Vec<ChatMessage> {
    client.send(&ClientMessage::History { room: room.into(), before: None, after: None, limit: None }).await;
    client
        .recv_until(|e| match e {
            ServerEvent::History(page) => Some(page.messages),
            _ => None,
        })
        .await
}

fn counts(message: &ChatMessage) -> Vec<(String, Vec<String>)> {
    message.reactions.iter().map(|r| (r.emoji.clone(), r.by.clone())).collect()
}

#[tokio::test]
async fn reactions_toggle_per_person_and_are_bounded() {
    // Twenty reactions in a row would trip the default rate limit.
    let server = TestServer::with_limits(ServerLimits { rate_burst: 100, ..ServerLimits::default() }).await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("Bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;
    let seq = ana.say("lobby", "we won!").await;
    bo.send(&react(seq, "🎉", true)).await;
    let one = all_see(&mut [&mut ana, &mut bo], seq).await;
    assert_eq!(counts(&one), [("🎉".to_owned(), vec!["Bo".to_owned()])]);
    ana.send(&react(seq, "🎉", true)).await;
    let two = all_see(&mut [&mut ana, &mut bo], seq).await;
    assert_eq!(counts(&two), [("🎉".to_owned(), vec!["Bo".to_owned(), "ana".to_owned()])]);
    ana.send(&react(seq, "🎉", true)).await;
    assert_eq!(all_see(&mut [&mut ana, &mut bo], seq).await.reactions, two.reactions, "repeating changes nothing");
    bo.send(&react(seq, "🎉", false)).await;
    let back = all_see(&mut [&mut ana, &mut bo], seq).await;
    assert_eq!(counts(&back), [("🎉".to_owned(), vec!["ana".to_owned()])]);

    for bad in ["", "two words", "abcdefghijk"] {
        bo.send(&react(seq, bad, true)).await;
        bo.expect_error(ErrorCode::InvalidReaction).await;
    }
    for n in 1..20 {
        bo.send(&react(seq, &format!("e{n}"), true)).await;
        updated(&mut bo, seq).await;
    }
    bo.send(&react(seq, "👀", true)).await;
    bo.expect_error(ErrorCode::InvalidReaction).await;
    bo.send(&react(seq, "🎉", true)).await;
    let full = updated(&mut bo, seq).await;
    assert_eq!(full.reactions.len(), 20, "an existing reaction still takes more people");
}

#[tokio::test]
async fn a_reply_quotes_the_start_of_the_message_it_answers() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;
    let long = "word ".repeat(60);
    let asked = ana.say("lobby", &long).await;
    let seq = reply(&mut bo, "lobby", "agreed", asked).await.expect("a reply is stored");
    let message = ana
        .recv_until(|e| match e {
            ServerEvent::Message(message) if message.seq == seq => Some(message),
            _ => None,
        })
        .await;
    let quote = message.reply_to.expect("a quote");
    assert_eq!((quote.seq, quote.from.as_str()), (asked, "ana"));
    assert_eq!(quote.text.chars().count(), 141, "cut at 140 characters and an ellipsis");
    assert!(long.starts_with(quote.text.trim_end_matches('…')));
    assert_eq!(reply(&mut bo, "lobby", "to nothing", 999).await, Err(ErrorCode::NoSuchMessage));
    let stored = history(&mut bo, "lobby").await;
    assert_eq!(stored.last().and_then(|m| m.reply_to.as_ref()).map(|q| q.seq), Some(asked));
}

#[tokio::test]
async fn senders_edit_and_delete_their_own_and_moderators_delete_anyones() {
    let server = TestServer::start().await;
    let mut teacher = server.moderator("teacher").await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    for client in [&mut teacher, &mut ana, &mut bo] {
        client.join("lobby", None).await;
    }
    let first = ana.say("lobby", "see you at 11").await;
    let second = ana.say("lobby", "spam spam").await;

    ana.send(&ClientMessage::Edit { room: "lobby".into(), seq: first, text: "see you at 10".into() }).await;
    let edited = updated(&mut bo, first).await;
    assert_eq!(edited.text, "see you at 10");
    assert!(edited.edited_ms.is_some_and(|at| at >= edited.ts));

    bo.send(&ClientMessage::Edit { room: "lobby".into(), seq: first, text: "hacked".into() }).await;
    bo.expect_error(ErrorCode::NotYours).await;
    bo.send(&ClientMessage::Delete { room: "lobby".into(), seq: first }).await;
    bo.expect_error(ErrorCode::NotYours).await;
    ana.send(&ClientMessage::Edit { room: "lobby".into(), seq: first, text: "\u{202e}".into() }).await;
    ana.expect_error(ErrorCode::InvalidText).await;

    bo.send(&react(second, "👎", true)).await;
    updated(&mut bo, second).await;
    teacher.send(&ClientMessage::Delete { room: "lobby".into(), seq: second }).await;
    let deleted = updated(&mut bo, second).await;
    assert!(deleted.deleted && deleted.text.is_empty() && deleted.reactions.is_empty());
    for request in [
        ClientMessage::Edit { room: "lobby".into(), seq: second, text: "back".into() },
        ClientMessage::Delete { room: "lobby".into(), seq: second },
        react(second, "👍", true),
    ] {
        ana.send(&request).await;
        ana.expect_error(ErrorCode::NoSuchMessage).await;
    }
    assert_eq!(reply(&mut bo, "lobby", "what was that?", second).await, Err(ErrorCode::NoSuchMessage));

    ana.send(&ClientMessage::Delete { room: "lobby".into(), seq: first }).await;
    updated(&mut ana, first).await;
    let stored = history(&mut bo, "lobby").await;
    let shown: Vec<(u64, &str, bool)> = stored.iter().map(|m| (m.seq, m.text.as_str(), m.deleted)).collect();
    assert_eq!(shown, [(first, "", true), (second, "", true)], "deleted messages keep their places");
}

#[tokio::test]
async fn changes_in_a_direct_conversation_reach_both_people() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    let seq = ana.say("@bo", "psst").await;
    bo.send(&ClientMessage::React { room: "@ana".into(), seq, emoji: "👍".into(), on: true }).await;
    let mine = updated(&mut ana, seq).await;
    let theirs = updated(&mut bo, seq).await;
    assert_eq!((mine.room.as_str(), theirs.room.as_str()), ("@bo", "@ana"), "each names the other person");
    assert_eq!(mine.reactions, theirs.reactions);
    let mut cy = server.client("cy").await;
    cy.send(&ClientMessage::React { room: "@ana".into(), seq, emoji: "👍".into(), on: true }).await;
    cy.expect_error(ErrorCode::NoSuchMessage).await;
}

#[tokio::test]
async fn a_resuming_client_gets_what_changed_while_it_was_away() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let first = ana.say("lobby", "one").await;
    let second = ana.say("lobby", "two").await;
    let mut bo = server.client("bo").await;
    let before = bo.join("lobby", None).await;
    assert_eq!(before.last_rev, 0);
    drop(bo);

    ana.send(&ClientMessage::Edit { room: "lobby".into(), seq: first, text: "one (edited)".into() }).await;
    updated(&mut ana, first).await;
    ana.send(&react(second, "👍", true)).await;
    updated(&mut ana, second).await;
    ana.send(&react(second, "👍", false)).await;
    updated(&mut ana, second).await;
    let third = ana.say("lobby", "three").await;
    ana.send(&react(third, "🎉", true)).await;
    updated(&mut ana, third).await;

    let mut bo = server.client("bo").await;
    bo.send(&ClientMessage::Join {
        room: "lobby".into(),
        after: Some(second),
        after_rev: Some(before.last_rev),
        password: None,
    })
    .await;
    let mut events = Vec::new();
    while events.len() < 4 {
        let event = bo.recv().await;
        if matches!(event, ServerEvent::Joined(_) | ServerEvent::Message(_) | ServerEvent::MessageUpdated(_)) {
            events.push(event);
        }
    }
    let ServerEvent::Joined(joined) = &events[0] else { panic!("joined first: {events:?}") };
    assert_eq!((joined.last_rev, joined.updates_dropped), (4, false));
    let ServerEvent::Message(replayed) = &events[1] else { panic!("the missed message: {events:?}") };
    assert_eq!((replayed.seq, replayed.reactions.len()), (third, 1), "replayed as it is now");
    let changed: Vec<(u64, &str, usize)> = events[2..]
        .iter()
        .map(|e| match e {
            ServerEvent::MessageUpdated(m) => (m.seq, m.text.as_str(), m.reactions.len()),
            other => panic!("expected message_updated, got {other:?}"),
        })
        .collect();
    assert_eq!(changed, [(first, "one (edited)", 0), (second, "two", 0)], "in the order they changed");
    bo.expect_none(std::time::Duration::from_millis(300), |e| matches!(e, ServerEvent::MessageUpdated(_))).await;

    let mut cy = server.client("cy").await;
    cy.send(&ClientMessage::Join { room: "lobby".into(), after: Some(third), after_rev: Some(4), password: None })
        .await;
    let up_to_date = cy
        .recv_until(|e| match e {
            ServerEvent::Joined(joined) => Some(joined),
            _ => None,
        })
        .await;
    assert_eq!(up_to_date.last_rev, 4);
    cy.expect_none(std::time::Duration::from_millis(300), |e| matches!(e, ServerEvent::MessageUpdated(_))).await;
}

#[tokio::test]
async fn more_changes_than_a_resume_holds_are_reported() {
    let limits = ServerLimits { resume_max: 2, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let mut seqs = Vec::new();
    for n in 0..3 {
        seqs.push(ana.say("lobby", &format!("m{n}")).await);
    }
    for &seq in &seqs {
        ana.send(&react(seq, "👍", true)).await;
        updated(&mut ana, seq).await;
    }
    let mut bo = server.client("bo").await;
    bo.send(&ClientMessage::Join { room: "lobby".into(), after: Some(3), after_rev: Some(0), password: None }).await;
    let joined = bo
        .recv_until(|e| match e {
            ServerEvent::Joined(joined) => Some(joined),
            _ => None,
        })
        .await;
    assert!(joined.updates_dropped, "three changed, two re-sent: {joined:?}");
    for &seq in &seqs[..2] {
        assert_eq!(updated(&mut bo, seq).await.reactions.len(), 1);
    }
}
