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
