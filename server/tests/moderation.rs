//! Moderators: the host's token (in the data directory) makes a connection a moderator, who may lock a room (for a
//! while or until unlocked) and set slow mode. Everyone else gets a coded refusal for each moderator request.

use std::time::Duration;

use parlor_protocol::{ClientMessage, ErrorCode, RoomState, ServerEvent};

use crate::util::{Client, TestServer};

fn token(server: &TestServer) -> String {
    server.moderator_token()
}

async fn moderator(server: &TestServer, nick: &str) -> Client {
    server.moderator(nick).await
}

async fn room_state(client: &mut Client) -> RoomState {
    client
        .recv_until(|e| match e {
            ServerEvent::RoomState(state) => Some(state),
            _ => None,
        })
        .await
}

async fn send_refused(client: &mut Client, text: &str) -> parlor_protocol::ErrorEvent {
    let client_id = client.client_id();
    client
        .send(&ClientMessage::Send {
            room: "lobby".into(),
            text: text.into(),
            client_id: client_id.clone(),
            poll: None,
            reply_to: None,
            announce: false,
        })
        .await;
    client
        .recv_until(|e| match e {
            ServerEvent::Error(err) if err.client_id.as_deref() == Some(&client_id) => Some(err),
            ServerEvent::Ack(ack) if ack.client_id == client_id => panic!("{text:?} was posted"),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn everyone_else_is_refused_each_moderator_request() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    for request in [
        ClientMessage::LockRoom { room: "lobby".into(), seconds: None },
        ClientMessage::LockRoom { room: "lobby".into(), seconds: Some(60) },
        ClientMessage::UnlockRoom { room: "lobby".into() },
        ClientMessage::SlowMode { room: "lobby".into(), seconds: 5 },
        ClientMessage::CallOn { room: "lobby".into(), nick: "ana".into() },
        ClientMessage::ClearHands { room: "lobby".into() },
        ClientMessage::Mute { room: "lobby".into(), nick: "bo".into() },
        ClientMessage::Unmute { room: "lobby".into(), nick: "bo".into() },
        ClientMessage::Remove { room: "lobby".into(), nick: "bo".into() },
        ClientMessage::Readmit { room: "lobby".into(), nick: "bo".into() },
        ClientMessage::Pin { room: "lobby".into(), seq: 1 },
        ClientMessage::Unpin { room: "lobby".into() },
        ClientMessage::Moderate { token: "not the token".into() },
        ClientMessage::Moderate { token: token(&server)[..63].to_owned().into() },
    ] {
        ana.send(&request).await;
        ana.expect_error(ErrorCode::NotModerator).await;
    }
    let announce = ClientMessage::Send {
        room: "lobby".into(),
        text: "Everyone must read this".into(),
        client_id: "not-a-teacher".into(),
        poll: None,
        reply_to: None,
        announce: true,
    };
    ana.send(&announce).await;
    let refused = ana.expect_error(ErrorCode::NotModerator).await;
    assert_eq!(refused.client_id.as_deref(), Some("not-a-teacher"));
    ana.say("lobby", "still free to talk").await;
}

async fn rules(client: &mut Client) -> RoomState {
    room_state(client).await
}

#[tokio::test]
async fn a_muted_participant_reads_votes_and_reacts_but_does_not_post_until_unmuted() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut bo = server.client("Bo").await;
    teacher.join("lobby", None).await;
    bo.join("lobby", None).await;
    let seq = teacher.say("lobby", "quiet please").await;
    teacher.send(&ClientMessage::Mute { room: "lobby".into(), nick: "BO".into() }).await;
    assert_eq!(rules(&mut bo).await.muted, ["BO"], "everyone sees who is muted");
    assert_eq!(send_refused(&mut bo, "but sir").await.code, ErrorCode::Muted);
    bo.send(&ClientMessage::Publish { room: "lobby".into(), points: [("x".to_owned(), 1.into())].into() }).await;
    bo.expect_error(ErrorCode::Muted).await;
    bo.send(&ClientMessage::React { room: "lobby".into(), seq, emoji: "👍".into(), on: true }).await;
    bo.recv_until(|e| matches!(e, ServerEvent::MessageUpdated(m) if m.reactions.len() == 1).then_some(())).await;
    teacher.send(&ClientMessage::Unmute { room: "lobby".into(), nick: "bo".into() }).await;
    assert!(rules(&mut bo).await.muted.is_empty());
    bo.say("lobby", "thank you").await;
}

#[tokio::test]
async fn a_removed_participant_is_taken_out_and_cannot_rejoin_until_readmitted() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut bo = server.client("bo").await;
    teacher.join("lobby", None).await;
    bo.join("lobby", None).await;
    teacher.send(&ClientMessage::Remove { room: "lobby".into(), nick: "bo".into() }).await;
    let left = teacher
        .recv_until(|e| match e {
            ServerEvent::MemberLeft { nick, reason, .. } => Some((nick, reason)),
            _ => None,
        })
        .await;
    assert_eq!(left, ("bo".to_owned(), parlor_protocol::LeaveReason::Removed));
    assert_eq!(rules(&mut teacher).await.removed, ["bo"]);
    bo.recv_until(|e| matches!(e, ServerEvent::Left { room } if room == "lobby").then_some(())).await;
    bo.send(&ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None }).await;
    bo.expect_error(ErrorCode::RemovedFromRoom).await;
    let mut again = Client::connect(&server.url()).await;
    drop(bo);
    again.hello("bo").await;
    again.send(&ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None }).await;
    again.expect_error(ErrorCode::RemovedFromRoom).await;
    teacher.send(&ClientMessage::Readmit { room: "lobby".into(), nick: "bo".into() }).await;
    assert!(rules(&mut teacher).await.removed.is_empty());
    again.join("lobby", None).await;
    teacher.send(&ClientMessage::Mute { room: "lobby".into(), nick: "teacher".into() }).await;
    teacher.expect_error(ErrorCode::InvalidNick).await;
}

