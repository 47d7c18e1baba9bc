//! Polls: a message with options that members vote on (one changeable vote each) until its creator or a moderator
//! closes it; every change reaches the room as `message_updated`, and the results are stored with the message.

use parlor_protocol::{ChatMessage, ClientMessage, ErrorCode, PollSpec, ServerEvent};

use crate::util::{Client, TestServer};

/// Posts a poll and returns its seq.
pub async fn ask(client: &mut Client, room: &str, question: &str, options: &[&str], multiple: bool) -> u64 {
    let client_id = client.client_id();
    let poll = PollSpec { options: options.iter().map(|o| (*o).to_owned()).collect(), multiple };
    let send = ClientMessage::Send {
        room: room.into(),
        text: question.into(),
        client_id: client_id.clone(),
        poll: Some(poll),
        reply_to: None,
        announce: false,
    };
    client.send(&send).await;
    client
        .recv_until(|e| match e {
            ServerEvent::Ack(ack) if ack.client_id == client_id => Some(ack.seq),
            ServerEvent::Error(err) => panic!("poll refused: {err:?}"),
            _ => None,
        })
        .await
}

/// The next `message_updated` for `seq`.
pub async fn updated(client: &mut Client, seq: u64) -> ChatMessage {
    client
        .recv_until(|e| match e {
            ServerEvent::MessageUpdated(message) if message.seq == seq => Some(message),
            ServerEvent::Error(err) => panic!("a change was refused: {err:?}"),
            _ => None,
        })
        .await
}

/// The next `message_updated` for `seq` at every client, which must all be the same.
pub async fn all_see(clients: &mut [&mut Client], seq: u64) -> ChatMessage {
    let mut seen = Vec::new();
    for client in clients.iter_mut() {
        seen.push(updated(client, seq).await);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "everyone sees the same change: {seen:?}");
    seen.pop().expect("at least one client")
}

fn voters(message: &ChatMessage) -> Vec<Vec<String>> {
    message.poll.as_ref().expect("a poll").options.iter().map(|o| o.voters.clone()).collect()
}

fn vote(room: &str, seq: u64, choices: &[u32]) -> ClientMessage {
    ClientMessage::Vote { room: room.into(), seq, choices: choices.to_vec() }
}

#[tokio::test]
async fn members_vote_change_their_vote_and_the_creator_closes_the_poll() {
    let mut server = TestServer::start().await;
    let mut teacher = server.client("Teacher").await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    for client in [&mut teacher, &mut ana, &mut bo] {
        client.join("lobby", None).await;
    }
    let seq = ask(&mut teacher, "lobby", "Which is prime?", &["9", "11", "15"], false).await;
    let posted = ana
        .recv_until(|e| match e {
            ServerEvent::Message(message) if message.seq == seq => Some(message),
            _ => None,
        })
        .await;
    let poll = posted.poll.as_ref().expect("the message carries its poll");
    assert_eq!(posted.text, "Which is prime?");
    assert_eq!(poll.options.iter().map(|o| o.text.as_str()).collect::<Vec<_>>(), ["9", "11", "15"]);
    assert!(!poll.multiple && !poll.closed && poll.options.iter().all(|o| o.voters.is_empty()));

    ana.send(&vote("lobby", seq, &[0])).await;
    let first = all_see(&mut [&mut teacher, &mut ana, &mut bo], seq).await;
    assert_eq!(voters(&first), [vec!["ana".to_owned()], vec![], vec![]]);
    ana.send(&vote("lobby", seq, &[1])).await;
    let changed = all_see(&mut [&mut teacher, &mut ana, &mut bo], seq).await;
    assert_eq!(voters(&changed), [vec![], vec!["ana".to_owned()], vec![]], "the vote moved, not doubled");
    bo.send(&vote("lobby", seq, &[1])).await;
    let both = all_see(&mut [&mut teacher, &mut ana, &mut bo], seq).await;
    assert_eq!(voters(&both), [vec![], vec!["ana".to_owned(), "bo".to_owned()], vec![]]);
    assert!(both.rev > changed.rev, "revisions grow: {} then {}", changed.rev, both.rev);
    assert_eq!((both.id, both.client_id.as_str()), (posted.id, posted.client_id.as_str()), "the same message, whole");

    bo.send(&vote("lobby", seq, &[0, 2])).await;
    bo.expect_error(ErrorCode::InvalidVote).await;
    bo.send(&vote("lobby", seq, &[3])).await;
    bo.expect_error(ErrorCode::InvalidVote).await;
    ana.send(&ClientMessage::ClosePoll { room: "lobby".into(), seq }).await;
    ana.expect_error(ErrorCode::NotYours).await;

    teacher.send(&ClientMessage::ClosePoll { room: "lobby".into(), seq }).await;
    let closed = all_see(&mut [&mut teacher, &mut ana, &mut bo], seq).await;
    assert!(closed.poll.as_ref().expect("poll").closed);
    bo.send(&vote("lobby", seq, &[2])).await;
    bo.expect_error(ErrorCode::PollClosed).await;

    server.restart().await;
    let mut later = server.client("cy").await;
    later.join("lobby", None).await;
    later.send(&ClientMessage::History { room: "lobby".into(), before: None, after: None, limit: None }).await;
    let page = later
        .recv_until(|e| match e {
            ServerEvent::History(page) => Some(page),
            _ => None,
        })
        .await;
    let stored = page.messages.iter().find(|m| m.seq == seq).expect("the poll is in history");
    assert_eq!(stored.poll, closed.poll, "final results survive a restart");
    assert_eq!(stored.rev, closed.rev);
}

