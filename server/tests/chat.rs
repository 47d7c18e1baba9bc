//! Rooms, presence, typing and direct messages between real clients.

use std::time::Duration;

use parlor_protocol::{ClientMessage, ErrorCode, LeaveReason, ServerEvent};
use parlor_server::ServerLimits;

use crate::util::{message_text, TestServer};

#[tokio::test]
async fn two_clients_chat_in_a_room() {
    let server = TestServer::start().await;
    let mut ana = server.client("Ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;

    let seq = ana.say("lobby", "hello bo").await;
    let seen = bo
        .recv_until(|e| match e {
            ServerEvent::Message(m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(
        (seen.from.as_str(), seen.text.as_str(), seen.seq, seen.room.as_str()),
        ("Ana", "hello bo", seq, "lobby")
    );
    assert!(seen.ts > 1_600_000_000_000, "a real timestamp in milliseconds");

    let reply = bo.say("lobby", "hi Ana").await;
    assert_eq!(reply, seq + 1, "sequence numbers run without gaps");
    let text = ana.recv_until(|e| message_text(&e).filter(|t| t.starts_with("hi")).map(str::to_owned)).await;
    assert_eq!(text, "hi Ana");
}

#[tokio::test]
async fn join_leave_and_the_online_list() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    assert_eq!(ana.join("lobby", None).await.members, ["ana"]);
    let joined = bo.join("lobby", None).await;
    assert_eq!(joined.members, ["ana", "bo"]);
    let came = ana
        .recv_until(|e| match e {
            ServerEvent::MemberJoined { room, nick } => Some((room, nick)),
            _ => None,
        })
        .await;
    assert_eq!(came, ("lobby".to_owned(), "bo".to_owned()));

    ana.send(&ClientMessage::Who { room: "lobby".into() }).await;
    let members = ana
        .recv_until(|e| match e {
            ServerEvent::Members { members, .. } => Some(members),
            _ => None,
        })
        .await;
    assert_eq!(members, ["ana", "bo"]);

    bo.send(&ClientMessage::Leave { room: "lobby".into() }).await;
    bo.recv_until(|e| matches!(e, ServerEvent::Left { room } if room == "lobby").then_some(())).await;
    let went = ana
        .recv_until(|e| match e {
            ServerEvent::MemberLeft { nick, reason, .. } => Some((nick, reason)),
            _ => None,
        })
        .await;
    assert_eq!(went, ("bo".to_owned(), LeaveReason::Left));

    bo.join("lobby", None).await;
    drop(bo);
    let went = ana
        .recv_until(|e| match e {
            ServerEvent::MemberLeft { nick, reason, .. } => Some((nick, reason)),
            _ => None,
        })
        .await;
    assert_eq!(went, ("bo".to_owned(), LeaveReason::Disconnected));
}

#[tokio::test]
async fn typing_expires_when_the_typist_goes_quiet() {
    let limits = ServerLimits { typing_ttl: Duration::from_millis(300), ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;

    ana.send(&ClientMessage::Typing { room: "lobby".into(), typing: true }).await;
    let started = bo
        .recv_until(|e| match e {
            ServerEvent::Typing { nick, typing, .. } => Some((nick, typing)),
            _ => None,
        })
        .await;
    assert_eq!(started, ("ana".to_owned(), true));
    let began = tokio::time::Instant::now();
    let stopped = bo
        .recv_until(|e| match e {
            ServerEvent::Typing { nick, typing, .. } => Some((nick, typing)),
            _ => None,
        })
        .await;
    assert_eq!(stopped, ("ana".to_owned(), false), "the server ends typing itself");
    assert!(began.elapsed() >= Duration::from_millis(200), "not before the time-to-live");

    // Sending a message ends typing at once.
    ana.send(&ClientMessage::Typing { room: "lobby".into(), typing: true }).await;
    bo.recv_until(|e| matches!(e, ServerEvent::Typing { typing: true, .. }).then_some(())).await;
    ana.say("lobby", "done typing").await;
    bo.recv_until(|e| matches!(e, ServerEvent::Typing { typing: false, .. }).then_some(())).await;
}

#[tokio::test]
async fn a_direct_message_reaches_only_its_target() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("Bo").await;
    let mut cy = server.client("cy").await;
    for client in [&mut ana, &mut bo, &mut cy] {
        client.join("lobby", None).await;
    }

    let ack = ana.say_with_id("@bo", "just between us", "dm-1").await;
    assert_eq!(ack.room, "@bo");
    let got = bo
        .recv_until(|e| match e {
            ServerEvent::Message(m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!((got.room.as_str(), got.from.as_str(), got.text.as_str()), ("@ana", "ana", "just between us"));
    cy.expect_none(Duration::from_millis(500), |e| message_text(e).is_some()).await;

    // Bo answers in the same conversation; its sequence continues.
    let answer = bo.say("@ana", "sure").await;
    assert_eq!(answer, ack.seq + 1);

    // A new connection of Bo's sees the conversation listed in welcome.
    drop(bo);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut bo_again = crate::util::Client::connect(&server.url()).await;
    let welcome = bo_again.hello("bo").await;
    assert_eq!(welcome.dms.len(), 1);
    assert_eq!((welcome.dms[0].room.as_str(), welcome.dms[0].last_seq), ("@ana", 2));

    ana.send(&ClientMessage::Send {
        room: "@nobody".into(),
        text: "hi".into(),
        client_id: "dm-2".into(),
        poll: None,
        reply_to: None,
        announce: false,
    })
    .await;
    let err = ana.expect_error(ErrorCode::NoSuchUser).await;
    assert_eq!(err.client_id.as_deref(), Some("dm-2"));
}

#[tokio::test]
async fn rooms_are_created_listed_and_given_topics() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.send(&ClientMessage::CreateRoom { room: "Maths".into(), topic: Some("fractions".into()), password: None })
        .await;
    let created = bo
        .recv_until(|e| match e {
            ServerEvent::RoomCreated(info) => Some(info),
            _ => None,
        })
        .await;
    assert_eq!((created.room.as_str(), created.topic.as_str()), ("maths", "fractions"));

    ana.send(&ClientMessage::CreateRoom { room: "maths".into(), topic: None, password: None }).await;
    ana.expect_error(ErrorCode::RoomExists).await;

    bo.join("maths", None).await;
    bo.send(&ClientMessage::SetTopic { room: "maths".into(), topic: "decimals".into() }).await;
    let topic = bo
        .recv_until(|e| match e {
            ServerEvent::Topic { topic, by, .. } => Some((topic, by)),
            _ => None,
        })
        .await;
    assert_eq!(topic, ("decimals".to_owned(), "bo".to_owned()));

    ana.send(&ClientMessage::ListRooms).await;
    let rooms = ana
        .recv_until(|e| match e {
            ServerEvent::RoomList { rooms } => Some(rooms),
            _ => None,
        })
        .await;
    let listed: Vec<(&str, &str, u32)> = rooms.iter().map(|r| (r.room.as_str(), r.topic.as_str(), r.members)).collect();
    assert_eq!(listed, [("lobby", "", 0), ("maths", "decimals", 1)]);

    ana.send(&ClientMessage::Join { room: "physics".into(), after: None, after_rev: None, password: None }).await;
    ana.expect_error(ErrorCode::NoSuchRoom).await;
}

#[tokio::test]
async fn nicknames_are_unique_among_those_online_and_checked() {
    let server = TestServer::start().await;
    let _ana = server.client("ana").await;
    let mut other = crate::util::Client::connect(&server.url()).await;
    other
        .send(&ClientMessage::Hello { protocol: 1, nick: "ANA".into(), client: None, password: None, auth: None })
        .await;
    other.expect_error(ErrorCode::NickTaken).await;
    other
        .send(&ClientMessage::Hello { protocol: 1, nick: "a b".into(), client: None, password: None, auth: None })
        .await;
    other.expect_error(ErrorCode::InvalidNick).await;
    other
        .send(&ClientMessage::Hello { protocol: 2, nick: "ana2".into(), client: None, password: None, auth: None })
        .await;
    other.expect_error(ErrorCode::UnsupportedVersion).await;
    // The connection survives refusals: the next good hello works.
    assert_eq!(other.hello("ana2").await.nick, "ana2");
    other
        .send(&ClientMessage::Hello { protocol: 1, nick: "again".into(), client: None, password: None, auth: None })
        .await;
    other.expect_error(ErrorCode::AlreadyGreeted).await;
}

#[tokio::test]
async fn a_server_password_is_required_when_set() {
    let server = TestServer::with_password("open sesame").await;
    let mut ana = crate::util::Client::connect(&server.url()).await;
    ana.send(&ClientMessage::Hello { protocol: 1, nick: "ana".into(), client: None, password: None, auth: None }).await;
    ana.expect_error(ErrorCode::PasswordRequired).await;
    let wrong = Some("open says me".into());
    ana.send(&ClientMessage::Hello { protocol: 1, nick: "ana".into(), client: None, password: wrong, auth: None })
        .await;
    ana.expect_error(ErrorCode::WrongPassword).await;
    let right = Some("open sesame".into());
    ana.send(&ClientMessage::Hello { protocol: 1, nick: "ana".into(), client: None, password: right, auth: None })
        .await;
    ana.recv_until(|e| matches!(e, ServerEvent::Welcome(_)).then_some(())).await;
}

#[tokio::test]
async fn a_send_right_behind_a_join_is_accepted() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    // No waiting for `joined`: the two requests travel back to back.
    ana.send(&ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None }).await;
    let ack = ana.say_with_id("lobby", "right away", "pipelined-1").await;
    assert_eq!(ack.seq, 1);
}