#[tokio::test]
async fn a_pinned_message_shows_to_joiners_survives_a_restart_and_goes_when_deleted() {
    let mut server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    teacher.join("lobby", None).await;
    let seq = teacher.say("lobby", "Homework: page 12").await;
    teacher.send(&ClientMessage::Pin { room: "lobby".into(), seq: 999 }).await;
    teacher.expect_error(ErrorCode::NoSuchMessage).await;
    teacher.send(&ClientMessage::Pin { room: "lobby".into(), seq }).await;
    let (message, by) = teacher
        .recv_until(|e| match e {
            ServerEvent::Pinned { message, by, .. } => Some((message, by)),
            _ => None,
        })
        .await;
    assert_eq!((message.map(|m| m.text), by.as_deref()), (Some("Homework: page 12".to_owned()), Some("teacher")));
    drop(teacher);
    server.restart().await;
    let mut ana = server.client("ana").await;
    ana.send(&ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None }).await;
    let pinned = ana
        .recv_until(|e| match e {
            ServerEvent::Pinned { message, .. } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(pinned.map(|m| m.seq), Some(seq), "a joiner sees the pin, after a restart too");
    let mut teacher = moderator(&server, "teacher").await;
    teacher.join("lobby", None).await;
    teacher.send(&ClientMessage::Delete { room: "lobby".into(), seq }).await;
    let unpinned = ana
        .recv_until(|e| match e {
            ServerEvent::Pinned { message, .. } => Some(message),
            _ => None,
        })
        .await;
    assert!(unpinned.is_none(), "deleting the pinned message unpins it");
}

#[tokio::test]
async fn an_announcement_tallies_who_has_acknowledged_it() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut ana = server.client("ana").await;
    teacher.join("lobby", None).await;
    ana.join("lobby", None).await;
    let send = ClientMessage::Send {
        room: "lobby".into(),
        text: "Test on Friday".into(),
        client_id: "announce-1".into(),
        poll: None,
        reply_to: None,
        announce: true,
    };
    teacher.send(&send).await;
    let posted = ana
        .recv_until(|e| match e {
            ServerEvent::Message(m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(posted.announcement.as_ref().map(|a| a.acks.len()), Some(0));
    ana.send(&ClientMessage::Acknowledge { room: "lobby".into(), seq: posted.seq }).await;
    let acked = crate::polls::updated(&mut teacher, posted.seq).await;
    assert_eq!(acked.announcement.map(|a| a.acks), Some(vec!["ana".to_owned()]));
    // Someone who comes online later sees the tally so far and adds to it.
    let mut bo = server.client("bo").await;
    bo.join("lobby", None).await;
    bo.send(&ClientMessage::Acknowledge { room: "lobby".into(), seq: posted.seq }).await;
    let both = crate::polls::updated(&mut teacher, posted.seq).await;
    assert_eq!(both.announcement.map(|a| a.acks), Some(vec!["ana".to_owned(), "bo".to_owned()]));
    let plain = ana.say("lobby", "ok").await;
    ana.send(&ClientMessage::Acknowledge { room: "lobby".into(), seq: plain }).await;
    ana.expect_error(ErrorCode::NotAnAnnouncement).await;
}

#[tokio::test]
async fn a_locked_room_refuses_sends_until_unlocked_and_a_timed_lock_ends_by_itself() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut ana = server.client("ana").await;
    teacher.join("lobby", None).await;
    ana.join("lobby", None).await;

    teacher.send(&ClientMessage::LockRoom { room: "lobby".into(), seconds: None }).await;
    let locked = room_state(&mut teacher).await;
    assert!(locked.locked && locked.locked_until_ms.is_none());
    let seen = room_state(&mut ana).await;
    assert_eq!((seen.locked, seen.by.as_deref()), (true, Some("teacher")));
    assert_eq!(send_refused(&mut ana, "may I?").await.code, ErrorCode::RoomLocked);
    teacher.say("lobby", "read the instructions first").await;
    // Someone joining a locked room is told at once.
    let mut bo = server.client("bo").await;
    bo.join("lobby", None).await;
    assert!(room_state(&mut bo).await.locked);

    teacher.send(&ClientMessage::UnlockRoom { room: "lobby".into() }).await;
    assert!(!room_state(&mut ana).await.locked);
    ana.say("lobby", "now I may").await;

    // A lock for one second: the countdown's end is announced, then it unlocks without anyone asking.
    teacher.send(&ClientMessage::LockRoom { room: "lobby".into(), seconds: Some(1) }).await;
    let timed = room_state(&mut ana).await;
    assert!(timed.locked && timed.locked_until_ms.is_some());
    assert_eq!(send_refused(&mut ana, "too early").await.code, ErrorCode::RoomLocked);
    let ended = room_state(&mut ana).await;
    assert_eq!((ended.locked, ended.by), (false, None));
    ana.say("lobby", "after the countdown").await;
}

#[tokio::test]
async fn slow_mode_refuses_a_second_message_within_the_interval() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    for client in [&mut teacher, &mut ana, &mut bo] {
        client.join("lobby", None).await;
    }
    teacher.send(&ClientMessage::SlowMode { room: "lobby".into(), seconds: 1 }).await;
    assert_eq!(room_state(&mut ana).await.slow_mode_s, 1);

    ana.say("lobby", "first").await;
    let refused = send_refused(&mut ana, "second, too soon").await;
    assert_eq!(refused.code, ErrorCode::SlowMode);
    let wait = refused.retry_after_ms.expect("slow mode says when to retry");
    assert!((1..=1000).contains(&wait), "{wait} ms");
    bo.say("lobby", "others are not held back").await;
    teacher.say("lobby", "moderators are exempt").await;
    teacher.say("lobby", "moderators are exempt, twice").await;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    ana.say("lobby", "after waiting as told").await;

    teacher.send(&ClientMessage::SlowMode { room: "lobby".into(), seconds: 0 }).await;
    assert_eq!(room_state(&mut ana).await.slow_mode_s, 0);
    ana.say("lobby", "one").await;
    ana.say("lobby", "two").await;
}

#[tokio::test]
async fn rules_apply_to_rooms_that_exist() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    teacher.send(&ClientMessage::LockRoom { room: "nowhere".into(), seconds: None }).await;
    teacher.expect_error(ErrorCode::NoSuchRoom).await;
    teacher.send(&ClientMessage::LockRoom { room: "@ana".into(), seconds: None }).await;
    teacher.expect_error(ErrorCode::InvalidRoom).await;
    teacher.assert_alive().await;
}

