//! The real `parlor-server` binary as a child process: it can be SIGKILLed mid-work, restarted on the same port and
//! data directory, and its memory read from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::util::WAIT;

/// A running `parlor-server` process.
pub struct ServerProcess {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    data_dir: PathBuf,
    args: Vec<String>,
}

impl ServerProcess {
    /// Starts the binary on `port` (0: any free one) with `args` added, retrying while the port is briefly busy.
    pub async fn start(data_dir: &Path, port: u16, args: &[&str]) -> Self {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        for _ in 0..50 {
            if let Some(server) = Self::try_start(data_dir, port, &args).await {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("parlor-server did not start on port {port}");
    }

    async fn try_start(data_dir: &Path, port: u16, args: &[String]) -> Option<Self> {
        // The server's log goes to a file beside its data, so a panic can be looked for afterwards.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path(data_dir)).expect("log file");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor-server"))
            .args(["--bind", &format!("127.0.0.1:{port}"), "--log-level", "warn", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env_remove("PARLOR_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("parlor-server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        // "Parlor server listening on ws://ADDR/ws (history in …)"; nothing (EOF) means it could not bind.
        let line =
            tokio::time::timeout(WAIT, BufReader::new(stdout).lines().next_line()).await.expect("starts in time");
        let Ok(Some(line)) = line else {
            let _ = child.wait().await;
            return None;
        };
        let addr = line
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split("/ws").next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Some(Self { child, addr, data_dir: data_dir.to_path_buf(), args: args.to_vec() })
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// SIGKILL: no close frames, no shutdown, nothing flushed beyond what SQLite already wrote.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }

    /// Starts again with the same arguments, port and data directory.
    pub async fn restart(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        *self = Self::start(&self.data_dir.clone(), self.addr.port(), &args).await;
    }

    /// The resident set size of the process now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// Everything the server logged so far (warnings and worse).
    pub fn log(&self) -> String {
        std::fs::read_to_string(log_path(&self.data_dir)).unwrap_or_default()
    }
}

/// The resident set size of process `pid` now, in KiB (`VmRSS` in `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in kB")
}

fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server.log")
}

/// The number of open WebSocket connections, from `GET /health`.
pub async fn health_connections(addr: SocketAddr) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect for /health");
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send the request");
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response)).await.expect("answered in time").expect("read");
    let body = response.split("\r\n\r\n").nth(1).expect("a body");
    let health: serde_json::Value = serde_json::from_str(body).expect("JSON health");
    health["connections"].as_u64().expect("a connection count")
}

/// Polls `/health` until no WebSocket connection is open, failing after [`WAIT`].
pub async fn wait_no_connections(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let open = health_connections(addr).await;
        if open == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{open} connections still open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
