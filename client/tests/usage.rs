//! Everyday use: input checked before anything is queued, pacing under a strict rate limit, requests and replies.

use std::time::Duration;

use parlor_client::{ClientError, ClientEvent};
use parlor_protocol::{ClientMessage, ErrorCode, ServerEvent};
use parlor_server::ServerLimits;

use crate::util::{free_port, url_of, RawClient, TestClient, TestServer};

#[tokio::test]
async fn bad_input_is_refused_before_it_is_queued() {
    let url = url_of(([127, 0, 0, 1], free_port()).into());
    let client = TestClient::start(&url, "ana");
    for (room, text) in [("a b", "hi"), ("lobby", "   "), ("lobby", "bidi \u{202E} trick"), ("@", "hi")] {
        let refused = client.client.send(room, text);
        assert!(matches!(refused, Err(ClientError::InvalidInput(_))), "{room:?} {text:?}: {refused:?}");
    }
    assert!(matches!(client.client.send("lobby", &"x".repeat(4001)), Err(ClientError::InvalidInput(_))));
    assert!(matches!(client.client.leave("@bob"), Err(ClientError::InvalidInput(_))));
    assert!(matches!(client.client.create_room("maths", "two\nlines"), Err(ClientError::InvalidInput(_))));
    assert!(client.client.pending().expect("outbox").is_empty());
    assert_eq!(ClientError::InvalidInput(String::new()).code(), "invalid_input");
    assert!(matches!(
        parlor_client::Client::start(crate::util::config(&url, "a b", std::path::Path::new("/nonexistent")), {
            tokio::sync::mpsc::unbounded_channel().0
        }),
        Err(ClientError::InvalidInput(_))
    ));
    client.client.shutdown().await;
}

#[tokio::test]
async fn a_burst_of_messages_is_paced_under_a_strict_rate_limit() {
    let limits = ServerLimits { rate_per_second: 5, rate_burst: 4, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut bob = RawClient::connect(&server.url(), "bob").await;
    bob.join("lobby").await;
    let mut ana = TestClient::start(&server.url(), "ana");
    ana.client.join("lobby").expect("join");
    let texts: Vec<String> = (1..=12).map(|n| format!("burst {n}")).collect();
    for text in &texts {
        ana.client.send("lobby", text).expect("queued");
    }
    let received = ana.wait_messages("lobby", texts.len(), Duration::from_secs(15)).await;
    assert_eq!(received.iter().map(|m| m.text.clone()).collect::<Vec<_>>(), texts);
    ana.wait_outbox_empty().await;
    let errors: Vec<&ClientEvent> =
        ana.log.iter().filter(|e| matches!(e, ClientEvent::Server { event: ServerEvent::Error(_) })).collect();
    assert!(errors.is_empty(), "{errors:?}");
    ana.client.shutdown().await;
}

#[tokio::test]
async fn requests_get_their_replies_and_refusals_are_forwarded() {
    let server = TestServer::start().await;
    let mut ana = TestClient::start(&server.url(), "ana");
    ana.wait_online().await;
    ana.client.create_room("Maths", "Fractions").expect("online");
    ana.wait_for("room_created", |e| match e {
        ClientEvent::Server { event: ServerEvent::RoomCreated(room) } => (room.room == "maths").then_some(()),
        _ => None,
    })
    .await;
    ana.join("maths").await;
    ana.client.set_topic("maths", "Exam on Friday").expect("online");
    ana.client.who("maths").expect("online");
    ana.client.list_rooms().expect("online");
    ana.wait_for("members", |e| match e {
        ClientEvent::Server { event: ServerEvent::Members { members, .. } } => Some(members.clone()),
        _ => None,
    })
    .await;
    ana.wait_for("room list", |e| {
        matches!(e, ClientEvent::Server { event: ServerEvent::RoomList { .. } }).then_some(())
    })
    .await;
    // A message to someone the server never saw is refused for good: dropped from the outbox, error forwarded.
    let client_id = ana.client.send("@nobody", "hello?").expect("queued");
    let code = ana
        .wait_for("the refusal", |e| match e {
            ClientEvent::Server { event: ServerEvent::Error(error) }
                if error.client_id.as_ref() == Some(&client_id) =>
            {
                Some(error.code)
            }
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::NoSuchUser);
    ana.wait_outbox_empty().await;
    ana.client.shutdown().await;
}

#[tokio::test]
async fn messages_written_faster_than_slow_mode_allows_go_out_as_the_room_allows() {
    let server = TestServer::start().await;
    let mut teacher = RawClient::connect(&server.url(), "teacher").await;
    let token = std::fs::read_to_string(server.dir.path().join(parlor_server::MODERATOR_TOKEN_FILE)).expect("token");
    teacher.send(&ClientMessage::Moderate { token: token.into() }).await;
    teacher.recv_until(|e| matches!(e, ServerEvent::Moderating).then_some(())).await;
    teacher.join("lobby").await;
    teacher.send(&ClientMessage::SlowMode { room: "lobby".into(), seconds: 1 }).await;
    teacher.recv_until(|e| matches!(e, ServerEvent::RoomState(_)).then_some(())).await;

    let mut ana = TestClient::start(&server.url(), "ana");
    ana.client.join("lobby").expect("join");
    let texts = ["one", "two", "three"];
    for text in texts {
        ana.client.send("lobby", text).expect("queued");
    }
    // Each refusal says when to retry; the client waits that long and sends the same message again.
    let received = ana.wait_messages("lobby", texts.len(), Duration::from_secs(15)).await;
    assert_eq!(received.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), texts);
    ana.wait_outbox_empty().await;
    let slowed = ana
        .log
        .iter()
        .filter(
            |e| matches!(e, ClientEvent::Server { event: ServerEvent::Error(err) } if err.code == ErrorCode::SlowMode),
        )
        .count();
    assert!(slowed >= 2, "the server held back the second and third message ({slowed} refusals)");
    ana.client.shutdown().await;
}