async fn hands(client: &mut Client) -> Vec<String> {
    client
        .recv_until(|e| match e {
            ServerEvent::Hands { raised, .. } => Some(raised),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn raised_hands_queue_in_order_and_a_moderator_calls_on_or_clears_them() {
    let server = TestServer::start().await;
    let mut teacher = moderator(&server, "teacher").await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    for client in [&mut teacher, &mut ana, &mut bo] {
        client.join("lobby", None).await;
    }
    let raise = |raised: bool| ClientMessage::RaiseHand { room: "lobby".into(), raised };
    bo.send(&raise(true)).await;
    assert_eq!(hands(&mut teacher).await, ["bo"]);
    ana.send(&raise(true)).await;
    assert_eq!(hands(&mut teacher).await, ["bo", "ana"], "first raised, first in the queue");
    ana.send(&raise(true)).await; // Already up: nothing changes, so nobody is told.
    bo.send(&raise(false)).await;
    assert_eq!(hands(&mut teacher).await, ["ana"]);
    bo.send(&raise(true)).await;
    assert_eq!(hands(&mut teacher).await, ["ana", "bo"]);

    // Someone joining sees the queue.
    let mut cy = server.client("cy").await;
    cy.join("lobby", None).await;
    assert_eq!(hands(&mut cy).await, ["ana", "bo"]);

    // Non-moderators cannot call on anyone or clear the queue.
    for request in [
        ClientMessage::CallOn { room: "lobby".into(), nick: "ana".into() },
        ClientMessage::ClearHands { room: "lobby".into() },
    ] {
        cy.send(&request).await;
        cy.expect_error(ErrorCode::NotModerator).await;
    }

    teacher.send(&ClientMessage::CallOn { room: "lobby".into(), nick: "ANA".into() }).await;
    let called = ana
        .recv_until(|e| match e {
            ServerEvent::CalledOn { nick, by, .. } => Some((nick, by)),
            _ => None,
        })
        .await;
    assert_eq!(called, ("ana".to_owned(), "teacher".to_owned()));
    assert_eq!(hands(&mut teacher).await, ["bo"], "the hand called on goes down");

    // A hand goes down when its owner leaves.
    drop(bo);
    assert_eq!(hands(&mut teacher).await, Vec::<String>::new());
    ana.send(&raise(true)).await;
    assert_eq!(hands(&mut teacher).await, ["ana"]);
    teacher.send(&ClientMessage::ClearHands { room: "lobby".into() }).await;
    assert_eq!(hands(&mut teacher).await, Vec::<String>::new());

    // Only members raise hands; a moderator calls on members only.
    let mut dee = server.client("dee").await;
    dee.send(&raise(true)).await;
    dee.expect_error(ErrorCode::NotInRoom).await;
    teacher.send(&ClientMessage::CallOn { room: "lobby".into(), nick: "dee".into() }).await;
    teacher.expect_error(ErrorCode::NotInRoom).await;
}
