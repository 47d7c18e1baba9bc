//! Bad input gets a coded error and the connection survives; only abuse closes it.

use parlor_protocol::{ClientMessage, ErrorCode};
use parlor_server::ServerLimits;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::util::{Client, TestServer};
use futures_util::SinkExt;

#[tokio::test]
async fn malformed_frames_get_coded_errors_and_the_connection_survives() {
    // Generous rate limits: this test is about each error, not about speed.
    let limits = ServerLimits { rate_per_second: 1000, rate_burst: 1000, ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let cases: &[(&str, ErrorCode)] = &[
        ("{not json", ErrorCode::BadJson),
        ("", ErrorCode::BadJson),
        (r#"{"type":"dance"}"#, ErrorCode::UnknownType),
        (r#"["send","lobby"]"#, ErrorCode::UnknownType),
        (r#"{"room":"lobby"}"#, ErrorCode::UnknownType),
        (r#"{"type":"send","room":"lobby"}"#, ErrorCode::BadMessage),
        (r#"{"type":"join","room":7}"#, ErrorCode::BadMessage),
        (r#"{"type":"join","room":"no/such"}"#, ErrorCode::InvalidRoom),
        (r#"{"type":"send","room":"lobby","text":"  ","client_id":"e1"}"#, ErrorCode::InvalidText),
        (r#"{"type":"send","room":"lobby","text":"ring\u0007","client_id":"e2"}"#, ErrorCode::InvalidText),
        (r#"{"type":"send","room":"lobby","text":"hi","client_id":""}"#, ErrorCode::InvalidClientId),
        (r#"{"type":"send","room":"maths","text":"hi","client_id":"e3"}"#, ErrorCode::NotInRoom),
        (r#"{"type":"history","room":"lobby","before":3,"after":1}"#, ErrorCode::InvalidRange),
    ];
    for (frame, code) in cases {
        ana.send_raw(frame).await;
        let err = ana.expect_error(*code).await;
        assert!(!err.message.is_empty(), "a sentence for people with {code:?}");
        ana.assert_alive().await;
    }

    let long = "x".repeat(4001);
    ana.send(&ClientMessage::Send {
        room: "lobby".into(),
        text: long,
        client_id: "e4".into(),
        poll: None,
        reply_to: None,
        announce: false,
    })
    .await;
    assert_eq!(ana.expect_error(ErrorCode::TextTooLong).await.client_id.as_deref(), Some("e4"));

    ana.send_raw(&format!(r#"{{"type":"ping","nonce":"{}"}}"#, "y".repeat(20_000))).await;
    ana.expect_error(ErrorCode::FrameTooLarge).await;

    ana.ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    ana.expect_error(ErrorCode::BinaryFrame).await;
    ana.assert_alive().await;
    // After all that, chat still works.
    ana.say("lobby", "still here").await;
}

#[tokio::test]
async fn requests_before_hello_are_refused() {
    let server = TestServer::start().await;
    let mut anon = Client::connect(&server.url()).await;
    anon.send(&ClientMessage::Join { room: "lobby".into(), after: None, after_rev: None, password: None }).await;
    anon.expect_error(ErrorCode::HelloRequired).await;
    // A refused send names itself, as every refused send does, so a client can keep it pending.
    anon.send(&ClientMessage::Send {
        room: "lobby".into(),
        text: "early".into(),
        client_id: "h1".into(),
        poll: None,
        reply_to: None,
        announce: false,
    })
    .await;
    let refusal = anon.expect_error(ErrorCode::HelloRequired).await;
    assert_eq!((refusal.client_id.as_deref(), refusal.room.as_deref()), (Some("h1"), Some("lobby")));
    anon.assert_alive().await;
}

#[tokio::test]
async fn a_frame_beyond_the_hard_limit_closes_with_1009() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    // The server may reset the socket while the rest of the frame is still being written; the close still arrives.
    let _ = ana.ws.send(Message::text("z".repeat(2 * 1024 * 1024))).await;
    assert_eq!(ana.expect_close().await, Some(1009));
    // Others are unaffected.
    let mut bo = server.client("bo").await;
    bo.join("lobby", None).await;
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let frame = Frame::message(vec![0xff, 0xfe, 0x7b], OpCode::Data(Data::Text), true);
    ana.ws.send(Message::Frame(frame)).await.expect("send");
    assert_eq!(ana.expect_close().await, Some(1007));
}
