//! Room passwords: asked the first time someone enters (never of moderators or the room's creator), remembered
//! across reconnects and restarts, set or removed by moderators.

use parlor_protocol::{ClientMessage, ErrorCode, RoomInfo, ServerEvent};

use crate::util::{Client, TestServer};

fn join(room: &str, password: Option<&str>) -> ClientMessage {
    ClientMessage::Join { room: room.into(), after: None, after_rev: None, password: password.map(Into::into) }
}

async fn joined_or_error(client: &mut Client) -> Result<(), ErrorCode> {
    client
        .recv_until(|e| match e {
            ServerEvent::Joined(_) => Some(Ok(())),
            ServerEvent::Error(err) => Some(Err(err.code)),
            _ => None,
        })
        .await
}

async fn rooms(client: &mut Client) -> Vec<RoomInfo> {
    client.send(&ClientMessage::ListRooms).await;
    client.recv_until(|e| if let ServerEvent::RoomList { rooms } = e { Some(rooms) } else { None }).await
}

#[tokio::test]
async fn a_room_password_is_asked_once_and_remembered_across_restarts() {
    let mut server = TestServer::start().await;
    let mut teacher = server.client("teacher").await;
    let create = ClientMessage::CreateRoom { room: "Maths".into(), topic: None, password: Some("blue whale".into()) };
    teacher.send(&create).await;
    teacher.send(&join("maths", None)).await;
    assert_eq!(joined_or_error(&mut teacher).await, Ok(()), "the creator enters without the password");
    let listed = rooms(&mut teacher).await;
    assert!(listed.iter().any(|r| r.room == "maths" && r.has_password), "{listed:?}");

    let mut ana = server.client("ana").await;
    ana.send(&join("maths", None)).await;
    assert_eq!(joined_or_error(&mut ana).await, Err(ErrorCode::RoomPasswordRequired));
    ana.send(&join("maths", Some("blue shark"))).await;
    assert_eq!(joined_or_error(&mut ana).await, Err(ErrorCode::WrongRoomPassword));
    ana.send(&join("maths", Some("blue whale"))).await;
    assert_eq!(joined_or_error(&mut ana).await, Ok(()));
    drop(ana);

    server.restart().await;
    let mut ana = server.client("ana").await;
    ana.send(&join("maths", None)).await;
    assert_eq!(joined_or_error(&mut ana).await, Ok(()), "ana entered before: no password again, after a restart too");
    let mut bo = server.client("bo").await;
    bo.send(&join("maths", None)).await;
    assert_eq!(joined_or_error(&mut bo).await, Err(ErrorCode::RoomPasswordRequired), "still asked of others");
}

#[tokio::test]
async fn moderators_enter_freely_and_set_or_remove_the_password() {
    let server = TestServer::start().await;
    let mut teacher = server.moderator("teacher").await;
    let mut ana = server.client("ana").await;
    ana.send(&ClientMessage::SetRoomPassword { room: "lobby".into(), password: Some("secret".into()) }).await;
    ana.expect_error(ErrorCode::NotModerator).await;
    teacher.send(&ClientMessage::SetRoomPassword { room: "lobby".into(), password: Some("open sesame".into()) }).await;
    let listed = teacher.recv_until(|e| if let ServerEvent::RoomList { rooms } = e { Some(rooms) } else { None }).await;
    assert!(listed.iter().any(|r| r.room == "lobby" && r.has_password));
    ana.send(&join("lobby", None)).await;
    assert_eq!(joined_or_error(&mut ana).await, Err(ErrorCode::RoomPasswordRequired));
    teacher.send(&join("lobby", None)).await;
    assert_eq!(joined_or_error(&mut teacher).await, Ok(()), "moderators need no room password");
    teacher.send(&ClientMessage::SetRoomPassword { room: "lobby".into(), password: None }).await;
    let listed = teacher.recv_until(|e| if let ServerEvent::RoomList { rooms } = e { Some(rooms) } else { None }).await;
    assert!(listed.iter().all(|r| !r.has_password));
    ana.send(&join("lobby", None)).await;
    assert_eq!(joined_or_error(&mut ana).await, Ok(()));
}

#[tokio::test]
async fn a_password_room_cannot_be_read_without_entering_it() {
    let server = TestServer::start().await;
    let mut teacher = server.moderator("teacher").await;
    let mut ana = server.client("ana").await;
    teacher.join("lobby", None).await;
    ana.join("lobby", None).await;
    teacher.say("lobby", "secret answers: 42").await;
    let mut bo = server.client("bo").await;
    teacher.send(&ClientMessage::SetRoomPassword { room: "lobby".into(), password: Some("open sesame".into()) }).await;
    // Everyone online hears that the room asks for a password now.
    let told = bo.recv_until(|e| if let ServerEvent::RoomList { rooms } = e { Some(rooms) } else { None }).await;
    assert!(told.iter().any(|r| r.room == "lobby" && r.has_password));
    for request in [
        ClientMessage::History { room: "lobby".into(), before: None, after: None, limit: None },
        ClientMessage::Search { room: "lobby".into(), query: "secret".into(), before: None, limit: None },
        ClientMessage::Who { room: "lobby".into() },
    ] {
        bo.send(&request).await;
        bo.expect_error(ErrorCode::RoomPasswordRequired).await;
    }
    // Ana was in the room when the password came: she is in, and reads on.
    ana.send(&ClientMessage::Search { room: "lobby".into(), query: "secret".into(), before: None, limit: None }).await;
    let found = ana
        .recv_until(|e| match e {
            ServerEvent::SearchResults { messages, .. } => Some(messages.len()),
            ServerEvent::Error(err) => panic!("{err:?}"),
            _ => None,
        })
        .await;
    assert_eq!(found, 1);
}
