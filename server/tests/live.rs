//! Live data and bots: `publish` over WebSocket, the recent points a late joiner gets, the HTTP API with a bot
//! token (text and points), and the demo ticker and echo bots against a real server.

use std::time::Duration;

use parlor_protocol::{ClientMessage, DataPoints, ErrorCode, Points, ServerEvent};
use parlor_server::demo::{self, BotOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{Client, TestServer};

fn points(pairs: &[(&str, i64)]) -> Points {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).into())).collect()
}

fn publish(room: &str, pairs: &[(&str, i64)]) -> ClientMessage {
    ClientMessage::Publish { room: room.into(), points: points(pairs) }
}

async fn data(client: &mut Client) -> DataPoints {
    client
        .recv_until(|e| match e {
            ServerEvent::Data(data) => Some(data),
            ServerEvent::Error(err) => panic!("refused: {err:?}"),
            _ => None,
        })
        .await
}

/// One HTTP/1.1 POST with a JSON body; returns the status and the body as JSON.
async fn post(server: &TestServer, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn published_points_reach_the_room_and_a_late_joiner_gets_the_recent_ones() {
    let server = TestServer::start().await;
    let mut sensor = server.client("sensor").await;
    let mut ana = server.client("ana").await;
    sensor.join("lobby", None).await;
    ana.join("lobby", None).await;
    for n in 0..3 {
        sensor.send(&publish("lobby", &[("temp", 20 + n), ("count", n)])).await;
        let got = data(&mut ana).await;
        assert_eq!((got.from.as_str(), got.points.clone()), ("sensor", points(&[("temp", 20 + n), ("count", n)])));
    }
    let mut late = server.client("late").await;
    late.join("lobby", None).await;
    let mut recent = Vec::new();
    for _ in 0..3 {
        recent.push(data(&mut late).await.points["temp"].as_i64());
    }
    assert_eq!(recent, [Some(20), Some(21), Some(22)], "the recent points follow joined, oldest first");
}

#[tokio::test]
async fn bad_points_outsiders_and_locked_rooms_are_refused() {
    let server = TestServer::start().await;
    let mut teacher = server.moderator("teacher").await;
    let mut ana = server.client("ana").await;
    ana.send(&publish("lobby", &[("x", 1)])).await;
    ana.expect_error(ErrorCode::NotInRoom).await;
    ana.join("lobby", None).await;
    teacher.join("lobby", None).await;
    for bad in [
        ClientMessage::Publish { room: "lobby".into(), points: Points::new() },
        publish("lobby", &[("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1), ("f", 1), ("g", 1), ("h", 1), ("i", 1)]),
        publish("lobby", &[("two\nlines", 1)]),
        publish("@teacher", &[("x", 1)]),
    ] {
        ana.send(&bad).await;
        let refused = ana.recv_until(|e| if let ServerEvent::Error(err) = e { Some(err) } else { None }).await;
        assert!(matches!(refused.code, ErrorCode::InvalidData | ErrorCode::InvalidRoom), "{refused:?}");
    }
    ana.send_raw(r#"{"type":"publish","room":"lobby","points":{"nan":"not a number"}}"#).await;
    ana.expect_error(ErrorCode::BadMessage).await;
    teacher.send(&ClientMessage::LockRoom { room: "lobby".into(), seconds: None }).await;
    ana.recv_until(|e| matches!(e, ServerEvent::RoomState(_)).then_some(())).await;
    ana.send(&publish("lobby", &[("x", 1)])).await;
    ana.expect_error(ErrorCode::RoomLocked).await;
    teacher.send(&publish("lobby", &[("x", 2)])).await;
    assert_eq!(data(&mut ana).await.from, "teacher", "moderators still publish");
}

#[tokio::test]
async fn a_bot_token_posts_text_and_points_over_http() {
    let server = TestServer::start().await;
    let token = parlor_server::create_bot_token(server.dir.path(), "Ticker").await.expect("a bot token");
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;

    let (status, body) = post(
        &server,
        "/api/v1/rooms/lobby/messages",
        Some(&token),
        r#"{"text":"hello from a script","client_id":"s-1"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let seq = body["seq"].as_u64().expect("the stored seq");
    let message = ana
        .recv_until(|e| match e {
            ServerEvent::Message(m) => Some(m),
            _ => None,
        })
        .await;
    assert_eq!((message.seq, message.from.as_str(), message.text.as_str()), (seq, "Ticker", "hello from a script"));
    let (again, repeat) = post(
        &server,
        "/api/v1/rooms/lobby/messages",
        Some(&token),
        r#"{"text":"hello from a script","client_id":"s-1"}"#,
    )
    .await;
    assert_eq!((again, repeat["seq"].as_u64()), (200, Some(seq)), "a retried POST is not stored twice");

    let (status, _) =
        post(&server, "/api/v1/rooms/lobby/messages", Some(&token), r#"{"points":{"random":0.25}}"#).await;
    assert_eq!(status, 202);
    let got = data(&mut ana).await;
    assert_eq!((got.from.as_str(), got.points["random"].as_f64()), ("Ticker", Some(0.25)));

    for (token, path, body, status, code) in [
        (None, "/api/v1/rooms/lobby/messages", r#"{"text":"x"}"#, 401, "sign_in_required"),
        (Some("not-a-token"), "/api/v1/rooms/lobby/messages", r#"{"text":"x"}"#, 401, "wrong_credentials"),
        (Some(token.as_str()), "/api/v1/rooms/nowhere/messages", r#"{"text":"x"}"#, 404, "no_such_room"),
        (Some(token.as_str()), "/api/v1/rooms/lobby/messages", r#"{"text":"x","points":{"a":1}}"#, 400, "bad_message"),
        (Some(token.as_str()), "/api/v1/rooms/lobby/messages", "not json", 400, "bad_message"),
        (Some(token.as_str()), "/api/v1/rooms/lobby/messages", r#"{"text":"\u202e"}"#, 400, "invalid_text"),
        (Some(token.as_str()), "/api/v1/rooms/lobby/messages", r#"{"points":{}}"#, 400, "invalid_data"),
    ] {
        let (got, body) = post(&server, path, token, body).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path} {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "every refusal says why");
    }
    ana.assert_alive().await;
}

#[tokio::test]
async fn the_demo_ticker_feeds_a_chart_and_the_echo_bot_answers() {
    let server = TestServer::start().await;
    let options = |nick: &str| BotOptions { url: server.url(), room: "Lab".into(), nick: nick.into(), token: None };
    let (stop_ticker, stopped) = tokio::sync::oneshot::channel::<()>();
    let ticker = tokio::spawn(demo::ticker(options("ticker"), Duration::from_millis(50), async {
        let _ = stopped.await;
    }));
    let mut ana = server.client("ana").await;
    // The ticker creates the room; wait until it exists.
    loop {
        ana.send(&ClientMessage::Join { room: "lab".into(), after: None, after_rev: None, password: None }).await;
        let outcome = ana
            .recv_until(|e| match e {
                ServerEvent::Joined(_) => Some(true),
                ServerEvent::Error(err) if err.code == ErrorCode::NoSuchRoom => Some(false),
                _ => None,
            })
            .await;
        if outcome {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut values = Vec::new();
    while values.len() < 5 {
        let got = data(&mut ana).await;
        assert_eq!(got.from, "ticker");
        values.push(got.points["random"].as_f64().expect("a number"));
        assert!(got.points.contains_key("walk"));
    }
    assert!(values.iter().all(|v| (0.0..1.0).contains(v)), "{values:?}");
    assert!(values.windows(2).any(|w| w[0] != w[1]), "random values vary: {values:?}");
    let _ = stop_ticker.send(());
    ticker.await.expect("ticker task").expect("the ticker stops cleanly");

    let echo = tokio::spawn(demo::echo(options("echo"), std::future::pending()));
    ana.recv_until(|e| matches!(e, ServerEvent::MemberJoined { nick, .. } if nick == "echo").then_some(())).await;
    let seq = ana.say("lab", "is anyone there?").await;
    let answer = ana
        .recv_until(|e| match e {
            ServerEvent::Message(m) if m.from == "echo" => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(answer.text, "echo: is anyone there?");
    assert_eq!(answer.reply_to.map(|q| q.seq), Some(seq), "the echo replies to the message");
    echo.abort();
}
