//! Endpoints, timeouts and shutdown.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parlor_server::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::util::{Client, TestServer};

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test]
async fn health_reports_status_and_connections() {
    let server = TestServer::start().await;
    let _ana = server.client("ana").await;
    let response = http_get(server.addr(), "/health").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).expect("a body");
    let health: serde_json::Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["protocol"], 1);
    assert_eq!(health["connections"], 1);
    assert!(http_get(server.addr(), "/nope").await.starts_with("HTTP/1.1 404"));
    assert!(http_get(server.addr(), "/ws").await.starts_with("HTTP/1.1 426"));
}

#[tokio::test]
async fn echo_returns_every_frame() {
    let server = TestServer::start().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/echo", server.addr())).await.expect("connect");
    for message in [Message::text("hello"), Message::binary(vec![0u8, 1, 2]), Message::text("{\"any\":1}")] {
        ws.send(message.clone()).await.expect("send");
        let back = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("in time");
        assert_eq!(back.expect("open").expect("frame"), message);
    }
}

#[tokio::test]
async fn a_connection_without_hello_is_closed_with_4000() {
    let limits = ServerLimits { hello_timeout: Duration::from_millis(300), ..ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut silent = Client::connect(&server.url()).await;
    assert_eq!(silent.expect_close().await, Some(4000));
}

#[tokio::test]
async fn a_silent_connection_is_closed_with_4002() {
    let limits = ServerLimits {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(400),
        ..ServerLimits::default()
    };
    let server = TestServer::with_limits(limits).await;
    let mut quiet = server.client("quiet").await;
    // Not reading means not answering pings either.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(quiet.expect_close().await, Some(4002));
}

#[tokio::test]
async fn shutdown_says_going_away_and_keeps_what_was_acked() {
    let mut server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let seq = ana.say("lobby", "last words").await;
    server.stop().await;
    assert_eq!(ana.expect_close().await, Some(1001));
    server.restart_stopped().await;
    let mut bo = server.client("bo").await;
    assert_eq!(bo.join("lobby", None).await.last_seq, seq);
}

#[tokio::test]
async fn a_student_finds_the_server_by_its_join_code() {
    use parlor_client::join_code;

    let server = crate::util::TestServer::start().await;
    let running = server.running();
    let code = running.join_code().expect("a join code").to_owned();
    let target = running.join_code_addr().expect("answered somewhere");
    let link = join_code::find(&parlor_protocol::join_code::display(&code).to_lowercase(), &[target], join_code::WAIT)
        .await
        .expect("the server answers its code");
    assert_eq!(link, server.url(), "the link is built from where the answer came from");
    let wrong = if code == "AAAAAA" { "BBBBBB" } else { "AAAAAA" };
    let missing = join_code::find(wrong, &[target], std::time::Duration::from_millis(300)).await;
    assert!(matches!(missing, Err(parlor_client::ClientError::InvalidInput(m)) if m.contains("no server")));
}
