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
        ClientMessage::Moderate { token: "not the token".into() },
        ClientMessage::Moderate { token: token(&server)[..63].to_owned().into() },
    ] {
        ana.send(&request).await;
        ana.expect_error(ErrorCode::NotModerator).await;
    }
    ana.say("lobby", "still free to talk").await;
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
