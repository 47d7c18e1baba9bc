//! A client written with Python's `websockets` library from docs/PROTOCOL.md alone talks to a Rust client.
//!
//! The Python interpreter comes from `PARLOR_PYTHON` (set by `cargo xtask test`, which installs `websockets` into a
//! virtual environment), else `python3`.

use std::process::Stdio;
use std::time::Duration;

use parlor_protocol::ServerEvent;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::util::TestServer;

#[tokio::test]
async fn a_python_websockets_client_chats_with_a_rust_client() {
    let server = TestServer::start().await;
    let mut rust = server.client("rust").await;
    rust.join("lobby", None).await;

    let python = std::env::var("PARLOR_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/chat_client.py");
    let mut child = Command::new(&python)
        .arg(script)
        .args(["--url", &server.url(), "--nick", "py", "--room", "lobby", "--check-errors"])
        .args(["--send", "hello from python", "--expect-from", "rust", "--expect-text", "hello from rust"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {python} ({err}); run `cargo xtask test`, which sets it up"));

    let from_python = rust
        .recv_until(|e| match e {
            ServerEvent::Message(m) if m.from == "py" => Some(m.text),
            _ => None,
        })
        .await;
    assert_eq!(from_python, "hello from python");
    rust.say("lobby", "hello from rust").await;

    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("python finishes");
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout).await;
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr).await;
    }
    let status = status.expect("exit status");
    assert!(
        status.success() && stdout.lines().last() == Some("INTEROP OK"),
        "python client failed ({status}).\nIf websockets is missing, run `cargo xtask test`.\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// Runs one of `examples/python/` to its end and checks it reported success.
async fn run_example(script: &str, args: &[&str]) {
    let python = std::env::var("PARLOR_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = format!("{}/../examples/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let run = Command::new(&python).arg(&path).args(args).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the script finishes")
        .unwrap_or_else(|err| panic!("cannot run {python} ({err}); run `cargo xtask test`, which sets it up"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.lines().last().is_some_and(|l| l.starts_with("TICKER OK")),
        "{script} failed ({}).\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Collects `count` data events from `from`.
async fn series_from(client: &mut crate::util::Client, from: &str, count: usize) -> Vec<f64> {
    let mut values = Vec::new();
    while values.len() < count {
        let value = client
            .recv_until(|e| match e {
                ServerEvent::Data(data) if data.from == from => data.points.get("random").and_then(|v| v.as_f64()),
                _ => None,
            })
            .await;
        values.push(value);
    }
    values
}

#[tokio::test]
async fn the_python_websockets_ticker_feeds_a_room() {
    let server = TestServer::start().await;
    let mut rust = server.client("rust").await;
    let url = server.url();
    let args = ["--url", url.as_str(), "--room", "lobby", "--count", "5", "--every", "0.05"];
    let script = run_example("ticker_ws.py", &args);
    let (values, ()) = tokio::join!(
        async {
            rust.join("lobby", None).await;
            series_from(&mut rust, "ticker", 5).await
        },
        script
    );
    assert!(values.iter().all(|v| (0.0..1.0).contains(v)), "{values:?}");
}

#[tokio::test]
async fn the_python_http_ticker_posts_with_a_bot_token() {
    let server = TestServer::start().await;
    let token = parlor_server::create_bot_token(server.dir.path(), "sensor").await.expect("a bot token");
    let mut rust = server.client("rust").await;
    rust.join("lobby", None).await;
    let http = format!("http://{}", server.addr());
    let args = ["--server", http.as_str(), "--room", "lobby", "--token", token.as_str()];
    run_example(
        "ticker_http.py",
        &[&args[..], &["--count", "3", "--every", "0.05", "--say", "sensor online"]].concat(),
    )
    .await;
    let said = rust
        .recv_until(|e| match e {
            ServerEvent::Message(m) if m.from == "sensor" => Some(m.text),
            _ => None,
        })
        .await;
    assert_eq!(said, "sensor online");
    assert_eq!(series_from(&mut rust, "sensor", 3).await.len(), 3);
}