#[tokio::test]
async fn multiple_choice_polls_take_several_options_and_an_empty_vote_withdraws() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let seq = ask(&mut ana, "lobby", "Which do you play?", &["chess", "go", "bridge"], true).await;
    ana.send(&vote("lobby", seq, &[2, 0])).await;
    assert_eq!(voters(&updated(&mut ana, seq).await), [vec!["ana".to_owned()], vec![], vec!["ana".to_owned()]]);
    ana.send(&vote("lobby", seq, &[])).await;
    assert!(voters(&updated(&mut ana, seq).await).iter().all(Vec::is_empty));
}

#[tokio::test]
async fn bad_polls_and_votes_get_coded_errors() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    let eleven: Vec<String> = (0..11).map(|n| n.to_string()).collect();
    for options in [vec!["only".to_owned()], eleven, vec!["yes".into(), " YES".into()], vec!["a".into(), "".into()]] {
        let client_id = ana.client_id();
        let send = ClientMessage::Send {
            room: "lobby".into(),
            text: "q?".into(),
            client_id: client_id.clone(),
            poll: Some(PollSpec { options, multiple: false }),
            reply_to: None,
            announce: false,
        };
        ana.send(&send).await;
        let refused = ana.expect_error(ErrorCode::InvalidPoll).await;
        assert_eq!(refused.client_id.as_deref(), Some(client_id.as_str()), "the refusal names the send");
    }
    let plain = ana.say("lobby", "not a poll").await;
    ana.send(&vote("lobby", plain, &[0])).await;
    ana.expect_error(ErrorCode::NotAPoll).await;
    ana.send(&ClientMessage::ClosePoll { room: "lobby".into(), seq: plain }).await;
    ana.expect_error(ErrorCode::NotAPoll).await;
    ana.send(&vote("lobby", 999, &[0])).await;
    ana.expect_error(ErrorCode::NoSuchMessage).await;
    let seq = ask(&mut ana, "lobby", "Ready?", &["yes", "no"], false).await;
    bo.send(&vote("lobby", seq, &[0])).await;
    let outside = bo.expect_error(ErrorCode::NotInRoom).await;
    assert_eq!(outside.room.as_deref(), Some("lobby"));
    ana.assert_alive().await;
}

#[tokio::test]
async fn a_moderator_closes_anyones_poll_and_votes_are_not_posts() {
    let server = TestServer::start().await;
    let mut teacher = server.moderator("teacher").await;
    let mut ana = server.client("ana").await;
    teacher.join("lobby", None).await;
    ana.join("lobby", None).await;
    let seq = ask(&mut ana, "lobby", "Pizza or pasta?", &["pizza", "pasta"], false).await;
    teacher.send(&ClientMessage::LockRoom { room: "lobby".into(), seconds: None }).await;
    ana.send(&vote("lobby", seq, &[0])).await;
    assert_eq!(voters(&updated(&mut ana, seq).await)[0], ["ana"], "a locked room still takes votes");
    teacher.send(&ClientMessage::ClosePoll { room: "lobby".into(), seq }).await;
    assert!(updated(&mut ana, seq).await.poll.expect("poll").closed);
}
